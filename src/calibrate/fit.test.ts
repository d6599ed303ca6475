import { describe, expect, it } from 'vitest';
import { leastSquares } from '../core/linalg.ts';
import { fitAffine, phiForStep } from './fit.ts';
import { magCacheComputedSteps, searchMagCacheDelta } from './magcache-fit.ts';
import { tokenNorms } from './profile.ts';
import { bisectThreshold } from './search.ts';
import { polyfit, teaCacheComputedSteps } from './teacache-fit.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('fitAffine (ertacache.md (c): a = Cov(x, ε)/Var(x), b = mean ε − a·mean x)', () => {
  it('recovers an exact per-channel affine error, channel = floor(k / inner) % channels', () => {
    // layout 2 channels × inner 2, two batch rows: channel 0 gets ε = .5x − .25, channel 1 ε = −2x + 1
    const x = f32([1, 2, 3, 5, -1, 0, 4, 8]);
    const eps = f32(Array.from(x, (v, k) => (Math.floor(k / 2) % 2 === 0 ? 0.5 * v - 0.25 : -2 * v + 1)));
    const { a, b } = fitAffine(x, eps, { channels: 2, inner: 2 });
    expect(Array.from(a)).toEqual([0.5, -2]);
    expect(Array.from(b)).toEqual([-0.25, 1]);
  });

  it('a constant input gets a = 0 and b = mean ε (no division by a zero variance)', () => {
    const { a, b } = fitAffine(f32([2, 2, 2]), f32([1, 2, 6]), { channels: 1, inner: 1 });
    expect([a[0], b[0]]).toEqual([0, 3]);
  });
});

describe('phiForStep (ertacache.md (b))', () => {
  it('is 1 − error/change per sample, clipped to [0, 1], then averaged', () => {
    // sample 0: ‖ṽ − v‖₁ = 1, ‖v_i − v_i+1‖₁ = 4 → .75; sample 1: error 3 > change 2 → 0
    const phi = phiForStep(f32([1, 0, 3, 0]), f32([0, 0, 0, 0]), f32([4, 0, 2, 0]), f32([0, 0, 0, 0]), 2);
    expect(phi).toBeCloseTo(0.375, 6);
  });
});

describe('polyfit and least squares', () => {
  it('matches numpy.polyfit(x, y, 4) on the same data', () => {
    const x = Array.from({ length: 30 }, (_, k) => 0.01 * k + 0.002 * Math.sin(k));
    const y = x.map((v, k) => 0.3 * v - 2 * v ** 2 + 5 * v ** 3 + 0.01 * Math.cos(3 * k));
    const numpy = [21.62119999785964, -8.069810161118896, 0.631990513776963, 0.10265877374785327, 0.004085773331854229];
    polyfit(x, y, 4).forEach((c, k) => expect(c).toBeCloseTo(numpy[k]!, 6));
  });

  it('solves a consistent overdetermined system exactly', () => {
    const c = leastSquares([1, 0, 0, 1, 1, 1, 2, -1], 4, 2, [3, -2, 1, 8]);
    expect(c[0]).toBeCloseTo(3, 12);
    expect(c[1]).toBeCloseTo(-2, 12);
  });
});

describe('residual token norms (MagCache γ)', () => {
  it('takes ‖·‖₂ over the channel axis for channels-last and channels-first layouts', () => {
    // [B=1, N=2, D=2] channels last: tokens (3, 4) and (0, 5)
    expect(Array.from(tokenNorms(f32([3, 4, 0, 5]), { channels: 2, inner: 1 }))).toEqual([5, 5]);
    // [B=1, D=2, N=2] channels first, laid out [3, 0 | 4, 12]: token 0 = (3, 4), token 1 = (0, 12)
    expect(Array.from(tokenNorms(f32([3, 0, 4, 12]), { channels: 2, inner: 2 }))).toEqual([5, 12]);
  });
});

describe('threshold searches', () => {
  it('bisection hits a reachable count and reports the closest one when it jumps over', async () => {
    const stairs = async (t: number) => ({ count: t < 0.3 ? 10 : t < 0.5 ? 7 : t < 0.6 ? 5 : 2, result: null });
    expect((await bisectThreshold(stairs, 7)).count).toBe(7);
    const jump = await bisectThreshold(stairs, 6); // 7 and 5 are equally close: prefer the one within budget
    expect(jump.count).toBe(5);
    expect((await bisectThreshold(stairs, 10)).threshold).toBe(0);
  });

  it('MagCache δ search reaches the budget when K allows it', async () => {
    const gamma = Array.from({ length: 20 }, (_, i) => (i === 0 ? 1 : 0.97 + 0.002 * i));
    const found = await searchMagCacheDelta(gamma, 10, { K: 4, retention: 0.2 });
    expect(found.count).toBe(10);
    expect(magCacheComputedSteps(gamma, found.threshold, { K: 4, retention: 0.2 })).toBe(10);
  });

  it('TeaCache step count follows the rule on a recorded indicator sequence', () => {
    // f(x) = x, δ = .12: step 0 C; acc .05 R, .10 R, .15 C, .2 C; last C → 4 computed of 6
    expect(teaCacheComputedSteps([0, 0, 0, 1, 0], 0.12, [NaN, 0.05, 0.05, 0.05, 0.2, 0.01])).toBe(4);
  });
});
