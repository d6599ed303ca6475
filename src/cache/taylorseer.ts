// TaylorSeer (Liu et al., ICCV 2025, arXiv 2503.06923; baselines.md), ported as published
// (Shenyi-Z/TaylorSeer) at step level on the transformer-stack residual ("TaylorSeer-Lite"):
//   compute the first `warmup` steps, then one full step every N; on a full step at index a,
//   with d = a − a_prev: D_0 = r(a), D_{k+1}(a) = (D_k(a) − D_k(a_prev)) / d (as far as earlier
//   D_k exist, up to the order O); on a forecast step j: r̂(j) = Σ_k D_k·(j − a)^k / k!.
// Step-index units, as published. Order 0 is FORA's reuse. Static: no read-back.
// Exact-budget mode (for comparisons at a matched budget): the warm-up, then the remaining
// budget − warmup computed steps spread evenly over the rest, the last step included.

import { BadInputError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import { COMPUTE, reuse } from './policy.ts';

export interface TaylorSeerOptions {
  /** Taylor order O (1 or 2 here; 0 = plain reuse). Default 1. */
  order?: number;
  /** First steps that always compute (published first_enhance 3). */
  warmup?: number;
  /** N: one full step every N after the warm-up (published 5–6). Default 5 (diffusers' hook). */
  interval?: number;
  /** Instead of N: exactly this many computed steps, warm-up included. */
  budget?: number;
}

/** Computed steps of the exact-budget mode: 0…warmup−1, then budget − warmup evenly spread, ending at T−1. */
export function taylorBudgetSteps(steps: number, budget: number, warmup: number): Set<number> {
  if (!Number.isInteger(budget) || budget < warmup + 1 || budget > steps) {
    throw new BadInputError(`taylorseer budget must be an integer in [${warmup + 1}, ${steps}], got ${budget}`,
      `the ${warmup} warm-up steps compute, and at least one more step after them`);
  }
  const set = new Set<number>();
  for (let k = 0; k < warmup; k++) set.add(k);
  const m = budget - warmup;
  const span = steps - warmup; // the steps after the warm-up: warmup … T−1
  for (let k = 0; k < m; k++) set.add(steps - 1 - Math.round((k * span) / m));
  return set;
}

/** D_k as weights over computed residuals, keyed by their compute count (0 = first computed). */
type Coeffs = Map<number, number>;

function combine(a: Coeffs, b: Coeffs, sb: number, scale: number): Coeffs {
  const out: Coeffs = new Map();
  for (const [k, v] of a) out.set(k, v * scale);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0) + sb * v * scale);
  return out;
}

export function createTaylorSeerPolicy(options: TaylorSeerOptions = {}): CachePolicy {
  const order = options.order ?? 1;
  const warmup = options.warmup ?? 3;
  const interval = options.interval ?? 5;
  if (!Number.isInteger(order) || order < 0 || order > 2 || !Number.isInteger(warmup) || warmup < 1
    || !Number.isInteger(interval) || interval < 1) {
    throw new BadInputError(`taylorseer needs order 0–2, warmup ≥ 1 and interval ≥ 1 (integers); got ${order}, ${warmup}, ${interval}`,
      'use the published defaults: order 1, warmup 3, interval 5');
  }
  let computeSet: Set<number> | null = null;
  let derivatives: Coeffs[] = []; // D_0 … D_O at the last full step
  let lastFull = -1;
  let computed = 0;
  const isFull = (i: number, steps: number) => {
    if (options.budget !== undefined) {
      computeSet ??= taylorBudgetSteps(steps, options.budget, warmup);
      return computeSet.has(i);
    }
    return i < warmup || (i - warmup) % interval === 0;
  };
  return {
    kind: order === 2 ? 'taylorseer-2' : 'taylorseer',
    needsIndicator: false,
    history: order + 1,
    decide(ctx) {
      if (isFull(ctx.i, ctx.steps)) {
        const d = lastFull < 0 ? 1 : ctx.i - lastFull;
        const next: Coeffs[] = [new Map([[computed, 1]])];
        for (let k = 0; k < order && k < derivatives.length; k++) {
          next.push(combine(next[k]!, derivatives[k]!, -1, 1 / d));
        }
        derivatives = next;
        lastFull = ctx.i;
        computed++;
        return COMPUTE;
      }
      // r̂ = Σ_k D_k·(j − a)^k / k!, as weights on the cached residuals, most recent first
      const dj = ctx.i - lastFull;
      let total: Coeffs = new Map();
      let factor = 1;
      derivatives.forEach((D, k) => {
        if (k > 0) factor *= dj / k;
        total = combine(total, D, factor, 1);
      });
      const weights = new Array<number>(Math.min(computed, order + 1)).fill(0);
      for (const [n, w] of total) weights[computed - 1 - n] = (weights[computed - 1 - n] ?? 0) + w;
      return { ...reuse(1), weights };
    },
    rectification: () => null,
    reset() {
      computeSet = null;
      derivatives = [];
      lastFull = -1;
      computed = 0;
    },
  };
}
