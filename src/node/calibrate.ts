// calibrate(): fit cache plans for a model directory with onnxruntime-node (calibrateModel),
// write them to <dir>/plans/ and list them in <dir>/manifest.json. `npm run calibrate`
// (src/cli/calibrate.ts) is a thin adapter over it.

import type { CachePlan, VariantError } from '../cache/plan.ts';
import { loadNodeModel } from '../backend/node-model.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { ModelManifest, PlanEntry, RectificationSpace } from '../manifest/types.ts';
import { addPlansToManifest, writePlanFile } from '../cli/plan-files.ts';
import { classConditioning } from '../manifest/conditioning.ts';
import { calibrationOptionsFor, fitModelPlans } from '../runtime/calibration.ts';
import { bindCalibrationPrompts } from './calibration-prompts.ts';
import { checkEmbeddedGuidance } from '../runtime/conditioning.ts';
import { checkInt, checkNumber, checkOneOf, OptionError, PACKAGED_MODEL_DIR } from './options.ts';

/** What to calibrate. Only `budgets` is required. */
export interface NodeCalibrateOptions {
  /** Model directory (written to: plans/ and manifest.json). Default: the packaged model. */
  model?: string;
  /** Computed steps per plan, each in [2, steps]; one plan per budget and policy. */
  budgets: number[];
  /** Sampling steps the plans are for (default: the manifest's scheduler.defaultSteps). */
  steps?: number;
  /** Calibration noise seeds (default [0, 1]; the evaluation seeds 1000–1009 are refused). */
  seeds?: number[];
  /** Class models: classes in the calibration batch (default: every class). */
  labels?: number[];
  /** Text models: a file of calibration prompts (JSON array or one a line). Default: the manifest's calibrationPrompts. */
  prompts?: string;
  /** CFG weight to calibrate at (default: the manifest's). */
  guidance?: number;
  /** Guidance-distilled models (a guidance input, Flux dev style): the guidance scale to calibrate at (default: the manifest's). */
  embeddedGuidance?: number;
  /** Where ERTACache's rectification is fitted, one plan each (default ['output']). */
  spaces?: RectificationSpace[];
  /** Default 'actual'; must match the runtime's. */
  timeMode?: TimeMode;
  /**
   * How ERTACache's step factor φ is chosen: 'search' (default: direct search of PSNR on the
   * calibration seeds, with the time rule), 'paper' (the paper's formula) or the 'lsq' experiment.
   */
  phi?: 'search' | 'paper' | 'lsq';
  /** Coordinate-descent sweeps of per-step φ after the grid search (default 1). */
  sweeps?: number;
  /** Runs of consecutive reused steps one φ move covers (default 4; ≥ the reused-step count: one φ per step). */
  phiGroups?: number;
  /** Passes of ertacache's reuse-set search by the final image (default 1; 0 keeps the λ threshold's set). */
  reusePasses?: number;
  /** ERTACache's ramp stage: φ linear over the reused steps, on the λ set and the forecast's (default false). */
  phiRamps?: boolean;
  /** Also calibrate the residual forecast (policy 'ertacache-forecast'). Default true. */
  forecast?: boolean;
  /** Measure each plan's error with the real sampler (default true; false is faster). */
  evaluate?: boolean;
  /** Also fit the TeaCache, MagCache and EasyCache plans (default true; false: ERTACache only). */
  peers?: boolean;
  /** Fit the ERTACache plans (default true; false: only the peers', ERTACache's plans left as they are). */
  ertacache?: boolean;
  /** onnxruntime-node intra-op threads. */
  threads?: number;
  /** Progress lines (profiling, search, fits). */
  onProgress?: (line: string) => void;
}

/** One written plan. */
export interface PlanSummary {
  file: string;
  kind: string;
  budget: number;
  computedSteps: number;
  space?: string;
  /** ERTACache threshold λ. */
  lambda?: number;
  /** ERTACache reuse set S. */
  reuse?: number[];
  /** TeaCache / MagCache / EasyCache threshold δ. */
  delta?: number;
  error: Record<string, VariantError>;
}

export interface CalibrateReport {
  model: string;
  modelHash: string;
  steps: number;
  guidance: number;
  samples: number;
  ms: number;
  plans: PlanSummary[];
}

function checkOptions(o: NodeCalibrateOptions): void {
  if (!Array.isArray(o.budgets) || o.budgets.length === 0) throw new OptionError('budgets', 'must list at least one budget (e.g. [25] for 25 computed steps of 50)');
  o.budgets.forEach((b) => checkInt('budgets', b, 2));
  checkInt('steps', o.steps, 2, 10_000);
  o.seeds?.forEach((s) => checkInt('seeds', s, 0, 2 ** 32 - 1));
  o.labels?.forEach((l) => checkInt('labels', l, 0));
  checkNumber('guidance', o.guidance);
  checkNumber('embeddedGuidance', o.embeddedGuidance);
  o.spaces?.forEach((s) => checkOneOf('spaces', s, ['output', 'hidden']));
  checkOneOf('timeMode', o.timeMode, ['actual', 'nominal']);
  checkOneOf('phi', o.phi, ['search', 'paper', 'lsq']);
  checkInt('threads', o.threads, 1, 1024);
  checkInt('sweeps', o.sweeps, 0, 20);
  checkInt('phiGroups', o.phiGroups, 1);
  checkInt('reusePasses', o.reusePasses, 0, 100);
  if (o.ertacache === false && o.peers === false) {
    throw new OptionError('ertacache', 'and peers are both false: nothing to calibrate', 'leave one of them on');
  }
}

function checkAgainstModel(o: NodeCalibrateOptions, m: ModelManifest, steps: number): void {
  const tooBig = o.budgets.filter((b) => b > steps);
  if (tooBig.length > 0) throw new OptionError('budgets', `${tooBig.join(', ')} exceeds steps ${steps}`);
  if (m.conditioning.type === 'text') {
    if (o.labels !== undefined) throw new OptionError('labels', `cannot be used: ${m.name} is text-conditioned`, 'pass calibration prompts instead (--prompts FILE)');
    return;
  }
  if (o.prompts !== undefined) throw new OptionError('prompts', `cannot be used: ${m.name} is class-conditional`, 'pass labels instead');
  const badLabels = (o.labels ?? []).filter((l) => l >= classConditioning(m, 'calibration on labels').classes);
  if (badLabels.length > 0) {
    throw new OptionError('labels', `${badLabels.join(', ')}: ${m.name} has classes 0-${classConditioning(m, 'calibration on labels').classes - 1}`);
  }
}

function summarize(file: string, plan: CachePlan): PlanSummary {
  const s: PlanSummary = {
    file,
    kind: plan.kind,
    budget: plan.budget,
    computedSteps: plan.computedSteps,
    error: plan.calibration.error,
  };
  if (plan.kind === 'ertacache') {
    Object.assign(s, { lambda: plan.lambda, reuse: plan.reuse });
    if (plan.rectification) s.space = plan.rectification.space;
  } else {
    s.delta = plan.delta;
  }
  return s;
}

/**
 * Fits ERTACache (with its residual forecast), TeaCache, MagCache and EasyCache plans per budget
 * on full-compute trajectories, writes
 * them to `<model>/plans/` and lists them in `<model>/manifest.json` (rewritten atomically).
 *
 * @example
 * ```ts
 * import { calibrate } from 'erta-diffusion/node';
 * const r = await calibrate({ model: './my-model', steps: 20, budgets: [10] });
 * console.log(r.plans.map((p) => p.file));
 * ```
 */
export async function calibrate(options: NodeCalibrateOptions): Promise<CalibrateReport> {
  checkOptions(options);
  const t0 = performance.now();
  const dir = options.model ?? PACKAGED_MODEL_DIR;
  const sessionOptions = options.threads === undefined ? undefined : { intraOpNumThreads: options.threads };
  const model = await loadNodeModel(dir, { graphs: 'split', sessionOptions });
  try {
    const m = model.manifest;
    const steps = options.steps ?? m.scheduler.defaultSteps;
    checkAgainstModel(options, m, steps);
    if (options.embeddedGuidance !== undefined && m.conditioning.type !== 'text') checkEmbeddedGuidance(options.embeddedGuidance, m); // UNSUPPORTED
    const text = m.conditioning.type === 'text' ? await bindCalibrationPrompts(model, dir, options.prompts, options.embeddedGuidance) : null;
    text?.warnings.forEach((w) => options.onProgress?.(`warning: ${w}`));
    if (text) options.onProgress?.(`calibrating on ${text.prompts.length} prompts (labels 0-${text.prompts.length - 1}; ${text.nullLabel} = the negative prompt)`);
    const c = calibrationOptionsFor(m, { ...options, steps, onProgress: options.onProgress ?? (() => {}) }, text);
    // The same fit as the browser's api.calibrate() (src/runtime/calibration.ts).
    const plans: CachePlan[] = await fitModelPlans(m, text?.denoiser ?? model.denoiser, model.ops, c);
    const entries: PlanEntry[] = [];
    for (const plan of plans) entries.push(await writePlanFile(dir, plan));
    await addPlansToManifest(dir, entries);
    return {
      model: dir,
      modelHash: m.modelHash,
      steps,
      guidance: c.guidance,
      samples: plans[0]?.calibration.samples ?? 0,
      ms: Math.round(performance.now() - t0),
      plans: plans.map((p, k) => summarize(entries[k]!.file, p)),
    };
  } finally {
    await model.release();
  }
}
