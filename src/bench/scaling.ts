// Scaling study (shared/design/evaluation.md "Scaling"): step time and ERTACache's speedup on
// random-weight DiTs of growing width, depth and token count. Random weights make the plans
// meaningless for quality, but the policy, its calibrated plan and the cost of its steps are the
// real ones: each variant is calibrated by calibrateModel on that very variant, then timed
// interleaved against `none` (measureSpeed). The markdown is in scaling-report.ts.

import { loadNodeModel, type NodeTensor } from '../backend/node-model.ts';
import { createPolicy } from '../cache/registry.ts';
import { calibrateModel } from '../calibrate/calibrate.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import type { ModelManifest } from '../manifest/types.ts';
import {
  DEFAULT_VARIANT_DIR, defaultPython, prepareVariant, skipMessage, variantKey, VariantExportError,
  type DiTShape, type PreparedVariant,
} from '../cli/scaling-variants.ts';
import { measureSpeed, median, timeRun, type SpeedRow, type SpeedSetup } from './speed.ts';
import { runApart, siblingUrl } from '../node/apart.ts';
import type { ErtaCachePlan } from '../cache/plan.ts';
import { classConditioning } from '../manifest/conditioning.ts';

export { scalingMarkdown, scalingFindings } from './scaling-report.ts';

export interface ScalingVariant extends DiTShape {
  name: string;
}

const BASE: ScalingVariant = { name: 'base', dim: 128, depth: 6, heads: 4, patch: 4, size: 28 }; // the shipped model's shape

/**
 * Width 64…384, depth 12, 4× the tokens (patch 2) and 16× (patch 2 on a 56-px image: attention's
 * N² terms grow fastest), each grown along one axis from the shipped model's shape.
 */
export const SCALING_GRID: readonly ScalingVariant[] = [
  { ...BASE, name: 'width 64', dim: 64 },
  BASE,
  { ...BASE, name: 'width 256', dim: 256 },
  { ...BASE, name: 'width 384', dim: 384 },
  { ...BASE, name: 'depth 12', depth: 12 },
  { ...BASE, name: 'tokens 196', patch: 2 },
  { ...BASE, name: 'tokens 784', patch: 2, size: 56 },
];

/** The `quick` subset: one step along width and one along tokens. */
export const QUICK_VARIANTS: readonly string[] = ['base', 'width 256', 'tokens 196'];

export const scalingGrid = (quick: boolean): ScalingVariant[] =>
  SCALING_GRID.filter((v) => !quick || QUICK_VARIANTS.includes(v.name));

export interface ScalingOptions {
  /** Default false: the whole grid (7 variants); true: QUICK_VARIANTS. */
  quick?: boolean;
  /** Timed A/B pairs per variant after one warm-up pair (more: steadier ratios, slower). */
  repeats: number;
  /** Export cache. Default `bench/.variants`. */
  workDir?: string;
  /** Python with PyTorch for exports. Default env PYTHON, else /usr/bin/python3. */
  python?: string;
  /**
   * onnxruntime intra-op threads. Default 1: step time then tracks work rather than thread
   * scheduling, and a busy 2-core machine does not stall ORT's thread pool (4–5× slower here).
   */
  threads?: number;
  /** Default 50 sampling steps and an ERTACache budget of 25 computed (2×). */
  steps?: number;
  budget?: number;
  /** Override the grid (tests). Default scalingGrid(quick). */
  variants?: readonly ScalingVariant[];
}

export interface ScalingRow extends DiTShape {
  variant: string;
  key: string; // export directory name under workDir
  tokens: number;
  parameters: number; // trainable parameters (manifest architecture.parameters)
  flopsPerStep: number; // counted FLOPs of one full-compute step (embed+blocks+head) × rows (2 with CFG)
  stepMs: number; // median full-compute step of `none` runs
  steps: number;
  budget: number;
  computedSteps: number; // computed steps ERTACache actually ran (the calibrator may jump over the budget)
  msNone: number; // median generation ms, none
  msPolicy: number; // median generation ms, ertacache
  speedup: number; // median over interleaved pairs of none ms / policy ms (src/bench/speed.ts pairedSpeedup)
  idealSpeedup: number; // steps / (computed + reused × reuseCost)
  efficiency: number; // speedup / idealSpeedup
  reuseCost: number; // reuse-step / compute-step cost (src/bench/speed.ts reuseCostOf)
  calibrationMs: number; // calibrateModel on one seed × one label, no error evaluation
  exportMs: number | null; // null: a cached export was reused
}

export interface ScalingResult {
  rows: ScalingRow[];
  skipped?: string; // why no rows (Python or PyTorch missing, export failed)
  steps: number;
  budget: number;
  repeats: number;
  threads: number;
}

/** Counted FLOPs of one sample through embed, blocks and head (tools/flops.py, in the manifest). */
export function stepFlopsPerSample(m: ModelManifest): number {
  const g = m.graphs;
  return (g.embed?.flopsPerSample ?? NaN) + (g.blocks?.flopsPerSample ?? NaN) + (g.head?.flopsPerSample ?? NaN);
}

async function prepareAll(grid: readonly ScalingVariant[], workDir: string, python: string,
  log: (m: string) => void): Promise<PreparedVariant[] | string> {
  const out: PreparedVariant[] = [];
  try {
    for (const v of grid) out.push(await prepareVariant(v, { workDir, python }, log));
  } catch (e) {
    if (e instanceof VariantExportError) return skipMessage(e, python);
    throw e;
  }
  return out;
}

export async function runScaling(options: ScalingOptions, log: (m: string) => void = () => {}): Promise<ScalingResult> {
  const o = { steps: options.steps ?? 50, budget: options.budget ?? 25, threads: options.threads ?? 1, repeats: options.repeats };
  const result: ScalingResult = { rows: [], ...o };
  const grid = options.variants ?? scalingGrid(options.quick ?? false);
  const python = options.python ?? defaultPython();
  const prepared = await prepareAll(grid, options.workDir ?? DEFAULT_VARIANT_DIR, python, log);
  if (typeof prepared === 'string') {
    log(`scaling: skipped (${prepared})`);
    return { ...result, skipped: prepared };
  }
  for (const [k, v] of grid.entries()) result.rows.push(await measureVariant(v, prepared[k]!, o, log));
  return result;
}

type MeasureOptions = Required<Pick<ScalingOptions, 'steps' | 'budget' | 'threads' | 'repeats'>>;

/** What the scaling child (scaling-child.ts) times: one variant's ERTACache plan against `none`. */
export interface ScalingTimeJob {
  dir: string;
  name: string;
  plan: ErtaCachePlan;
  steps: number;
  threads: number;
  repeats: number;
}

export interface ScalingTimed {
  speed: SpeedRow;
  stepMs: number; // median full-compute step of a `none` run
}

/** The timing half of a variant, run in a fresh process by measureVariant (scaling-child.ts). */
export async function timeVariant(job: ScalingTimeJob, log: (m: string) => void): Promise<ScalingTimed> {
  const model = await loadNodeModel(job.dir, { sessionOptions: { intraOpNumThreads: job.threads } });
  try {
    const m = model.manifest;
    const setup: SpeedSetup<NodeTensor> = {
      denoiser: model.denoiser, ops: model.ops, sigmas: flowMatchSigmas(job.steps, m.scheduler.shift),
      guidance: m.scheduler.defaultGuidance, nullLabel: classConditioning(m).nullLabel,
      xDims: [1, m.latent.channels, m.latent.height, m.latent.width],
    };
    const none = () => createPolicy('none');
    const [speed] = await measureSpeed(setup, none, [{
      policy: 'ertacache', budget: job.plan.budget,
      create: () => createPolicy('ertacache', { steps: job.steps, modelHash: m.modelHash, plan: job.plan }),
    }], job.repeats, (s) => log(`scaling: ${job.name}: ${s}`));
    const stepMs = median((await timeRun(setup, none(), 0)).stats.stepMs);
    return { speed: speed!, stepMs };
  } finally {
    await model.release();
  }
}

/** A variant's ERTACache plan, calibrated in this process on the smallest batch the calibrator takes. */
async function calibrateVariant(v: ScalingVariant, p: PreparedVariant, o: MeasureOptions, log: (m: string) => void) {
  const model = await loadNodeModel(p.dir, { sessionOptions: { intraOpNumThreads: o.threads } });
  try {
    const m = model.manifest;
    log(`scaling: ${v.name} (${variantKey(v)}): calibrating ERTACache for ${o.budget} of ${o.steps} steps`);
    const t0 = performance.now();
    // One seed × one label, no error evaluation, no φ search, forecast or peer plans: only the
    // reuse set decides the speed timed here.
    const calibration = await calibrateModel(model.denoiser, model.ops, {
      modelHash: m.modelHash, steps: o.steps, shift: m.scheduler.shift, guidance: m.scheduler.defaultGuidance,
      budgets: [o.budget], xDims: [1, m.latent.channels, m.latent.height, m.latent.width],
      nullLabel: classConditioning(m).nullLabel, seeds: [0], labels: [0], evaluate: false,
      phiMode: 'paper', forecast: false, peers: false,
    });
    return { m, plan: calibration.ertacache[0]!, calibrationMs: performance.now() - t0 };
  } finally {
    await model.release();
  }
}

/**
 * One variant: its plan calibrated here, then timed in a fresh Node process that loads only the
 * variant (src/node/apart.ts: in the process that calibrated, V8's heap shrinking and the
 * mark-compacts after it would cost the timed runs a few percent).
 */
async function measureVariant(v: ScalingVariant, p: PreparedVariant, o: MeasureOptions, log: (m: string) => void): Promise<ScalingRow> {
  const { m, plan, calibrationMs } = await calibrateVariant(v, p, o, log);
  const job: ScalingTimeJob = { dir: p.dir, name: v.name, plan, steps: o.steps, threads: o.threads, repeats: o.repeats };
  const { speed, stepMs } = await runApart<ScalingTimeJob, ScalingTimed>(siblingUrl(import.meta.url, 'scaling-child'), job,
    `the scaling run of ${v.name}`, log);
  const parameters = m.architecture['parameters'];
  return {
    variant: v.name, key: variantKey(v), dim: v.dim, depth: v.depth, heads: v.heads, patch: v.patch, size: v.size,
    tokens: m.hidden.tokens, parameters: typeof parameters === 'number' ? parameters : NaN,
    flopsPerStep: stepFlopsPerSample(m) * (m.scheduler.defaultGuidance === 1 ? 1 : 2), stepMs, steps: o.steps, budget: o.budget,
    computedSteps: speed.computedSteps, msNone: speed.msNone, msPolicy: speed.msPolicy, speedup: speed.speedup,
    idealSpeedup: speed.idealSpeedup, efficiency: speed.efficiency, reuseCost: speed.reuseCost,
    calibrationMs, exportMs: p.exportMs,
  };
}
