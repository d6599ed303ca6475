// Uniform-interval caching (FORA-style, baselines.md): compute iff i % N == 0 or i is the
// last step, otherwise reuse the cached residual with a full step. Stateless.

import { BadInputError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import { COMPUTE, isLastStep, reuse } from './policy.ts';

export interface UniformOptions {
  /** N: compute every N-th step. Default 3 (FORA). Larger N = faster, lower fidelity; 1 = no cache. */
  interval?: number;
}

export function createUniformPolicy(options: UniformOptions = {}): CachePolicy {
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
