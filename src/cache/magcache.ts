// MagCache (Ma et al., NeurIPS 2025; baselines.md), ported as published (Zehong-Ma/MagCache):
//   i < floor(retention·T) → compute; else ratio *= γ_i; k += 1; err += |1 − ratio|;
//   err < δ and k ≤ K → reuse, else compute and ratio = 1, k = 0, err = 0.
// Static (γ is an offline table): no read-back. No forced last step, as published.

import { BadInputError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import { PlanMismatchError } from './plan.ts';
import type { MagCachePlan } from './plan.ts';
import { COMPUTE, reuse } from './policy.ts';

export interface MagCacheOptions {
  /** γ_i = mean token ‖r_i‖₂/‖r_{i−1}‖₂ per step, from calibrate/magcache-fit (length = steps). */
  gamma: readonly number[];
  /** δ: accumulated-error threshold. Larger = more reuse = faster, lower fidelity. */
  delta: number;
  /** K: most consecutive reused steps. Default 2 (Wan2.1 "slow"; 4 = "fast"). */
  K?: number;
  /** Fraction of the first steps that always compute. Default 0.2 (Wan2.1). */
  retention?: number;
}

export function magCacheOptionsFromPlan(plan: MagCachePlan): MagCacheOptions {
  return { gamma: plan.gamma, delta: plan.delta, K: plan.K, retention: plan.retention };
}

export function createMagCachePolicy(options: MagCacheOptions): CachePolicy {
  const gamma = [...options.gamma];
  const { delta } = options;
  const K = options.K ?? 2;
  const retention = options.retention ?? 0.2;
  if (!gamma.every((g) => g > 0 && Number.isFinite(g)) || !(delta >= 0) || !Number.isInteger(K) || K < 1
    || !(retention >= 0 && retention <= 1)) {
    throw new BadInputError('magcache needs γ > 0, δ ≥ 0, integer K ≥ 1 and retention in [0, 1]',
      'calibrate the model (magcache plan) or pass valid {gamma, delta, K, retention}');
  }
  let ratio = 1;
  let k = 0;
  let err = 0;
  const restart = () => { ratio = 1; k = 0; err = 0; };
  return {
    kind: 'magcache',
    needsIndicator: false,
    decide(ctx) {
      if (gamma.length !== ctx.steps) {
        throw new PlanMismatchError(`the magcache γ table has ${gamma.length} steps, this run has ${ctx.steps}; `
          + `calibrate for ${ctx.steps} steps or run with ${gamma.length}`);
      }
      // Step 0 has nothing cached yet, whatever the retention (the published code would crash).
      if (ctx.i === 0 || ctx.i < Math.floor(retention * ctx.steps)) return COMPUTE;
      ratio *= gamma[ctx.i]!;
      k += 1;
      err += Math.abs(1 - ratio);
      if (err < delta && k <= K) return reuse(1);
      restart();
      return COMPUTE;
    },
    rectification: () => null,
    reset: restart,
  };
}
