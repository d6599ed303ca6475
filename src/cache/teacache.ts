// TeaCache (Liu et al., CVPR 2025; baselines.md), ported as published (ali-vilab/TeaCache):
//   first and last step compute (acc = 0); otherwise
//   acc += f(rel_i), rel_i = mean|F_i − F_{i−1}| / mean|F_{i−1}|, F = block 0's modulated input;
//   acc < δ → reuse, else compute and acc = 0.
// Online: needs one scalar read-back per step (needsIndicator).

import { BadInputError, InternalError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import type { TeaCachePlan } from './plan.ts';
import { COMPUTE, isLastStep, reuse } from './policy.ts';

export interface TeaCacheOptions {
  /** f, highest degree first (numpy.polyfit order), fitted per model by calibrate/teacache-fit. */
  coefficients: readonly number[];
  /** δ: accumulated-change threshold. Larger = more reuse = faster, lower fidelity. */
  delta: number;
}

/** f(x) by Horner's rule; coefficients highest degree first (numpy.poly1d). */
export function polyval(coefficients: readonly number[], x: number): number {
  let y = 0;
  for (const c of coefficients) y = y * x + c;
  return y;
}

export function teaCacheOptionsFromPlan(plan: TeaCachePlan): TeaCacheOptions {
  return { coefficients: plan.coefficients, delta: plan.delta };
}

export function createTeaCachePolicy(options: TeaCacheOptions): CachePolicy {
  const coefficients = [...options.coefficients];
  const { delta } = options;
  if (coefficients.length === 0 || !coefficients.every(Number.isFinite) || !(delta >= 0)) {
    throw new BadInputError('teacache needs finite polynomial coefficients and δ ≥ 0',
      'calibrate the model (teacache plan) or pass {coefficients, delta}');
  }
  let acc = 0;
  let observed = -1; // the step whose indicator was observed last
  let rel = 0;
  return {
    kind: 'teacache',
    needsIndicator: true,
    observeIndicator(i, relL1) {
      observed = i;
      rel = relL1;
    },
    decide(ctx) {
      if (ctx.i === 0 || isLastStep(ctx)) {
        acc = 0;
        return COMPUTE;
      }
      if (observed !== ctx.i) throw new InternalError(`teacache decided step ${ctx.i} without its indicator`);
      acc += polyval(coefficients, rel);
      if (acc < delta) return reuse(1);
      acc = 0;
      return COMPUTE;
    },
    rectification: () => null,
    reset() {
      acc = 0;
      observed = -1;
      rel = 0;
    },
  };
}
