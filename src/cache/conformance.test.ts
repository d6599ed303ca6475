// One conformance suite for every cache policy (style.md: diffusers' shared cache tests),
// then each policy's own rule pinned on a hand-checked decision sequence.
// Decisions are joint for the CFG batch by design (types.ts), so "cond/uncond isolation" is a
// property of the sampler's batch-2 residual, tested in src/core/sampler.test.ts; here
// isolation means two policy instances share no state.

import { describe, expect, it } from 'vitest';
import { MAX_DT_SCALE } from '../core/types.ts';
import type { CachePolicy, StepDecision } from '../core/types.ts';
import { PlanMismatchError } from './plan.ts';
import { POLICY_KINDS } from './policy.ts';
import { createPolicy, UnknownPolicyError } from './registry.ts';
import type { PolicyOptions } from './registry.ts';
import { forecastWeights } from './ertacache.ts';
import { taylorBudgetSteps } from './taylorseer.ts';
import { easyPlan, ertaPlan, magPlan, teaPlan } from './test-plans.ts';

const T = 10;
const indicatorA = (i: number) => 0.04 + 0.03 * Math.abs(Math.sin(i));
const indicatorB = (i: number) => 0.2 * ((i * 7) % 3);

/** Drive a policy through steps [0, upto) the way the sampler does. */
function drive(p: CachePolicy, indicator = indicatorA, upto = T, steps = T): StepDecision[] {
  const out: StepDecision[] = [];
  for (let i = 0; i < upto; i++) out.push(step(p, i, indicator, steps));
  return out;
}

/** Output-level policies (EasyCache) see x_i = the indicator as a 2-pixel latent, v = 2x + 1 on both branches. */
function step(p: CachePolicy, i: number, indicator: (i: number) => number, steps = T): StepDecision {
  if (p.needsIndicator && i > 0) p.observeIndicator!(i, indicator(i));
  const x = Float32Array.of(indicator(i), -indicator(i) / 2);
  if (p.level === 'output') p.observeInput!(i, x);
  const d = p.decide({ i, steps, sigma: 1 - i / steps });
  if (p.level === 'output' && d.kind === 'compute') p.observeOutput!(i, Float32Array.from([...x, ...x], (v) => 2 * v + 1), 2);
  return d;
}

const kinds = (d: StepDecision[]) => d.map((x) => (x.kind === 'compute' ? 'C' : 'R')).join('');

const S = [2, 3, 5, 7];
const phi = [1, 1, 0.9, 0.6, 1, 0.75, 1, 0.5, 1, 1];
const erta = ertaPlan({
  steps: T, reuse: S, phi, a: [0.1, 0.2], b: [0, 0.05], phiPaper: phi.map((v) => v / 2), timeRule: 'carry',
  forecast: { reuse: [3, 4, 6, 7], gain: 0.5, phi: [1, 1, 1, 1.25, 0.5, 1, 1, 1, 1, 1] },
});
const gamma = [1, 1, 0.98, 0.95, 0.9, 0.97, 0.99, 0.9, 0.8, 0.7];

const cases: Record<(typeof POLICY_KINDS)[number], PolicyOptions> = {
  'none': {},
  'uniform': { interval: 4 }, // 9 % 4 ≠ 0: the forced last step is what makes step 9 compute
  'teacache': { plan: teaPlan(T, 0.12) },
  'magcache': { plan: magPlan(T, 0.12, gamma) },
  'easycache': { plan: easyPlan(T, 0.3) },
  'taylorseer': { uniformBudget: 6 },
  'taylorseer-2': { uniformBudget: 6 },
  'ertacache-schedule': { plan: erta },
  'ertacache-paper': { plan: erta },
  'ertacache-schedule+dt': { plan: erta },
  'ertacache': { plan: erta },
  'ertacache-forecast': { plan: erta },
  'ertacache-forecast+rect': { plan: erta },
};

describe.each(POLICY_KINDS.map((k) => [k, cases[k]] as const))('conformance: %s', (kind, options) => {
  const make = () => createPolicy(kind, { ...options, steps: T });

  it('computes the first step and (except magcache, as published) the last', () => {
    const d = drive(make());
    expect(d[0]!.kind).toBe('compute');
    if (kind !== 'magcache') expect(d[T - 1]!.kind).toBe('compute');
  });

  it('returns dtScale in [0, MAX_DT_SCALE] and finite weights, never NaN, and reuses unless it is none', () => {
    const d = drive(make());
    for (const x of d) {
      if (x.kind !== 'reuse') continue;
      expect(x.dtScale >= 0 && x.dtScale <= MAX_DT_SCALE).toBe(true);
      for (const w of x.weights ?? [1]) expect(Number.isFinite(w)).toBe(true);
      expect((x.weights ?? [1]).length).toBeLessThanOrEqual(make().history ?? 1);
    }
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
    const expected = {
      'ertacache-schedule': { scales: [1, 1, 1, 1], rule: 'proportional', rect: false },
      'ertacache-paper': { scales: [0.45, 0.3, 0.375, 0.25], rule: 'proportional', rect: false },
      'ertacache-schedule+dt': { scales: [0.9, 0.6, 0.75, 0.5], rule: 'carry', rect: false },
      'ertacache': { scales: [0.9, 0.6, 0.75, 0.5], rule: 'carry', rect: true },
    };
    for (const [kind, e] of Object.entries(expected)) {
      const p = createPolicy(kind, { plan: erta });
      const d = drive(p);
      expect(d.flatMap((x, i) => (x.kind === 'reuse' ? [i] : []))).toEqual(S);
      expect(S.map((i) => (d[i] as { dtScale: number }).dtScale)).toEqual(e.scales);
      expect(d.every((x) => x.kind === 'compute' || x.weights === undefined)).toBe(true); // stale reuse
      expect([p.timeRule, p.history]).toEqual([e.rule, 1]);
      const rect = p.rectification(3);
      expect(rect === null ? null : Array.from(rect.b)).toEqual(e.rect ? [0, 0.05000000074505806] : null);
    }
    const off = createPolicy('ertacache', { plan: { ...erta, rectify: false } });
    expect(off.rectification(3)).toBeNull(); // calibration found it did not help
  });

  it('ertacache-forecast: its own S_f, φ and time rule; weights extrapolate in σ from the last two computes', () => {
    const p = createPolicy('ertacache-forecast', { plan: erta });
    expect(p.history).toBe(2);
    const d = drive(p);
    expect(kinds(d)).toBe('CCCRRCRRCC');
    // step 3 (σ .7) after computes at σ_k = .8 and σ_j = .9: α = (σ_k − σ_i)/(σ_j − σ_k) = 1, g = .5 → [1.5, −.5]
    expect(d[3]).toEqual({ kind: 'reuse', dtScale: 1.25, weights: forecastWeights(0.5, 0.7, [0.8, 0.9]) });
    const [w0, w1] = forecastWeights(0.5, 0.7, [0.8, 0.9]);
    expect([w0, w1]).toEqual([expect.closeTo(1.5, 12), expect.closeTo(-0.5, 12)]);
    expect(d[4]).toMatchObject({ dtScale: 0.5 });
    expect(forecastWeights(1, 0.5, [0.8])).toEqual([1]); // stale until two computed steps exist
    expect(p.rectification(3)).toBeNull();
    expect(createPolicy('ertacache-forecast+rect', { plan: erta }).rectification(3)).toBeNull(); // none fitted
    expect(() => createPolicy('ertacache-forecast', { plan: { ...erta, forecast: null } })).toThrow(/calibrated with the forecast/);
  });

  it('taylorseer: warm-up 3, then exactly the budget, evenly spread, last step included', () => {
    expect([...taylorBudgetSteps(50, 17, 3)].sort((a, b) => a - b))
      .toEqual([0, 1, 2, 5, 9, 12, 15, 19, 22, 25, 29, 32, 36, 39, 42, 46, 49]);
    for (const budget of [5, 17, 25, 34, 50]) {
      const set = taylorBudgetSteps(50, budget, 3);
      expect([set.size, set.has(0), set.has(1), set.has(2), set.has(49)]).toEqual([budget, true, true, true, true]);
      const tail = [...set].filter((i) => i >= 2).sort((a, b) => a - b);
      const gaps = tail.slice(1).map((v, k) => v - tail[k]!);
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
    }
    expect(() => taylorBudgetSteps(50, 3, 3)).toThrow(/taylorseer budget/);
  });

  it('taylorseer as published: N-interval, D_{k+1} = (D_k(a) − D_k(a_prev))/d in step units', () => {
    // warm-up 3, N = 3: full iff i < 3 or (i − 3) % 3 = 0 → 0, 1, 2, 3, 6, 9 (no forced last step)
    const d1 = drive(createPolicy('taylorseer', { interval: 3 }));
    expect(kinds(d1)).toBe('CCCCRRCRRC');
    // order 1 at step 4: r3 + (r3 − r2)·1 → [2, −1]; step 5: [3, −2]; step 7 (a = 6, d = 3): r6 + (r6 − r3)/3
    const w = (d: StepDecision | undefined) => (d as { weights: readonly number[] }).weights;
    expect([w(d1[4]), w(d1[5])]).toEqual([[2, -1], [3, -2]]);
    expect(w(d1[7])).toEqual([expect.closeTo(4 / 3, 12), expect.closeTo(-1 / 3, 12)]);
    // order 2 at step 4 (d = 1): D1 = r3 − r2, D2 = r3 − 2r2 + r1 → r̂ = r3 + D1 + D2/2 = 2.5r3 − 2r2 + .5r1
    const d2 = drive(createPolicy('taylorseer-2', { interval: 3 }));
    expect(w(d2[4])).toEqual([2.5, -2, 0.5]);
  });

  it('easycache: compute through retSteps and the last step; acc += k·mean|Δx|/mean|v_last|, reuse while acc < thresh', () => {
    // x_i = (a_i, −a_i/2), v = 2x + 1 ⇒ k = mean|Δv|/mean|Δx| = 2 once two computes exist.
    const a = (i: number) => 0.1 * i;
    const p = createPolicy('easycache', { plan: easyPlan(T, 0.3, 2) });
    const d = drive(p, a);
    // step 2: v_last (step 1) = (1.2, .95), mean .... acc = 2·(.075)/1.075 = .1395 R; step 3: +.1395 → .279 R; step 4 .4186 C
    expect(kinds(d)).toBe('CCRRCRRCRC');
    expect(p.level).toBe('output');
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
