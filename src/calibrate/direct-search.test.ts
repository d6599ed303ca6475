// The direct search and the time warp, on synthetic objectives (the end-to-end search on a real
// flow is in calibrate.test.ts; the simulation = sampler check too).

import { describe, expect, it } from 'vitest';
import { createPolicy } from '../cache/registry.ts';
import { ertaPlan } from '../cache/test-plans.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import type { CachePolicy } from '../core/types.ts';
import { moveReuse, rampPhi, reuseGroups, searchReuseSet, searchStepAdjustment, stepRatios } from './direct-search.ts';
import type { StepAdjustment } from './direct-search.ts';

const T = 20;
const reuse = [2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17];

describe('stepRatios: the time warp of a static plan', () => {
  const sigmas = flowMatchSigmas(T);
  const zeros = new Array<number>(T).fill(1).map((v, i) => (reuse.includes(i) ? 0 : v));

  it("proportional with φ = 0 snowballs onto the last step; 'carry' gives each compute back only its own debt", () => {
    const prop = stepRatios(createPolicy('ertacache-schedule+dt', { plan: ertaPlan({ steps: T, reuse, phi: zeros }) }), sigmas);
    const carry = stepRatios(createPolicy('ertacache-schedule+dt',
      { plan: ertaPlan({ steps: T, reuse, phi: zeros, timeRule: 'carry' }) }), sigmas);
    expect(prop.reduce((s, r) => s + r, 0) / T).toBeCloseTo(1, 12); // Σ Δ = 1 either way
    expect(carry.reduce((s, r) => s + r, 0) / T).toBeCloseTo(1, 12);
    expect(Math.max(...prop)).toBeGreaterThan(2.4); // the lump at the end
    expect(prop.indexOf(Math.max(...prop))).toBeGreaterThanOrEqual(T - 2); // at the end
    expect(Math.max(...carry)).toBeCloseTo(3, 12); // a compute after two φ = 0 steps: 1 + 2
    reuse.forEach((i) => expect(carry[i]).toBe(0));
  });

  it('full steps (schedule only) take exactly their nominal size', () => {
    const r = stepRatios(createPolicy('ertacache-schedule', { plan: ertaPlan({ steps: T, reuse }) }), sigmas);
    r.forEach((v) => expect(v).toBeCloseTo(1, 12));
  });
});

describe('rampPhi: φ linear over the reused steps', () => {
  it('runs from the first reused step to the last by rank, 1 on computed steps', () => {
    const phi = rampPhi(T, reuse, 0.25, 0.75);
    expect(phi).toHaveLength(T);
    expect(phi[reuse[0]!]).toBe(0.25);
    expect(phi[reuse[reuse.length - 1]!]).toBe(0.75);
    expect(phi[reuse[5]!]).toBeCloseTo(0.25 + 0.5 * 5 / (reuse.length - 1), 12); // by rank, not by step index
    for (let i = 0; i < T; i++) if (!reuse.includes(i)) expect(phi[i]).toBe(1);
    expect(rampPhi(T, [4], 0.5, 0.75)[4]).toBe(0.5); // one reused step: the start
  });
});

describe('searchStepAdjustment', () => {
  it('splits the reused steps into runs of consecutive indices', () => {
    expect(reuseGroups(reuse, 4)).toEqual([[2, 3, 5], [6, 8, 9], [11, 12], [14, 15, 17]]);
    expect(reuseGroups([4], 4)).toEqual([[4]]);
  });

  it('finds the grid optimum, the rule and the gain, then improves per-step φ where it pays', async () => {
    // objective: peak at carry, gain 1.25, φ = .5 on the first half of S and .75 on the rest
    const target = (i: number) => (i < 9 ? 0.5 : 0.75);
    const policy = (a: StepAdjustment) => ({ a }) as unknown as CachePolicy;
    const score = async (p: CachePolicy) => {
      const { a } = p as unknown as { a: StepAdjustment };
      const err = reuse.reduce((s, i) => s + (a.phi[i]! - target(i)) ** 2, 0);
      return 50 - 10 * err - (a.timeRule === 'carry' ? 0 : 1) - Math.abs((a.gain ?? 0) - 1.25);
    };
    const log: string[] = [];
    const r = await searchStepAdjustment({ steps: T, reuse, policy, score, log: (m) => log.push(m), label: 't' },
      { gains: true, sweeps: 1 });
    expect([r.timeRule, r.gain]).toEqual(['carry', 1.25]);
    expect(r.phi[2]).toBe(0.5); // grid optimum .5 … (an all-.5 start)
    expect(r.phi[17]).toBe(0.75); // … then the last groups moved up by .25
    expect(r.phi[0]).toBe(1); // computed steps keep φ = 1
    expect(r.trials).toBeLessThanOrEqual(2 * 4 + 2 + 8);
    expect(log).toHaveLength(3);
  });
});

describe('searchReuseSet', () => {
  const phi = (steps: number, set: number[], v = 0.5) => new Array<number>(steps).fill(1).map((x, i) => (set.includes(i) ? v : x));

  it('moves a reused step with its φ, never onto the first or last step or an occupied one', () => {
    const p = phi(10, [2, 5], 0.25);
    p[5] = 0.75;
    expect(moveReuse(10, [2, 5], p, 5, 6)).toEqual({ reuse: [2, 6], phi: [1, 1, 0.25, 1, 1, 1, 0.75, 1, 1, 1] });
    expect(moveReuse(10, [2, 5], p, 2, 0)).toBeNull(); // first step computes
    expect(moveReuse(10, [2, 5], p, 5, 9)).toBeNull(); // last step computes
    expect(moveReuse(10, [2, 5], p, 2, 5)).toBeNull(); // taken
    expect(moveReuse(10, [2, 5], p, 3, 4)).toBeNull(); // 3 is not reused
  });

  it('walks the set to a better one by shifts and single moves, keeping the budget', async () => {
    // objective: minus the distance to the target set {6, 9, 12}; the start {3, 9, 10} must travel
    const target = [6, 9, 12];
    const score = async (set: number[]) => -set.reduce((s, i, k) => s + Math.abs(i - target[k]!), 0);
    const start = [3, 9, 10];
    const r = await searchReuseSet({ steps: 16, score, log: () => {}, label: 't' },
      { reuse: start, phi: phi(16, start), psnr: await score(start) }, { passes: 8 });
    expect(r.reuse).toEqual(target);
    expect(r.reuse).toHaveLength(start.length);
    expect(r.phi.filter((v) => v === 0.5)).toHaveLength(3);
    expect(Math.abs(r.psnr)).toBe(0); // reached the target exactly
  });

  it('keeps the start when nothing beats it by more than minGain', async () => {
    const start = [4, 7];
    const r = await searchReuseSet({ steps: 12, score: async (s) => (s.join() === '4,7' ? 1 : 1.01), log: () => {}, label: 't' },
      { reuse: start, phi: phi(12, start), psnr: 1 }, { minGain: 0.05 });
    expect(r.reuse).toEqual(start);
    expect(r.trials).toBeGreaterThan(4);
  });
});
