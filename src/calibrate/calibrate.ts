// calibrateModel: from a split denoiser to the plans the runtime loads — one ERTACache plan per
// (budget, rectification space), and TeaCache and MagCache plans per budget, fitted on the
// same calibration batch so the comparison is fair (baselines.md).

import { BadInputError } from '../core/errors.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { ddimSigmas, type DdimConfig } from '../core/ddim.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { CachePolicy, Denoiser, Dims, TensorOps } from '../core/types.ts';
import { createErtaCachePolicy, ERTACACHE_VARIANTS } from '../cache/ertacache.ts';
import { createEasyCachePolicy, defaultRetSteps } from '../cache/easycache.ts';
import { createMagCachePolicy } from '../cache/magcache.ts';
import { PLAN_VERSION } from '../cache/plan.ts';
import type {
  CalibrationInfo, EasyCachePlan, ErtaCachePlan, ForecastPlan, MagCachePlan, PhiMode, PlanHeader, TeaCachePlan, VariantError,
} from '../cache/plan.ts';
import { createTeaCachePolicy } from '../cache/teacache.ts';
import { createHostModel, makeBatch } from './batch.ts';
import type { CalibBatch } from './batch.ts';
import { evaluatePolicy } from './evaluate.ts';
import type { EvalSetup } from './evaluate.ts';
import { batchPsnr, PrefixCache, RAMP_GRID, rampPhi, searchReuseSet, searchStepAdjustment, simulatePolicy, stepRatios } from './direct-search.ts';
import type { StepAdjustment } from './direct-search.ts';
import { fitReusedSteps } from './fit.ts';
import { magnitudeRatios, searchMagCacheDelta } from './magcache-fit.ts';
import { profileTrajectories } from './profile.ts';
import type { Profile } from './profile.ts';
import { bisectThreshold, searchLambda } from './search.ts';
import type { SimSetup } from './search.ts';
import { fitTeaCacheCoefficients, searchTeaCacheDelta } from './teacache-fit.ts';

export interface CalibrateOptions {
  /** Hash of the model's graphs; plans refuse to load for another model. */
  modelHash: string;
  steps: number;
  shift: number;
  /** An ε-prediction model's training schedule: the σ grid is DDIM's (src/core/ddim.ts). */
  ddim?: DdimConfig;
  guidance: number;
  /** Target computed steps, e.g. [34, 25, 17] of 50 (1.5×, 2×, 3×). Each in [2, steps]. */
  budgets: number[];
  /** One sample's shape, [1, C, H, W]. */
  xDims: Dims;
  /** Default [0, 1]; the evaluation seeds 1000–1009 are refused. More seeds = slower, steadier fits. */
  seeds?: number[];
  /** Default 0…9 (every class). */
  labels?: number[];
  /** Default 10. */
  nullLabel?: number;
  /** Rectification spaces to fit, one ERTACache plan each. Default ['output']. */
  spaces?: ('output' | 'hidden')[];
  /**
   * How φ is chosen: 'search' (default: direct search of PSNR on the calibration seeds, with the
   * time rule), 'paper' (ertacache.md (b)'s formula) or the 'lsq' experiment (fit.ts).
   */
  phiMode?: PhiMode;
  /** Also calibrate the residual forecast (ertacache-forecast) into every ertacache plan. Default true. */
  forecast?: boolean;
  /** Also fit the TeaCache, MagCache and EasyCache plans. Default true. */
  peers?: boolean;
  /** Fit the ERTACache plans (false: only the peers'; the profile is still taken). Default true. */
  ertacache?: boolean;
  /** Coordinate-descent sweeps of per-step φ after the grid (each 2 × 4 trials at most). Default 1. */
  sweeps?: number;
  /** Passes of the reuse-set local search after φ (each ≤ 2 trials per reused step); 0 keeps the λ set. Default 1. */
  reusePasses?: number;
  /** Runs of consecutive reused steps the coordinate descent moves together (≥ |S|: one φ per step). Default 4. */
  phiGroups?: number;
  /**
   * The ramp stage: φ linear over the reused steps (RAMP_GRID² end points), on the λ threshold's
   * reuse set and on the forecast's (the λ search with the forecast in the loop), kept when it beats
   * the grid's one φ. Default false.
   */
  phiRamps?: boolean;
  /** Default 'actual' (ertacache.md (b)). Must match the runtime's. */
  timeMode?: TimeMode;
  /** Samples per graph call (memory vs calls). Default: the whole batch at once. */
  chunk?: number;
  /**
   * MagCache knobs held while δ is searched. Default retention 0.2 and K 4, raised while the budget
   * is out of reach at K (unless K is given here).
   */
  magcache?: { K?: number; retention?: number };
  /** Measure every plan's error with the real sampler on the batch. Default true. */
  evaluate?: boolean;
  /** Model pixel range for PSNR. Default [−1, 1]. */
  pixelRange?: readonly [number, number];
  onProgress?: (message: string) => void;
}

export interface CalibrationResult {
  ertacache: ErtaCachePlan[];
  teacache: TeaCachePlan[];
  magcache: MagCachePlan[];
  easycache: EasyCachePlan[];
}

interface Context<T> {
  options: CalibrateOptions;
  batch: CalibBatch;
  setup: SimSetup;
  evalSetup: EvalSetup<T>;
  profile: Profile;
  log: (message: string) => void;
}

function checkOptions(o: CalibrateOptions): void {
  if (o.ertacache === false && o.peers === false) {
    throw new BadInputError('nothing to calibrate: both ERTACache and the peers are switched off', 'leave ertacache or peers on');
  }
  const bad = o.budgets.filter((b) => !Number.isInteger(b) || b < 2 || b > o.steps);
  if (bad.length > 0 || o.budgets.length === 0) {
    throw new BadInputError(`budgets ${bad.join(', ')} are not integers in [2, ${o.steps}]`,
      'the first and last steps always compute, so a budget is at least 2 and at most the step count');
  }
}

export async function calibrateModel<T>(denoiser: Denoiser<T>, ops: TensorOps<T>, options: CalibrateOptions): Promise<CalibrationResult> {
  checkOptions(options);
  const nullLabel = options.nullLabel ?? 10;
  const labels = options.labels ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const batch = makeBatch(options.seeds ?? [0, 1], labels, nullLabel, options.xDims, options.guidance);
  const sigmas = options.ddim ? ddimSigmas(options.steps, options.ddim) : flowMatchSigmas(options.steps, options.shift);
  const timeMode = options.timeMode ?? 'actual';
  const model = createHostModel(denoiser, ops, batch, options.guidance, options.chunk);
  const log = options.onProgress ?? (() => {});
  log(`profiling ${batch.samples} samples × ${options.steps} steps`);
  const ctx: Context<T> = {
    options, batch, log, profile: await profileTrajectories(model, sigmas),
    setup: { model, sigmas, timeMode },
    evalSetup: { denoiser, ops, batch, sigmas, guidance: options.guidance, timeMode, nullLabel, pixelRange: options.pixelRange },
  };
  const result: CalibrationResult = { ertacache: [], teacache: [], magcache: [], easycache: [] };
  if (options.ertacache !== false) {
    for (const budget of options.budgets) result.ertacache.push(...await ertaPlans(ctx, budget));
  }
  if (options.peers === false) return result;
  const coefficients = fitTeaCacheCoefficients(ctx.profile);
  const gamma = magnitudeRatios(ctx.profile);
  for (const budget of options.budgets) {
    result.teacache.push(await teaPlan(ctx, budget, coefficients));
    result.magcache.push(await magPlan(ctx, budget, gamma));
    result.easycache.push(await easyPlan(ctx, budget));
  }
  return result;
}

function header<T>(ctx: Context<T>, budget: number, computedSteps: number, error: Record<string, VariantError>): PlanHeader {
  const { options: o, batch } = ctx;
  const calibration: CalibrationInfo = {
    seeds: [...new Set(batch.seeds)], labels: [...new Set(batch.classes)], samples: batch.samples,
    timeMode: ctx.setup.timeMode, error,
    description: `${batch.samples} samples (seeds × labels), guidance ${o.guidance}, ${o.steps} steps, shift ${o.shift}; `
      + 'error = mean over the batch of the final sample vs full compute',
  };
  return { version: PLAN_VERSION, modelHash: o.modelHash, steps: o.steps, shift: o.shift, guidance: o.guidance, budget, computedSteps, calibration };
}

/** Mean PSNR of a static policy on the calibration batch (the lockstep simulation of the sampler). */
async function simPsnr<T>(ctx: Context<T>, setup: SimSetup, policy: CachePolicy, cache?: PrefixCache): Promise<number> {
  const { final } = await simulatePolicy(setup, policy, false, cache);
  return batchPsnr(final, ctx.profile, ctx.batch.samples, ctx.options.pixelRange ?? [-1, 1]);
}

/**
 * A static plan's calibration error, by the lockstep simulation (the sampler's arithmetic on the
 * whole batch at once; calibrate.test.ts holds it equal to the real sampler).
 */
async function simError<T>(ctx: Context<T>, policy: CachePolicy): Promise<VariantError> {
  const { final } = await simulatePolicy(ctx.setup, policy);
  let l1 = 0;
  for (let k = 0; k < final.length; k++) l1 += Math.abs(final[k]! - ctx.profile.final[k]!) / final.length;
  let computed = 0;
  policy.reset();
  for (let i = 0; i < ctx.options.steps; i++) {
    if (policy.decide({ i, steps: ctx.options.steps, sigma: 1 }).kind === 'compute') computed++;
  }
  return { computedSteps: computed, l1, psnr: batchPsnr(final, ctx.profile, ctx.batch.samples, ctx.options.pixelRange ?? [-1, 1]) };
}

/** A draft plan for the search: everything but what is being searched. */
function draftPlan<T>(ctx: Context<T>, budget: number, reuse: number[], lambda: number): ErtaCachePlan {
  const ones = new Array<number>(ctx.options.steps).fill(1);
  return {
    ...header(ctx, budget, ctx.options.steps - reuse.length, {}), kind: 'ertacache', lambda, reuse, phi: ones, phiPaper: ones,
    timeRule: 'proportional', rectification: null, rectify: false, forecast: null,
  };
}

/** The forecast: S_f searched with the forecast in the loop, then φ, time rule and gain, then its rectification. */
async function forecastPlan<T>(ctx: Context<T>, budget: number): Promise<ForecastPlan> {
  const setup: SimSetup = { ...ctx.setup, gain: 1 };
  const trace = await searchLambda(setup, budget);
  ctx.log(`ertacache-forecast budget ${budget}: λ = ${trace.lambda.toPrecision(4)} → ${trace.computed} computed, S_f = [${trace.reuse}]`);
  const draft = draftPlan(ctx, budget, [1], 0);
  const asForecast = (a: StepAdjustment, rect: ForecastPlan['rectification'] = null): ForecastPlan => ({
    lambda: trace.lambda, reuse: trace.reuse, gain: a.gain ?? 1, phi: a.phi, timeRule: a.timeRule, rectification: rect,
    rectify: rect !== null,
  });
  const policyOf = (f: ForecastPlan) => createErtaCachePolicy({ plan: { ...draft, forecast: f }, variant: 'ertacache-forecast' });
  const cache = new PrefixCache();
  const best = await searchStepAdjustment({
    steps: ctx.options.steps, reuse: trace.reuse, label: `ertacache-forecast budget ${budget}`, log: ctx.log,
    policy: (a) => policyOf(asForecast(a)), score: (p) => simPsnr(ctx, ctx.setup, p, cache),
  }, { gains: true, sweeps: ctx.options.sweeps ?? 1, groups: ctx.options.phiGroups ?? 4 });
  const { fits } = await simulatePolicy(ctx.setup, policyOf(asForecast(best)), true);
  const rect = { space: 'output' as const, channels: ctx.setup.model.outputLayout.channels, steps: fits };
  const withRect = await simPsnr(ctx, ctx.setup, policyOf(asForecast(best, rect)));
  ctx.log(`ertacache-forecast budget ${budget}: rectification ${withRect.toFixed(2)} dB vs ${best.psnr.toFixed(2)} without (${best.trials} trials)`);
  return { ...asForecast(best, rect), rectify: withRect > best.psnr };
}

/**
 * The ramp stage (CalibrateOptions.phiRamps): φ from `a` at the first reused step to `b` at the
 * last, on the λ set and on the forecast's reuse set of the same size, with the grid's time rule.
 */
async function searchRamps<T>(ctx: Context<T>, budget: number, reuse: number[], draft: ErtaCachePlan,
  found: StepAdjustment): Promise<{ reuse: number[]; phi: number[]; psnr: number }> {
  const sets = [reuse];
  const f = await searchLambda({ ...ctx.setup, gain: 1 }, budget);
  if (f.reuse.length === reuse.length && f.reuse.join() !== reuse.join()) sets.push(f.reuse);
  let best = { reuse, phi: found.phi, psnr: -Infinity };
  const cache = new PrefixCache();
  for (const S of sets) {
    for (const a of RAMP_GRID) {
      for (const b of RAMP_GRID) {
        const phi = rampPhi(ctx.options.steps, S, a, b);
        const policy = createErtaCachePolicy({ plan: { ...draft, reuse: S, phi, timeRule: found.timeRule }, variant: 'ertacache-schedule+dt' });
        const db = await simPsnr(ctx, ctx.setup, policy, cache);
        if (db > best.psnr) best = { reuse: S, phi, psnr: db };
      }
    }
  }
  const which = best.reuse === reuse ? 'the λ set' : `the forecast's set [${best.reuse}]`;
  const ends = [best.phi[best.reuse[0]!], best.phi[best.reuse[best.reuse.length - 1]!]];
  ctx.log(`ertacache budget ${budget}: ramp φ ${ends[0]} → ${ends[1]} on ${which}: ${best.psnr.toFixed(2)} dB`);
  return best;
}

async function ertaPlans<T>(ctx: Context<T>, budget: number): Promise<ErtaCachePlan[]> {
  const trace = await searchLambda(ctx.setup, budget);
  ctx.log(`ertacache budget ${budget}: λ = ${trace.lambda.toPrecision(4)} → ${trace.computed} computed, S = [${trace.reuse}]`);
  const draft = draftPlan(ctx, budget, trace.reuse, trace.lambda);
  // The paper's φ (ertacache.md (b)) on its own trajectory: a diagnostic, and an ablation row.
  let paper = await fitReusedSteps(ctx.setup, trace.reuse, 'output', ctx.profile, 'paper');
  const paperSet = trace.reuse.join();
  const phiMode = ctx.options.phiMode ?? 'search';
  let adjustment: { phi: number[]; timeRule: StepAdjustment['timeRule'] };
  const cache = new PrefixCache();
  if (phiMode === 'search') {
    const found = await searchStepAdjustment({
      steps: ctx.options.steps, reuse: trace.reuse, label: `ertacache budget ${budget}`, log: ctx.log,
      policy: (a) => createErtaCachePolicy({ plan: { ...draft, phi: a.phi, timeRule: a.timeRule }, variant: 'ertacache-schedule+dt' }),
      score: (p) => simPsnr(ctx, ctx.setup, p, cache),
    }, { gains: false, sweeps: ctx.options.sweeps ?? 1, groups: ctx.options.phiGroups ?? 4 });
    adjustment = found;
    if (ctx.options.phiRamps) {
      const ramp = await searchRamps(ctx, budget, trace.reuse, draft, found);
      if (ramp.psnr > found.psnr) {
        trace.reuse = ramp.reuse;
        draft.reuse = ramp.reuse;
        found.phi = ramp.phi;
        found.psnr = ramp.psnr;
        adjustment = found;
      }
    }
    if ((ctx.options.reusePasses ?? 1) > 0) {
      // The set itself, searched by the final image with φ and the time rule in the loop.
      const asPlan = (reuse: number[], phi: number[]) => createErtaCachePolicy({
        plan: { ...draft, reuse, computedSteps: ctx.options.steps - reuse.length, phi, timeRule: found.timeRule }, variant: 'ertacache-schedule+dt' });
      const moved = await searchReuseSet({
        steps: ctx.options.steps, label: `ertacache budget ${budget}`, log: ctx.log,
        score: (reuse, phi) => simPsnr(ctx, ctx.setup, asPlan(reuse, phi), cache),
      }, { reuse: trace.reuse, phi: found.phi, psnr: found.psnr }, { passes: ctx.options.reusePasses ?? 1 });
      if (moved.reuse.join() !== trace.reuse.join()) {
        trace.reuse = moved.reuse;
        draft.reuse = moved.reuse;
        // φ once more on the new set (one sweep from where it is)
        const again = await searchStepAdjustment({
          steps: ctx.options.steps, reuse: moved.reuse, label: `ertacache budget ${budget} (moved set)`, log: ctx.log,
          policy: (a) => createErtaCachePolicy({ plan: { ...draft, phi: a.phi, timeRule: a.timeRule }, variant: 'ertacache-schedule+dt' }),
          score: (p) => simPsnr(ctx, ctx.setup, p, cache),
        }, { gains: false, sweeps: Math.max(1, ctx.options.sweeps ?? 1), groups: ctx.options.phiGroups ?? 4,
          start: { timeRule: found.timeRule, phi: moved.phi, gain: null, psnr: moved.psnr } });
        adjustment = again;
      }
    }
    ctx.log(`ertacache budget ${budget}: search simulated ${cache.simulated} steps, resumed ${cache.skipped} from recorded prefixes`);
    // the paper's φ (diagnostic and ablation row) belongs to the set the plan ships with
    if (trace.reuse.join() !== paperSet) paper = await fitReusedSteps(ctx.setup, trace.reuse, 'output', ctx.profile, 'paper');
  } else {
    const fitted = phiMode === 'paper' ? paper : await fitReusedSteps(ctx.setup, trace.reuse, 'output', ctx.profile, 'lsq');
    adjustment = { phi: fitted.phi, timeRule: 'proportional' };
  }
  const forecast = (ctx.options.forecast ?? true) ? await forecastPlan(ctx, budget) : null;
  const plans: ErtaCachePlan[] = [];
  for (const space of ctx.options.spaces ?? ['output']) {
    const fit = await fitReusedSteps(ctx.setup, trace.reuse, space, ctx.profile, 'paper', adjustment);
    const plan: ErtaCachePlan = {
      ...draft, ...adjustment, phiPaper: paper.phi, ...(phiMode === 'search' ? {} : { phiMode }), forecast,
      rectification: { space, channels: channelsOf(ctx, space), steps: fit.rectification }, rectify: true,
    };
    // Rectification is part of the default only where it measurably helps (ertacache.md).
    const withRect = await simPsnr(ctx, ctx.setup, createErtaCachePolicy({ plan, variant: 'ertacache' }));
    const without = await simPsnr(ctx, ctx.setup, createErtaCachePolicy({ plan, variant: 'ertacache-schedule+dt' }));
    plan.rectify = withRect > without;
    const largest = (variant: 'ertacache' | 'ertacache-paper') =>
      Math.max(...stepRatios(createErtaCachePolicy({ plan, variant }), ctx.setup.sigmas, ctx.setup.timeMode)).toFixed(2);
    ctx.log(`ertacache budget ${budget}: ${plan.timeRule} time rule; largest step ${largest('ertacache')}× nominal `
      + `(the paper's φ: ${largest('ertacache-paper')}×)`);
    ctx.log(`ertacache budget ${budget} (${space}): rectification ${withRect.toFixed(2)} dB vs ${without.toFixed(2)} without → ${plan.rectify ? 'on' : 'off'}`);
    if (ctx.options.evaluate ?? true) {
      for (const variant of ERTACACHE_VARIANTS) {
        if (forecast === null && variant.startsWith('ertacache-forecast')) continue;
        plan.calibration.error[variant] = await simError(ctx, createErtaCachePolicy({ plan, variant }));
      }
    }
    plans.push(plan);
  }
  return plans;
}

/** EasyCache's thresh bisected for `budget` mean computed steps, closed loop with the real sampler. */
async function easyPlan<T>(ctx: Context<T>, budget: number): Promise<EasyCachePlan> {
  const retSteps = defaultRetSteps(ctx.options.steps);
  const found = await bisectThreshold(async (delta) => {
    const e = await evaluatePolicy(ctx.evalSetup, createEasyCachePolicy({ delta, retSteps }), ctx.profile.final);
    return { count: e.computedSteps, result: e };
  }, budget, { start: 0.05, maxIter: 12, tolerance: 0.2 });
  ctx.log(`easycache budget ${budget}: thresh = ${found.threshold.toPrecision(4)} → ${found.count.toFixed(2)} computed`);
  const error: Record<string, VariantError> = (ctx.options.evaluate ?? true) ? { easycache: found.result } : {};
  return { ...header(ctx, budget, found.count, error), kind: 'easycache', delta: found.threshold, retSteps };
}

function channelsOf<T>(ctx: Context<T>, space: 'output' | 'hidden'): number {
  return (space === 'output' ? ctx.setup.model.outputLayout : ctx.setup.model.hiddenLayout).channels;
}

async function teaPlan<T>(ctx: Context<T>, budget: number, coefficients: number[]): Promise<TeaCachePlan> {
  const found = await searchTeaCacheDelta(coefficients, ctx.profile, budget);
  ctx.log(`teacache budget ${budget}: δ = ${found.threshold.toPrecision(4)} → ${found.count} computed (open loop)`);
  const error: Record<string, VariantError> = {};
  if (ctx.options.evaluate ?? true) {
    error.teacache = await evaluatePolicy(ctx.evalSetup, createTeaCachePolicy({ coefficients, delta: found.threshold }), ctx.profile.final);
  }
  const reached = error.teacache?.computedSteps ?? found.count;
  return { ...header(ctx, budget, reached, error), kind: 'teacache', coefficients, delta: found.threshold };
}

async function magPlan<T>(ctx: Context<T>, budget: number, gamma: number[]): Promise<MagCachePlan> {
  const retention = ctx.options.magcache?.retention ?? 0.2;
  const fixedK = ctx.options.magcache?.K;
  // K 4 ("fast" on Wan2.1) bounds the reuse: every K + 1-th step after the retained ones computes, so
  // a small budget may be out of reach (18 of 50 at K 4). Unless the caller fixed K, raise it until
  // the δ search reaches the budget (FLUX's published K is 5), so the plan spends what was asked.
  let knobs = { K: fixedK ?? 4, retention };
  let found = await searchMagCacheDelta(gamma, budget, knobs);
  while (fixedK === undefined && found.count > budget && knobs.K < ctx.options.steps) {
    const wider = { K: knobs.K + 1, retention };
    const next = await searchMagCacheDelta(gamma, budget, wider);
    if (next.count >= found.count) break;
    ctx.log(`magcache budget ${budget}: K ${knobs.K} reaches ${found.count} at best; K ${wider.K}`);
    knobs = wider;
    found = next;
  }
  ctx.log(`magcache budget ${budget}: δ = ${found.threshold.toPrecision(4)}, K ${knobs.K} → ${found.count} computed`);
  const error: Record<string, VariantError> = {};
  if (ctx.options.evaluate ?? true) {
    error.magcache = await evaluatePolicy(ctx.evalSetup, createMagCachePolicy({ gamma, delta: found.threshold, ...knobs }), ctx.profile.final);
  }
  return { ...header(ctx, budget, found.count, error), kind: 'magcache', gamma, delta: found.threshold, ...knobs };
}
