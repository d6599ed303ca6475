// `calibrate`: fit cache plans for a model directory with onnxruntime-node (calibrateModel),
// write them to <dir>/plans/ and list them in <dir>/manifest.json.

import type { CachePlan, VariantError } from '../cache/plan.ts';
import { calibrateModel, type CalibrateOptions } from '../calibrate/calibrate.ts';
import { loadNodeModel } from '../backend/node-model.ts';
import type { ModelManifest, PlanEntry } from '../manifest/types.ts';
import { UsageError } from './args.ts';
import { CALIBRATE_USAGE, type CalibrateArgs } from './calibrate-args.ts';
import { addPlansToManifest, writePlanFile } from './plan-files.ts';

/** One written plan in the --json report. */
export interface PlanSummary {
  file: string;
  kind: string;
  budget: number;
  computedSteps: number;
  space?: string;
  lambda?: number; // ERTACache threshold λ
  reuse?: number[]; // ERTACache reuse set S
  delta?: number; // TeaCache / MagCache threshold δ
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

function checkAgainstModel(args: CalibrateArgs, m: ModelManifest, steps: number): void {
  const tooBig = args.budgets.filter((b) => b > steps);
  if (tooBig.length > 0) throw new UsageError(`--budget ${tooBig.join(', ')} exceeds --steps ${steps}`, CALIBRATE_USAGE);
  const badLabels = (args.labels ?? []).filter((l) => l >= m.conditioning.classes);
  if (badLabels.length > 0) {
    throw new UsageError(`--labels ${badLabels.join(', ')}: ${m.name} has classes 0-${m.conditioning.classes - 1}`, CALIBRATE_USAGE);
  }
}

function calibrateOptions(args: CalibrateArgs, m: ModelManifest, steps: number, log: (line: string) => void): CalibrateOptions {
  const o: CalibrateOptions = {
    modelHash: m.modelHash,
    steps,
    shift: m.scheduler.shift,
    guidance: args.guidance ?? m.scheduler.defaultGuidance,
    budgets: args.budgets,
    xDims: [1, m.latent.channels, m.latent.height, m.latent.width],
    nullLabel: m.conditioning.nullLabel,
    timeMode: args.timeMode,
    evaluate: args.evaluate,
    pixelRange: m.preview.from,
    onProgress: log,
  };
  if (args.seeds) o.seeds = args.seeds;
  if (args.labels) o.labels = args.labels;
  if (args.spaces) o.spaces = args.spaces;
  if (args.phi !== 'paper') o.phiMode = args.phi;
  return o;
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

export async function runCalibrate(args: CalibrateArgs, log: (line: string) => void): Promise<CalibrateReport> {
  const t0 = performance.now();
  const sessionOptions = args.threads === undefined ? undefined : { intraOpNumThreads: args.threads };
  const model = await loadNodeModel(args.model, { graphs: 'split', sessionOptions });
  try {
    const m = model.manifest;
    const steps = args.steps ?? m.scheduler.defaultSteps;
    checkAgainstModel(args, m, steps);
    const options = calibrateOptions(args, m, steps, log);
    const result = await calibrateModel(model.denoiser, model.ops, options);
    const plans: CachePlan[] = [...result.ertacache, ...result.teacache, ...result.magcache];
    const entries: PlanEntry[] = [];
    for (const plan of plans) entries.push(await writePlanFile(args.model, plan));
    await addPlansToManifest(args.model, entries);
    return {
      model: args.model,
      modelHash: m.modelHash,
      steps,
      guidance: options.guidance,
      samples: plans[0]?.calibration.samples ?? 0,
      ms: Math.round(performance.now() - t0),
      plans: plans.map((p, k) => summarize(entries[k]!.file, p)),
    };
  } finally {
    await model.release();
  }
}

function describeError(error: Record<string, VariantError>): string {
  const parts = Object.entries(error).map(
    ([k, e]) => `${k}: L1 ${e.l1.toPrecision(3)}, PSNR ${e.psnr === null ? '∞' : e.psnr.toFixed(2)} dB`,
  );
  return parts.length > 0 ? parts.join('; ') : 'not evaluated';
}

/** The human-readable summary printed without --json. */
export function describeCalibration(r: CalibrateReport): string {
  const lines = [`${r.plans.length} plans for ${r.model} (${r.steps} steps, guidance ${r.guidance}, ${r.samples} samples, ${r.ms} ms):`];
  for (const p of r.plans) {
    const knob = p.lambda !== undefined ? `λ = ${p.lambda.toPrecision(4)}, S = [${p.reuse?.join(',')}]` : `δ = ${p.delta?.toPrecision(4)}`;
    lines.push(`  ${p.file}: ${p.computedSteps} computed (budget ${p.budget}), ${knob}`);
    lines.push(`    calibration error — ${describeError(p.error)}`);
  }
  return lines.join('\n');
}
