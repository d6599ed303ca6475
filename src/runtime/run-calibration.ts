// calibrate(): a plan for the loaded model fitted in the worker with the Node calibration's code
// (src/runtime/calibration.ts over src/calibrate), then kept in the plan store (IndexedDB in the
// browser). The request is checked against the model first (typed errors, nothing started);
// a cancel stops the fit before its next transformer pass, and the plan is written only once
// the fit is complete, in one IndexedDB transaction: a cancelled or failed run leaves nothing.

import type { CachePlan } from '../cache/plan.ts';
import { BadInputError, ConditioningError, UnsupportedError } from '../core/errors.ts';
import type { Denoiser } from '../core/types.ts';
import { manifestError } from '../manifest/errors.ts';
import type { ModelManifest, PlanEntry } from '../manifest/types.ts';
import { resolveModelFile } from '../manifest/validate.ts';
import type { RuntimeBackend } from '../backend/runtime-backend.ts';
import { storedPlanKey, type PlanStore, type StoredPlan } from '../storage/plan-store.ts';
import type { CalibrateRequest, CalibrateResult, CalibrationEvent } from './api.ts';
import { bindPromptBatch, calibrationCancelled, calibrationOptionsFor, cancellable, fitModelPlans } from './calibration.ts';
import type { LoadedModel } from './load-model.ts';
import { pacedByStep } from './pacing.ts';

export interface CalibrationContext<T> {
  backend: RuntimeBackend<T>;
  model: LoadedModel<T>;
  /** The manifest URL the model was loaded from (recorded with the stored plan). */
  manifestUrl: string;
  store: PlanStore | null;
  jobId: string;
  isCancelled: () => boolean;
  emit: (e: CalibrationEvent) => void;
}

/** Browser plans first; a manifest plan for the same kind, steps, budget, space and φ fit is hidden by it. */
export function mergePlanEntries(manifest: readonly PlanEntry[], browser: readonly PlanEntry[]): PlanEntry[] {
  const same = (a: PlanEntry, b: PlanEntry) => a.kind === b.kind && a.steps === b.steps && a.budget === b.budget
    && (a.space ?? 'output') === (b.space ?? 'output') && (a.phi ?? 'paper') === (b.phi ?? 'paper');
  return [...browser.map((p) => ({ ...p })), ...manifest.filter((p) => !browser.some((b) => same(b, p))).map((p) => ({ ...p }))];
}

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string');

async function promptList<T>(ctx: CalibrationContext<T>, m: ModelManifest, file: string, what: string): Promise<string[]> {
  const { json } = await ctx.backend.loadJson(resolveModelFile(m.baseUrl, file, m.fileOrigins), 'prompts', {});
  if (!stringList(json)) {
    throw manifestError('MANIFEST_FIELD_INVALID', `${what} ${file} is not a JSON array of prompts`, 'write it as ["a red apple", …]');
  }
  return json;
}

/** Checks the request against the loaded model before anything runs. */
function checkAgainstModel(req: CalibrateRequest, m: ModelManifest, mode: string, steps: number): void {
  if (mode !== 'split') {
    throw new UnsupportedError(`${m.name} is loaded as a single graph: calibration needs the split graphs (embed | blocks | head)`,
      "load() it with graphs: 'split' (the default)");
  }
  if (req.budget > steps) {
    throw new BadInputError(`budget ${req.budget} is more than the run's ${steps} steps`,
      `use a budget in [2, ${steps}]: the computed steps of the plan (first and last always compute)`);
  }
  const c = m.conditioning;
  if (c.type === 'class') {
    if (req.prompts !== undefined) throw new ConditioningError(`${m.name} is class-conditional: calibrate it on labels, not prompts`, 'pass labels (or none: every class)');
    const bad = (req.labels ?? []).filter((l) => l >= c.classes);
    if (bad.length > 0) throw new BadInputError(`labels ${bad.join(', ')}: ${m.name} has classes 0–${c.classes - 1}`, `use labels in [0, ${c.classes - 1}]`);
  } else if (req.labels !== undefined) {
    throw new ConditioningError(`${m.name} is text-conditioned: calibrate it on prompts, not labels`, 'pass prompts (or none: the manifest\'s calibration prompts)');
  }
}

export async function runCalibration<T>(ctx: CalibrationContext<T>, req: CalibrateRequest): Promise<CalibrateResult> {
  const t0 = performance.now();
  const { manifest: m, open } = ctx.model;
  const steps = req.steps ?? m.scheduler.defaultSteps;
  const policy = req.policy ?? 'ertacache';
  const space = req.space ?? 'output';
  checkAgainstModel(req, m, ctx.model.mode, steps);
  const warnings: string[] = [];
  let passes = 0;
  let storing = false;
  const event = (message: string) => ctx.emit({
    type: 'calibration', jobId: ctx.jobId, phase: storing ? 'store' : passes <= steps ? 'profile' : 'fit', message, passes, profileSteps: steps,
  });

  let denoiser: Denoiser<T> = open.denoiser;
  let text: { labels: number[]; nullLabel: number } | null = null;
  if (m.conditioning.type === 'text') {
    if (!open.pipeline || !ctx.model.tokenizer) throw new BadInputError(`${m.name}: the text pipeline is not loaded`, 'load() the model again');
    let prompts = req.prompts;
    if (prompts === undefined) {
      if (!m.calibrationPrompts) {
        throw new BadInputError(`${m.name} ships no calibrationPrompts list`, 'pass prompts: ["…", …] (a few prompts like the ones the model will see)');
      }
      prompts = await promptList(ctx, m, m.calibrationPrompts, 'calibrationPrompts');
    }
    const held = m.evaluationPrompts ? await promptList(ctx, m, m.evaluationPrompts, 'evaluationPrompts') : null;
    const bound = await bindPromptBatch(m, ctx.model.tokenizer, open.pipeline, prompts, held, req.embeddedGuidance);
    warnings.push(...bound.warnings);
    denoiser = bound.denoiser;
    text = bound;
  }
  const options = calibrationOptionsFor(m, {
    steps, budgets: [req.budget], spaces: [space],
    ...(req.seeds ? { seeds: req.seeds } : {}), ...(req.labels ? { labels: req.labels } : {}),
    ...(req.guidance !== undefined ? { guidance: req.guidance } : {}),
    // ertacache alone, as `npm run calibrate` fits it (with its forecast); a peer policy skips
    // ERTACache's search (calibrateModel fits the peers from the same profile).
    peers: policy !== 'ertacache', ertacache: policy === 'ertacache', forecast: policy === 'ertacache' && req.forecast !== false, evaluate: req.evaluate ?? true,
    onProgress: event,
  }, text);
  // Paced as a generation is (pacing.ts): ORT's WASM runs never return to the event loop, so
  // without a yield per pass the worker would not see cancel() until the whole fit is over.
  const wrapped = cancellable(pacedByStep(denoiser, open.ops.sync?.bind(open.ops)), ctx.isCancelled, () => {
    passes++;
    if (passes <= steps) event(`profiling: transformer pass ${passes} of ${steps}`);
  });
  const plans = await fitModelPlans(m, wrapped, open.ops, options);
  const plan = plans.find((p) => p.kind === policy && (p.kind !== 'ertacache' || (p.rectification?.space ?? 'output') === space));
  if (!plan) throw new UnsupportedError(`calibration produced no ${policy} plan`, 'unexpected; please report it');
  // The fit is done but no longer wanted: write nothing.
  if (ctx.isCancelled()) throw calibrationCancelled('calibration cancelled after the fit; nothing was stored');

  const slot = { kind: plan.kind, steps, budget: req.budget, ...(space === 'hidden' && plan.kind === 'ertacache' ? { space } : {}) };
  const { key, file } = storedPlanKey(m.modelHash, slot);
  const entry: PlanEntry = { file, ...slot };
  const record: StoredPlan = { key, modelHash: m.modelHash, model: ctx.manifestUrl, entry, plan, created: Date.now() };
  let stored = false;
  storing = true;
  if (req.store !== false && ctx.store) {
    try {
      await ctx.store.put(record);
      stored = true;
      event(`stored ${file} in IndexedDB`);
    } catch (e) {
      warnings.push(`the plan could not be stored (${e instanceof Error ? e.message : String(e)}); it is used until the worker ends`);
    }
  }
  return {
    jobId: ctx.jobId, entry, plan, reuse: plan.kind === 'ertacache' ? [...plan.reuse] : null, computedSteps: plan.computedSteps,
    stored, passes, samples: plan.calibration.samples, ms: performance.now() - t0, warnings,
  };
}

/** The record a finished calibration adds to the runtime's list (also when it was not stored). */
export function recordOf(r: CalibrateResult, modelHash: string, manifestUrl: string): StoredPlan {
  const { key } = storedPlanKey(modelHash, r.entry);
  return { key, modelHash, model: manifestUrl, entry: r.entry, plan: r.plan as CachePlan, created: Date.now() };
}
