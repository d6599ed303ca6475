// DDIM as Euler in flow variables (src/core/ddim.ts): the σ grid, t(σ) as the exact inverse of the
// schedule, and the whole sampler on an exact ε-model of a point mass, which DDIM must land on
// exactly (x̂₀ is exact at every step), split and single, with stale reuse in between too.

import { describe, expect, it } from 'vitest';
import { createCpuOps, type CpuTensor } from './ops.ts';
import { alphasCumprod, ddimSigmas, ddimTimesteps, DIT_DDIM, epsilonAsVelocity, timestepOf } from './ddim.ts';
import { sample } from './sampler.ts';
import { asSingle, createToySplit } from './toy-denoisers.ts';
import { createNonePolicy } from '../cache/none.ts';
import { createUniformPolicy } from '../cache/uniform.ts';

const abar = alphasCumprod(DIT_DDIM);

/** ᾱ at a continuous t, log-linear between integers (the inverse of timestepOf). */
function abarAt(t: number): number {
  const lo = Math.floor(t);
  const hi = Math.min(lo + 1, abar.length - 1);
  const u = t - lo;
  return Math.exp((1 - u) * Math.log(abar[lo]!) + u * Math.log(abar[hi]!));
}

describe('DDIM schedule', () => {
  it('matches diffusers: linear betas 1e-4 … 0.02 over 1000 steps, trailing timesteps', () => {
    expect(abar[0]).toBeCloseTo(0.9999, 10);
    expect(abar[999]).toBeCloseTo(4.0358e-5, 8); // DiT / diffusers' alphas_cumprod[-1]
    expect(ddimTimesteps(4, DIT_DDIM)).toEqual([999, 749, 499, 249]);
    const s = ddimSigmas(4, DIT_DDIM);
    expect(s[4]).toBe(0);
    for (let i = 0; i < 4; i++) expect(s[i]!).toBeGreaterThan(s[i + 1]!);
    expect(s[0]).toBeCloseTo(0.99369, 4);
  });

  it('t(σ) inverts σ(t) on and between the integers, clamped at the ends', () => {
    for (const t of [0, 1, 37, 500.25, 998.5, 999]) {
      const a = abarAt(t);
      const sigma = Math.sqrt(1 - a) / (Math.sqrt(a) + Math.sqrt(1 - a));
      expect(timestepOf(sigma, abar)).toBeCloseTo(t, 6);
    }
    expect(timestepOf(1, abar)).toBe(999);
    expect(timestepOf(0, abar)).toBe(0);
  });
});

describe('ε-model through the flow sampler', () => {
  const target = [0.5, -0.25, 0.75, 0.1];
  // exact ε of a point mass x₀ = target: ε = (x_vp − α x₀) / s; the toy returns v = x + residual = ε.
  const toy = (ops: ReturnType<typeof createCpuOps>) => createToySplit(ops, [1, 4, 1, 1], (row, t) => {
    const a = abarAt(t);
    return row.map((x, k) => (x - Math.sqrt(a) * target[k % 4]!) / Math.sqrt(1 - a) - x);
  });
  const noise = (ops: ReturnType<typeof createCpuOps>) => ops.fromHost(Float32Array.from([1.2, -0.7, 0.3, 2.1]), [1, 4, 1, 1]);

  for (const mode of ['split', 'single'] as const) {
    it(`lands on the point mass (${mode}, every step computed)`, async () => {
      const ops = createCpuOps();
      const split = toy(ops);
      const den = epsilonAsVelocity(mode === 'split' ? split : asSingle(split, ops), ops, DIT_DDIM);
      const { x } = await sample({ denoiser: den, ops, sigmas: ddimSigmas(6, DIT_DDIM), policy: createNonePolicy(),
        noise: noise(ops), cond: { label: 0, nullLabel: 10 }, guidance: 1 });
      [...(x as CpuTensor).data].forEach((v, k) => expect(v).toBeCloseTo(target[k]!, 4));
    });
  }

  it('and with CFG and reused steps (the stale velocity still points at x₀ here)', async () => {
    const ops = createCpuOps();
    const den = epsilonAsVelocity(toy(ops), ops, DIT_DDIM);
    const { x, stats } = await sample({ denoiser: den, ops, sigmas: ddimSigmas(8, DIT_DDIM), policy: createUniformPolicy({ interval: 2 }),
      noise: noise(ops), cond: { label: 1, nullLabel: 10 }, guidance: 3 });
    expect(stats.reusedSteps).toBeGreaterThan(0);
    // reusing v = ε − x̂₀ at another σ is not exact, but the result stays near x₀
    [...(x as CpuTensor).data].forEach((v, k) => expect(Math.abs(v - target[k]!)).toBeLessThan(0.5));
  });
});
