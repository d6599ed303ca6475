// TeaCache's per-model calibration (baselines.md): fit a 4th-order polynomial f mapping the
// indicator's relative L1 change to the model output's (numpy.polyfit recipe), then search δ
// so the rule computes a target number of steps on the calibration trajectories.

import { leastSquares } from '../core/linalg.ts';
import { createTeaCachePolicy } from '../cache/teacache.ts';
import type { Profile } from './profile.ts';
import { bisectThreshold } from './search.ts';
import type { ThresholdResult } from './search.ts';

/** numpy.polyfit(x, y, degree): least-squares coefficients, highest degree first. */
export function polyfit(x: ArrayLike<number>, y: ArrayLike<number>, degree: number): number[] {
  const n = x.length;
  const m = degree + 1;
  const vander = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) vander[i * m + j] = x[i]! ** (degree - j);
  return Array.from(leastSquares(vander, n, m, y));
}

/** (indicator change, output change) for every sample and every step after the first. */
export function teaCachePairs(profile: Profile): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 1; i < profile.steps; i++) {
    profile.indicatorRel[i]!.forEach((v, p) => {
      x.push(v);
      y.push(profile.outputRel[i]![p]!);
    });
  }
  return { x, y };
}

export function fitTeaCacheCoefficients(profile: Profile, degree = 4): number[] {
  const { x, y } = teaCachePairs(profile);
  return polyfit(x, y, degree);
}

/**
 * Computed steps the TeaCache rule takes on one recorded indicator sequence (open loop: the
 * indicators of the full-compute trajectory, as TeaCache's own δ tables are made).
 */
export function teaCacheComputedSteps(coefficients: number[], delta: number, indicator: ArrayLike<number>): number {
  const policy = createTeaCachePolicy({ coefficients, delta });
  const steps = indicator.length;
  let computed = 0;
  for (let i = 0; i < steps; i++) {
    if (i > 0) policy.observeIndicator!(i, indicator[i]!);
    if (policy.decide({ i, steps, sigma: 1 - i / steps }).kind === 'compute') computed++;
  }
  return computed;
}

/** δ whose mean computed-step count over the batch is closest to `target` (within it on ties). */
export async function searchTeaCacheDelta(coefficients: number[], profile: Profile, target: number): Promise<ThresholdResult<number>> {
  const samples = profile.indicatorRel[0]!.length;
  const perSample = Array.from({ length: samples }, (_, p) => profile.indicatorRel.map((row) => row[p]!));
  return bisectThreshold(async (delta) => {
    const counts = perSample.map((seq) => teaCacheComputedSteps(coefficients, delta, seq));
    const count = counts.reduce((a, b) => a + b, 0) / samples;
    return { count, result: count };
  }, target, { start: 0.1, maxIter: 60 });
}
