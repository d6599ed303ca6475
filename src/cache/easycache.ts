// EasyCache (Zhou et al., arXiv 2507.02860; baselines.md), ported as published
// (H-EmbodVis/EasyCache): output level, calibration-free rule, decided on the cond branch:
//   i < retSteps or i = T−1 → compute, acc = 0; else
//   acc += k · mean|x_i − x_{i−1}| / mean|v_last|; reuse iff acc < thresh (else compute, acc = 0)
//   reuse: v_i = x_i + Δ per branch;  compute: Δ = v_i − x_i per branch,
//          k = mean|v_i − v_last| / mean|x_i − x_last| (cond), then v_last, x_last ← v_i, x_i.
// Before k exists (fewer than two computed steps) it computes, as published. The sampler reads
// x back before every decision and v after every compute (level 'output').

import { BadInputError, InternalError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import type { EasyCachePlan } from './plan.ts';
import { COMPUTE, isLastStep, reuse } from './policy.ts';

export interface EasyCacheOptions {
  /** thresh: accumulated predicted change allowed before a compute. Published 0.05 (Wan2.1). */
  delta: number;
  /** Steps that always compute first. Published 10 of 50 (default: 20 % of the steps). */
  retSteps?: number;
}

export function easyCacheOptionsFromPlan(plan: EasyCachePlan): EasyCacheOptions {
  return { delta: plan.delta, retSteps: plan.retSteps };
}

/** The published warm-up, 10 of 50 steps, at another step count: round(0.2·T), at least 1. */
export const defaultRetSteps = (steps: number) => Math.max(1, Math.round(0.2 * steps));

function meanAbsDiff(a: Float32Array, b: Float32Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.abs(a[k]! - b[k]!);
  return s / n;
}

function meanAbs(a: Float32Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.abs(a[k]!);
  return s / n;
}

export function createEasyCachePolicy(options: EasyCacheOptions): CachePolicy {
  const { delta } = options;
  if (!(delta >= 0) || (options.retSteps !== undefined && !(Number.isInteger(options.retSteps) && options.retSteps >= 1))) {
    throw new BadInputError('easycache needs thresh δ ≥ 0 and an integer retSteps ≥ 1',
      'calibrate the model (easycache plan) or pass {delta, retSteps}');
  }
  let acc = 0;
  let k: number | null = null;
  let xPrev: Float32Array | null = null; // the previous step's input
  let xNow: Float32Array | null = null;
  let observed = -1;
  let xLast: Float32Array | null = null; // input and cond output at the last computed step
  let vLast: Float32Array | null = null;
  return {
    kind: 'easycache',
    needsIndicator: false,
    level: 'output',
    observeInput(i, x) {
      xPrev = xNow;
      xNow = x;
      observed = i;
    },
    observeOutput(_i, v, branches) {
      const n = v.length / branches; // the cond branch is row 0
      const cond = v.subarray(0, n);
      if (vLast !== null && xLast !== null) {
        const dx = meanAbsDiff(xNow!, xLast, n);
        k = dx > 0 ? meanAbsDiff(cond, vLast, n) / dx : null;
      }
      vLast = cond.slice();
      xLast = xNow;
    },
    decide(ctx) {
      if (observed !== ctx.i || xNow === null) throw new InternalError(`easycache decided step ${ctx.i} without its input`);
      const retSteps = options.retSteps ?? defaultRetSteps(ctx.steps);
      if (ctx.i < retSteps || isLastStep(ctx) || k === null || xPrev === null || vLast === null) {
        acc = 0;
        return COMPUTE;
      }
      const n = xNow.length;
      const norm = meanAbs(vLast, n);
      acc += norm > 0 ? (k * meanAbsDiff(xNow, xPrev, n)) / norm : Infinity;
      if (acc < delta) return reuse(1);
      acc = 0;
      return COMPUTE;
    },
    rectification: () => null,
    reset() {
      acc = 0;
      k = null;
      xPrev = null;
      xNow = null;
      observed = -1;
      xLast = null;
      vLast = null;
    },
  };
}
