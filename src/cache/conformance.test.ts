// One conformance suite for every cache policy (style.md: diffusers' shared cache tests),
// then each policy's own rule pinned on a hand-checked decision sequence.
// Decisions are joint for the CFG batch by design (types.ts), so "cond/uncond isolation" is a
// property of the sampler's batch-2 residual, tested in src/core/sampler.test.ts; here
// isolation means two policy instances share no state.

import { describe, expect, it } from 'vitest';
import type { CachePolicy, StepDecision } from '../core/types.ts';
import { PlanMismatchError } from './plan.ts';
import { POLICY_KINDS } from './policy.ts';
import { createPolicy, UnknownPolicyError } from './registry.ts';
import type { PolicyOptions } from './registry.ts';
import { ertaPlan, magPlan, teaPlan } from './test-plans.ts';

const T = 10;
const indicatorA = (i: number) => 0.04 + 0.03 * Math.abs(Math.sin(i));
const indicatorB = (i: number) => 0.2 * ((i * 7) % 3);

/** Drive a policy through steps [0, upto) the way the sampler does. */
function drive(p: CachePolicy, indicator = indicatorA, upto = T, steps = T): StepDecision[] {
  const out: StepDecision[] = [];
  for (let i = 0; i < upto; i++) out.push(step(p, i, indicator, steps));
  return out;
}

function step(p: CachePolicy, i: number, indicator: (i: number) => number, steps = T): StepDecision {
  if (p.needsIndicator && i > 0) p.observeIndicator!(i, indicator(i));
  return p.decide({ i, steps, sigma: 1 - i / steps });
}

const kinds = (d: StepDecision[]) => d.map((x) => (x.kind === 'compute' ? 'C' : 'R')).join('');

const S = [2, 3, 5, 7];
const phi = [1, 1, 0.9, 0.6, 1, 0.75, 1, 0.5, 1, 1];
const erta = ertaPlan({ steps: T, reuse: S, phi, a: [0.1, 0.2], b: [0, 0.05] });
const gamma = [1, 1, 0.98, 0.95, 0.9, 0.97, 0.99, 0.9, 0.8, 0.7];

const cases: Record<(typeof POLICY_KINDS)[number], PolicyOptions> = {
  'none': {},
  'uniform': { interval: 4 }, // 9 % 4 ≠ 0: the forced last step is what makes step 9 compute
  'teacache': { plan: teaPlan(T, 0.12) },
  'magcache': { plan: magPlan(T, 0.12, gamma) },
  'ertacache-schedule': { plan: erta },
  'ertacache-schedule+dt': { plan: erta },
  'ertacache': { plan: erta },
};

describe.each(POLICY_KINDS.map((k) => [k, cases[k]] as const))('conformance: %s', (kind, options) => {
  const make = () => createPolicy(kind, { ...options, steps: T });

  it('computes the first step and (except magcache, as published) the last', () => {
    const d = drive(make());
    expect(d[0]!.kind).toBe('compute');
    if (kind !== 'magcache') expect(d[T - 1]!.kind).toBe('compute');
  });

  it('returns dtScale in [0, 1], never NaN, and reuses at least once unless it is none', () => {
    const d = drive(make());
    for (const x of d) if (x.kind === 'reuse') expect(x.dtScale >= 0 && x.dtScale <= 1).toBe(true);
    expect(d.some((x) => x.kind === 'reuse')).toBe(kind !== 'none');
  });

  it('reset() restores first-run behaviour after a partial and after a full run', () => {
    const p = make();
    const first = drive(p);
    drive(p, indicatorB, 6);
    p.reset();
    expect(drive(p)).toEqual(first);
    p.reset();
    expect(drive(p)).toEqual(first);
  });

  it('two instances share no state, even interleaved with different inputs', () => {
    const soloA = drive(make(), indicatorA);
    const soloB = drive(make(), indicatorB);
    const a = make();
    const b = make();
    const da: StepDecision[] = [];
    const db: StepDecision[] = [];
    for (let i = 0; i < T; i++) {
      da.push(step(a, i, indicatorA));
      db.push(step(b, i, indicatorB));
    }
    expect([da, db]).toEqual([soloA, soloB]);
  });

  it('offers a rectification only at reused steps', () => {
    const p = make();
    drive(p).forEach((d, i) => {
      if (d.kind === 'compute') expect(p.rectification(i)).toBeNull();
    });
  });
});

describe('policy rules', () => {
  it('uniform computes iff i % N == 0 or i is last', () => {
    for (const N of [1, 2, 3, 4, 7]) {
      for (const steps of [5, 10, 13]) {
        const d = drive(createPolicy('uniform', { interval: N }), indicatorA, steps, steps);
        d.forEach((x, i) => expect(x.kind === 'compute').toBe(i % N === 0 || i === steps - 1));
      }
    }
  });

  it('ertacache kinds reuse exactly the plan S; φ only with +dt; a, b only for the full method', () => {
    for (const kind of ['ertacache-schedule', 'ertacache-schedule+dt', 'ertacache'] as const) {
      const p = createPolicy(kind, { plan: erta });
      const d = drive(p);
      expect(d.flatMap((x, i) => (x.kind === 'reuse' ? [i] : []))).toEqual(S);
      const scales = S.map((i) => (d[i] as { dtScale: number }).dtScale);
      expect(scales).toEqual(kind === 'ertacache-schedule' ? [1, 1, 1, 1] : [0.9, 0.6, 0.75, 0.5]);
      const rect = p.rectification(3);
      expect(rect === null ? null : Array.from(rect.b)).toEqual(kind === 'ertacache' ? [0, 0.05000000074505806] : null);
    }
  });

  it('a plan for another step count fails with a message that says to calibrate', () => {
    expect(() => createPolicy('ertacache', { plan: erta, steps: 20 })).toThrow(PlanMismatchError);
    const p = createPolicy('ertacache', { plan: erta });
    expect(() => p.decide({ i: 0, steps: 20, sigma: 1 })).toThrow(/calibrate for 20 steps/);
    expect(() => createPolicy('magcache', { plan: magPlan(T, 0.1, gamma) }).decide({ i: 0, steps: 12, sigma: 1 }))
      .toThrow(PlanMismatchError);
  });

  it('teacache: acc += f(rel) with f(x) = x; reuse while acc < δ (.12)', () => {
    const rel = [0, 0.05, 0.05, 0.05, 0.2, 0.01, 0.01, 0.01, 0.01, 0.3];
    // acc: .05 R, .10 R, .15 C(→0), .2 C, .01 R, .02 R, .03 R, .04 R, last C
    expect(kinds(drive(createPolicy('teacache', { plan: teaPlan(T, 0.12) }), (i) => rel[i]!))).toBe('CRRCCRRRRC');
  });

  it('magcache: ratio *= γ, err += |1 − ratio|, reuse while err < δ and k ≤ K', () => {
    // i2 .98 err .02 R; i3 .931 err .089 R; i4 k=3 C; i5 .97 R; i6 .9603 err .0697 R; i7 k=3 C;
    // i8 ratio .8 err .2 C; i9 .7 C
    expect(kinds(drive(createPolicy('magcache', { plan: magPlan(T, 0.12, gamma) })))).toBe('CCRRCRRCCC');
    // γ ≡ 1: only K limits reuse, and the last step may reuse (no forced last step, as published)
    expect(kinds(drive(createPolicy('magcache', { plan: magPlan(T, 0.12, new Array(T).fill(1)) })))).toBe('CCRRCRRCRR');
  });

  it('an unknown kind lists the known ones', () => {
    expect(() => createPolicy('fora')).toThrow(UnknownPolicyError);
    expect(() => createPolicy('fora')).toThrow(expect.objectContaining({
      code: 'UNKNOWN_POLICY', hint: expect.stringContaining('ertacache-schedule+dt'),
    }));
  });
});
