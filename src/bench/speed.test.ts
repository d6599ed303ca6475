// The interleaved A/B protocol charges a position effect to neither side: with equal costs and
// a penalty on whichever run of a pair comes first, the medians of `none` and the policy agree.

import { describe, expect, it } from 'vitest';
import type { SampleStats } from '../core/types.ts';
import { measureInterleaved, type TimedRun } from './speed.ts';

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
    expect(row!.speedup).toBe(1);
  });
});
