// Uniform-interval caching (FORA-style, baselines.md): compute iff i % N == 0 or i is the
// last step, otherwise reuse the cached residual with a full step. Stateless.
// An integer interval reaches only a few budgets (50 steps: N = 2 → 26, N = 3 → 18), so for
// comparisons at a matched budget the policy can instead spread exactly `budget` computed steps
// evenly over the trajectory, first and last included: the paper's "uniform caching (same budget)".

import { BadInputError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import { COMPUTE, isLastStep, reuse } from './policy.ts';

export interface UniformOptions {
  /** N: compute every N-th step. Default 3 (FORA). Larger N = faster, lower fidelity; 1 = no cache. */
  interval?: number;
  /** Instead of an interval: exactly this many computed steps, evenly spaced (2…steps). */
  budget?: number;
}

/** The evenly spaced compute set for a budget: round(k·(T−1)/(budget−1)), k = 0…budget−1. */
export function uniformBudgetSteps(steps: number, budget: number): Set<number> {
  if (!Number.isInteger(budget) || budget < 2 || budget > steps) {
    throw new BadInputError(`uniform budget must be an integer in [2, ${steps}], got ${budget}`,
      'the first and last steps always compute, so a budget is at least 2');
  }
  const set = new Set<number>();
  for (let k = 0; k < budget; k++) set.add(Math.round((k * (steps - 1)) / (budget - 1)));
  return set;
}

export function createUniformPolicy(options: UniformOptions = {}): CachePolicy {
  if (options.budget !== undefined) return uniformBudgetPolicy(options.budget);
  const interval = options.interval ?? 3;
  if (!Number.isInteger(interval) || interval < 1) {
    throw new BadInputError(`uniform interval must be an integer ≥ 1, got ${interval}`, 'use 3 (FORA default)');
  }
  return {
    kind: 'uniform',
    needsIndicator: false,
    decide: (ctx) => (ctx.i % interval === 0 || isLastStep(ctx) ? COMPUTE : reuse(1)),
    rectification: () => null,
    reset: () => {},
  };
}

/** How many steps a uniform policy computes out of `steps` (for matching budgets). */
export function uniformComputedSteps(steps: number, interval: number): number {
  let n = 0;
  for (let i = 0; i < steps; i++) if (i % interval === 0 || i === steps - 1) n++;
  return n;
}

function uniformBudgetPolicy(budget: number): CachePolicy {
  let computeSet: Set<number> | null = null;
  return {
    kind: 'uniform',
    needsIndicator: false,
    decide: (ctx) => {
      computeSet ??= uniformBudgetSteps(ctx.steps, budget);
      return computeSet.has(ctx.i) ? COMPUTE : reuse(1);
    },
    rectification: () => null,
    reset: () => {
      computeSet = null;
    },
  };
}
