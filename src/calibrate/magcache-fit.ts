// MagCache's calibration (baselines.md): the magnitude-ratio table γ from full-compute runs,
// and a δ search for a computed-step budget (the rule is static, so counting is exact).

import { createMagCachePolicy } from '../cache/magcache.ts';
import type { Profile } from './profile.ts';
import { bisectThreshold } from './search.ts';
import type { ThresholdResult } from './search.ts';

/** γ_i = mean over tokens (and samples, both branches) of ‖r_i‖₂ / ‖r_{i−1}‖₂; γ_0 = 1. */
export function magnitudeRatios(profile: Profile): number[] {
  return profile.residualNormRatio.map((g, i) => (i === 0 ? 1 : g));
}

export interface MagCacheKnobs {
  K: number;
  retention: number;
}

export function magCacheComputedSteps(gamma: number[], delta: number, knobs: MagCacheKnobs): number {
  const policy = createMagCachePolicy({ gamma, delta, ...knobs });
  let computed = 0;
  for (let i = 0; i < gamma.length; i++) {
    if (policy.decide({ i, steps: gamma.length, sigma: 1 - i / gamma.length }).kind === 'compute') computed++;
  }
  return computed;
}

/** δ giving `target` computed steps (or the closest count; K and retention may bound it). */
export async function searchMagCacheDelta(gamma: number[], target: number, knobs: MagCacheKnobs): Promise<ThresholdResult<number>> {
  return bisectThreshold(async (delta) => {
    const count = magCacheComputedSteps(gamma, delta, knobs);
    return { count, result: count };
  }, target, { start: 0.1, maxIter: 60 });
}
