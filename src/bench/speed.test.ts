// The interleaved A/B protocol charges a position effect to neither side: with equal costs and
// a penalty on whichever run of a pair comes first, the medians of `none` and the policy agree.

import { describe, expect, it } from 'vitest';
import type { SampleStats } from '../core/types.ts';
import { fixedMs, measureInterleaved, medianInterval, pairedSpeedup, reuseCostOf, speedRow, type TimedRun } from './speed.ts';

const stats = (computed: number): SampleStats => ({
  steps: 10, computedSteps: computed, reusedSteps: 10 - computed, stepMs: [], totalMs: 0, readbacks: 0, decisions: [],
});

describe('measureInterleaved', () => {
  it('alternates which side runs first, so a first-of-pair penalty cancels out', async () => {
    const calls: string[] = [];
    let inPair = 0; // runs since the pair began (0 → this run is first of its pair)
    const run = (side: string) => async (k: number): Promise<TimedRun> => {
      calls.push(`${side}${k}`);
      const ms = k === 0 ? 999 : 100 + (inPair === 0 ? 10 : 0); // the first of a timed pair is 10 % slower
      inPair = (inPair + 1) % 2;
      return { ms, stats: stats(10) };
    };
    const [row] = await measureInterleaved(10, [{ policy: 'p', budget: null }], run('n'), (_c, k) => run('p')(k), 4);
    expect(calls).toEqual(['n0', 'p0', 'n1', 'p1', 'p2', 'n2', 'n3', 'p3', 'p4', 'n4']);
    expect(row!.msNone).toBe(row!.msPolicy);
    expect(row!.speedup).toBeCloseTo(1, 12);
    // the raw pairs, [none, policy] in timing order, whichever side ran first
    expect(row!.pairMs).toEqual([[110, 100], [100, 110], [110, 100], [100, 110]]);
  });
});

const run = (stepMs: number[], decisions: ('compute' | 'reuse')[]): SampleStats => ({
  steps: stepMs.length, computedSteps: decisions.filter((d) => d === 'compute').length,
  reusedSteps: decisions.filter((d) => d === 'reuse').length, stepMs, totalMs: stepMs.reduce((a, b) => a + b, 0), readbacks: 0, decisions,
});

describe('reuseCostOf / speedRow', () => {
  // 10 steps: 4 computed at 10 ms, 6 reused at 1 ms, one of which a GC pause made 7 ms. The wall
  // clock pays the pause: the run takes 40 + 12 = 52 ms, so a reused step costs 2 ms on average.
  const decisions = ['compute', 'reuse', 'compute', 'reuse', 'reuse', 'compute', 'reuse', 'reuse', 'reuse', 'compute'] as const;
  const steps = [10, 1, 10, 7, 1, 10, 1, 1, 1, 10];

  it('is the ratio of mean step costs, which the wall clock pays, where per-step medians drop the slow reused step', () => {
    expect(reuseCostOf([run(steps, [...decisions])])).toBeCloseTo(2 / 10, 12);
    const row = speedRow('p', 4, 10, [100], [52], [run(steps, [...decisions])]);
    expect(row.reuseCostMedian).toBeCloseTo(1 / 10, 12); // the old estimate
    expect(row.reuseCost).toBeCloseTo(0.2, 12);
    // none: 10 steps at 10 ms = 100 ms; the policy's run: 52 ms → 1.923×, exactly the ideal 10 / (4 + 6·0.2)
    expect(row.idealSpeedup).toBeCloseTo(10 / 5.2, 12);
    expect(row.efficiency).toBeCloseTo(1, 12);
  });

  it('takes the median over runs, so one disturbed run does not move it', () => {
    const calm = run([10, 1, 10, 1], ['compute', 'reuse', 'compute', 'reuse']);
    const noisy = run([10, 21, 10, 1], ['compute', 'reuse', 'compute', 'reuse']);
    expect(reuseCostOf([calm, noisy, calm])).toBeCloseTo(0.1, 12);
    expect(reuseCostOf([run([10, 10], ['compute', 'compute'])])).toBe(0); // nothing reused
  });
});

describe('pairedSpeedup', () => {
  it('takes each pair\'s ratio, so a load that drifts between pairs cancels', () => {
    // a policy exactly 2× faster; the machine's load doubles after the third pair and the fifth pair
    // is slowed down on both sides: every pair says 2
    const none = [100, 100, 100, 200, 300, 200, 200];
    const policy = [50, 50, 50, 100, 150, 100, 100];
    expect(pairedSpeedup(none, policy)).toBeCloseTo(2, 12);
    // the load changes between a pair's runs in pairs 4 and 5 only: the ratio of the medians
    // (median 200 / median 50) would say 4
    const [a, b] = [[100, 100, 100, 200, 300, 200, 200], [50, 50, 50, 50, 50, 100, 100]];
    expect(pairedSpeedup(a, b)).toBeCloseTo(2, 12); // pairs 1–3 and 6–7 say 2, pairs 4–5 say 4 and 6
    expect(() => pairedSpeedup([1, 2], [1])).toThrow(/one none run per policy run/);
  });

  it('is what speedRow reports', () => {
    const st: SampleStats = { steps: 10, computedSteps: 10, reusedSteps: 0, stepMs: [], totalMs: 0, readbacks: 0, decisions: [] };
    const row = speedRow('p', null, 10, [100, 300, 120], [100, 100, 150], [st, st, st]);
    expect(row.speedup).toBeCloseTo(1, 12); // ratios 1, 3, 0.8 → 1; the ratio of the medians would be 120 / 100 = 1.2
    expect([row.msNone, row.msPolicy]).toEqual([120, 100]);
  });
});

describe('fixedMs (the time outside the steps)', () => {
  it('is the median over runs of wall clock − Σ stepMs, for each side of measureInterleaved', async () => {
    const one = (stepMs: number[]): SampleStats => ({ ...stats(stepMs.length), stepMs });
    // none: 4 steps of 10 ms + 1 ms outside; the policy: 2 steps of 10 ms + 8 ms outside (a plan fetch)
    const [row] = await measureInterleaved(4, [{ policy: 'p', budget: 2 }],
      async () => ({ ms: 41, stats: one([10, 10, 10, 10]) }), async () => ({ ms: 28, stats: one([10, 0, 10, 0]) }), 3);
    expect(row!.fixedMsNone).toBeCloseTo(1, 12);
    expect(row!.fixedMsPolicy).toBeCloseTo(8, 12);
    expect(fixedMs([10, 20, 50], [one([2, 3]), one([5, 5]), one([1])])).toBeCloseTo(10, 12); // 5, 10, 49
  });
});

describe('medianInterval / efficiencyCi', () => {
  it('is the sign-test interval: order statistics j and n+1−j around the median', () => {
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull(); // too few values for a 95 % interval
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual([1, 6]); // n = 6: j = 1, the extremes
    // n = 64: j = ⌊32 − 7.84⌋ = 24 → the 24th and 41st smallest
    const xs = Array.from({ length: 64 }, (_, i) => 63 - i);
    expect(medianInterval(xs)).toEqual([23, 40]);
    // it narrows as pairs accumulate: n = 16 → j = ⌊8 − 3.92⌋ = 4
    expect(medianInterval(Array.from({ length: 16 }, (_, i) => i))).toEqual([3, 12]);
  });

  it('brackets the efficiency of a row, divided by the ideal', () => {
    const st = run([10, 1, 10, 1], ['compute', 'reuse', 'compute', 'reuse']); // reuse cost 0.1 → ideal 4 / 2.2
    const none = [100, 100, 100, 100, 100, 100, 100, 100];
    const policy = [50, 52, 54, 56, 58, 60, 62, 64];
    const row = speedRow('p', 2, 4, none, policy, policy.map(() => st));
    const ideal = 4 / 2.2;
    expect(row.idealSpeedup).toBeCloseTo(ideal, 12);
    // n = 8: j = ⌊4 − 2.77⌋ = 1 → the smallest and largest ratio, 100/64 and 100/50
    expect(row.efficiencyCi![0]).toBeCloseTo(100 / 64 / ideal, 12);
    expect(row.efficiencyCi![1]).toBeCloseTo(100 / 50 / ideal, 12);
    expect(row.efficiencyCi![0]).toBeLessThan(row.efficiency);
    expect(row.efficiencyCi![1]).toBeGreaterThan(row.efficiency);
    expect(speedRow('p', 2, 4, [100], [50], [st]).efficiencyCi).toBeUndefined();
  });
});
