// calibrateModel: from a split denoiser to the plans the runtime loads — one ERTACache plan per
// (budget, rectification space), and TeaCache and MagCache plans per budget, fitted on the
// same calibration batch so the comparison is fair (baselines.md).

import { BadInputError } from '../core/errors.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { Denoiser, Dims, TensorOps } from '../core/types.ts';
import { createErtaCachePolicy, ERTACACHE_VARIANTS } from '../cache/ertacache.ts';
import { createMagCachePolicy } from '../cache/magcache.ts';
import { PLAN_VERSION } from '../cache/plan.ts';
import type { CalibrationInfo, ErtaCachePlan, MagCachePlan, PlanHeader, TeaCachePlan, VariantError } from '../cache/plan.ts';
import { createTeaCachePolicy } from '../cache/teacache.ts';
import { createHostModel, makeBatch } from './batch.ts';
import type { CalibBatch } from './batch.ts';
import { evaluatePolicy } from './evaluate.ts';
import type { EvalSetup } from './evaluate.ts';
import { fitReusedSteps, type PhiMode } from './fit.ts';
import { magnitudeRatios, searchMagCacheDelta } from './magcache-fit.ts';
import { profileTrajectories } from './profile.ts';
import type { Profile } from './profile.ts';
import { searchLambda } from './search.ts';
import type { SimSetup } from './search.ts';
import { fitTeaCacheCoefficients, searchTeaCacheDelta } from './teacache-fit.ts';

export interface CalibrateOptions {
  /** Hash of the model's graphs; plans refuse to load for another model. */
  modelHash: string;
  steps: number;
  shift: number;
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
  /** How φ is fitted: 'paper' (default, ertacache.md (b)) or the 'lsq' experiment (fit.ts). */
  phiMode?: PhiMode;
  /** Default 'actual' (ertacache.md (b)). Must match the runtime's. */
  timeMode?: TimeMode;
  /** Samples per graph call (memory vs calls). Default: the whole batch at once. */
  chunk?: number;
  /** MagCache knobs held fixed while δ is searched. Default K 4, retention 0.2. */
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
  const sigmas = flowMatchSigmas(options.steps, options.shift);
  const timeMode = options.timeMode ?? 'actual';
  const model = createHostModel(denoiser, ops, batch, options.guidance, options.chunk);
  const log = options.onProgress ?? (() => {});
  log(`profiling ${batch.samples} samples × ${options.steps} steps`);
  const ctx: Context<T> = {
    options, batch, log, profile: await profileTrajectories(model, sigmas),
    setup: { model, sigmas, timeMode },
    evalSetup: { denoiser, ops, batch, sigmas, guidance: options.guidance, timeMode, nullLabel, pixelRange: options.pixelRange },
  };
  const result: CalibrationResult = { ertacache: [], teacache: [], magcache: [] };
  for (const budget of options.budgets) result.ertacache.push(...await ertaPlans(ctx, budget));
  const coefficients = fitTeaCacheCoefficients(ctx.profile);
  const gamma = magnitudeRatios(ctx.profile);
  for (const budget of options.budgets) {
    result.teacache.push(await teaPlan(ctx, budget, coefficients));
    result.magcache.push(await magPlan(ctx, budget, gamma));
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

async function ertaPlans<T>(ctx: Context<T>, budget: number): Promise<ErtaCachePlan[]> {
  const trace = await searchLambda(ctx.setup, budget);
  ctx.log(`ertacache budget ${budget}: λ = ${trace.lambda.toPrecision(4)} → ${trace.computed} computed, S = [${trace.reuse}]`);
  const plans: ErtaCachePlan[] = [];
  for (const space of ctx.options.spaces ?? ['output']) {
    const phiMode = ctx.options.phiMode ?? 'paper';
    const fit = await fitReusedSteps(ctx.setup, trace.reuse, space, ctx.profile, phiMode);
    const plan: ErtaCachePlan = {
      ...header(ctx, budget, trace.computed, {}), kind: 'ertacache', lambda: trace.lambda, reuse: trace.reuse, phi: fit.phi,
      ...(phiMode === 'paper' ? {} : { phiMode }),
      rectification: { space, channels: channelsOf(ctx, space), steps: fit.rectification },
    };
    if (ctx.options.evaluate ?? true) {
      for (const variant of ERTACACHE_VARIANTS) {
        plan.calibration.error[variant] = await evaluatePolicy(ctx.evalSetup, createErtaCachePolicy({ plan, variant }), ctx.profile.final);
      }
    }
    plans.push(plan);
  }
  return plans;
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
  const knobs = { K: ctx.options.magcache?.K ?? 4, retention: ctx.options.magcache?.retention ?? 0.2 };
  const found = await searchMagCacheDelta(gamma, budget, knobs);
  ctx.log(`magcache budget ${budget}: δ = ${found.threshold.toPrecision(4)} → ${found.count} computed`);
  const error: Record<string, VariantError> = {};
  if (ctx.options.evaluate ?? true) {
    error.magcache = await evaluatePolicy(ctx.evalSetup, createMagCachePolicy({ gamma, delta: found.threshold, ...knobs }), ctx.profile.final);
  }
  return { ...header(ctx, budget, found.count, error), kind: 'magcache', gamma, delta: found.threshold, ...knobs };
}
