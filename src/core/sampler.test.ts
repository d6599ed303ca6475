// Golden sampler loops on the hand-computable toy (v = x + σ·g(label)): each pinned number
// below is derived in the comment beside it, so a change to the loop's arithmetic fails here.

import { describe, expect, it } from 'vitest';
import { createPolicy } from '../cache/registry.ts';
import { createUniformPolicy } from '../cache/uniform.ts';
import { CancelledError, InternalError, UnsupportedError } from './errors.ts';
import { createCpuOps } from './ops.ts';
import type { CpuTensor } from './ops.ts';
import { sample } from './sampler.ts';
import type { SampleOptions } from './sampler.ts';
import { flowMatchSigmas } from './schedules.ts';
import { asSingle, createGoldenToy } from './toy-denoisers.ts';
import type { CachePolicy, StepInfo, TensorOps } from './types.ts';
import { easyPlan, ertaPlan, teaPlan } from '../cache/test-plans.ts';
import { createTaylorSeerPolicy } from '../cache/taylorseer.ts';

/** CPU ops that track live tensors, to prove the sampler disposes every intermediate. */
function trackedOps() {
  const base = createCpuOps();
  const live = new Set<CpuTensor>();
  const track = (t: CpuTensor) => { live.add(t); return t; };
  const ops: TensorOps<CpuTensor> = {
    ...base,
    fromHost: (d, dims) => track(base.fromHost(d, dims)),
    tile: (x, n) => track(base.tile(x, n)),
    add: (a, b) => track(base.add(a, b)),
    sub: (a, b) => track(base.sub(a, b)),
    guidance: (v, w) => track(base.guidance(v, w)),
    axpy: (x, v, s) => track(base.axpy(x, v, s)),
    rectifyAffine: (t, a, b, l) => track(base.rectifyAffine(t, a, b, l)),
    dispose: (t) => {
      if (!live.delete(t)) throw new Error('disposed a tensor twice or one it does not own');
    },
  };
  return { ops, live };
}

function run(policy: CachePolicy, extra: Partial<SampleOptions<CpuTensor>> = {}) {
  const { ops, live } = trackedOps();
  const noise = ops.fromHost(Float32Array.of(1), [1, 1, 1, 1]);
  const steps: StepInfo[] = [];
  const promise = sample({
    denoiser: createGoldenToy(ops), ops, sigmas: flowMatchSigmas(4), policy, noise,
    cond: { label: 0, nullLabel: 10 }, guidance: 1, onStep: (s) => steps.push(s), ...extra,
  });
  return { promise, steps, live, noise };
}

async function finalOf(policy: CachePolicy, extra: Partial<SampleOptions<CpuTensor>> = {}) {
  const r = run(policy, extra);
  const { x, stats } = await r.promise;
  return { x: x.data[0]!, stats, dts: r.steps.map((s) => s.dt), sigmas: r.steps.map((s) => s.sigma) };
}

describe('sampler golden loops (T = 4, x₀ = 1, g = 1, w = 1, v = x + σ·r)', () => {
  it('no cache: x = 1 → 0.5 → 0.1875 → 0.015625 → −0.05078125', async () => {
    // v0 = 1+1 = 2; v1 = .5+.75; v2 = .1875+.5; v3 = .015625+.25; each Δ = .25
    const r = await finalOf(createPolicy('none'));
    expect(r.x).toBe(-0.05078125);
    expect(r.stats.decisions).toEqual(['compute', 'compute', 'compute', 'compute']);
  });

  it('uniform N=2 reuses the stale residual r = 1 at step 1: final −0.0859375', async () => {
    // step 1 reuse: v = 0.5 + 1 (stale σ=1 residual) → x = .125; then .125+.5 → −.03125; → −.0859375
    const r = await finalOf(createUniformPolicy({ interval: 2 }));
    expect(r.x).toBe(-0.0859375);
    expect(r.stats.decisions).toEqual(['compute', 'reuse', 'compute', 'compute']);
    expect(r.stats).toMatchObject({ computedSteps: 3, reusedSteps: 1, readbacks: 0 });
  });

  const plan = ertaPlan({ steps: 4, reuse: [1], phi: [1, 0.5, 1, 1], a: [0.5], b: [0.25] });

  it('ertacache-schedule = uniform here (same S, full steps)', async () => {
    const r = await finalOf(createPolicy('ertacache-schedule', { plan }));
    expect(r.x).toBe(-0.0859375);
    expect(r.dts).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('+dt: φ = .5 shortens step 1 and the rest is redistributed (Δ = .25, .125, .3125, .3125)', async () => {
    // Δc(2) = .25·(1−.375)/(1−.5) = .3125; σ(2) = .625 → v = .3125+.625 → x = .01953125;
    // σ(3) = .3125, Δ = remaining .3125 → v = .33203125 → x = −.084228515625
    const r = await finalOf(createPolicy('ertacache-schedule+dt', { plan }));
    expect(r.dts).toEqual([0.25, 0.125, 0.3125, 0.3125]);
    expect(r.sigmas).toEqual([1, 0.75, 0.625, 0.3125]);
    expect(r.x).toBe(-0.084228515625);
  });

  it("timeMode 'nominal' conditions on the grid σ but keeps the adjusted Δ", async () => {
    // σ(2) = .5: v = .8125 → x = .05859375; σ(3) = .25: v = .30859375 → x = −.037841796875
    const r = await finalOf(createPolicy('ertacache-schedule+dt', { plan }), { timeMode: 'nominal' });
    expect(r.sigmas).toEqual([1, 0.75, 0.5, 0.25]);
    expect(r.x).toBe(-0.037841796875);
  });

  it('full ertacache, output space: v̂ = ṽ − (.5ṽ + .25) = .5 at step 1', async () => {
    // x = .5 − .125·.5 = .4375; v = .4375+.625 → x = .10546875; v = .41796875 → x = −.025146484375
    const r = await finalOf(createPolicy('ertacache', { plan }));
    expect(r.x).toBe(-0.025146484375);
  });

  it('full ertacache, hidden space: r̂ = r − (.5r + .25) = .25 at step 1', async () => {
    // v = .5 + .25 → x = .40625; v = 1.03125 → x = .083984375; v = .396484375 → x = −.0399169921875
    // hidden size 2: the second channel is left alone (a = b = 0)
    const hidden = ertaPlan({ steps: 4, reuse: [1], phi: [1, 0.5, 1, 1], a: [0.5, 0], b: [0.25, 0], space: 'hidden' });
    const r = await finalOf(createPolicy('ertacache', { plan: hidden }));
    expect(r.x).toBe(-0.0399169921875);
  });

  it("time rule 'carry': reused steps take φ·Δnom, the next compute lands back on the grid (Δ = .25, .125, .375, .25)", async () => {
    // σ = 1, .75, .625, .25; step 1 reuse v = .5 + 1 → x = .3125; step 2 v = .9375 → x = −.0390625;
    // step 3 v = .2109375 → x = −.091796875
    const carry = ertaPlan({ steps: 4, reuse: [1], phi: [1, 0.5, 1, 1], timeRule: 'carry' });
    const r = await finalOf(createPolicy('ertacache-schedule+dt', { plan: carry }));
    expect(r.dts).toEqual([0.25, 0.125, 0.375, 0.25]);
    expect(r.sigmas).toEqual([1, 0.75, 0.625, 0.25]);
    expect(r.x).toBe(-0.091796875);
  });

  it('ertacache-forecast: r̃ = r_k + g·(r_k − r_j)·(σ_k − σ_i)/(σ_j − σ_k) is exact here at g = 1', async () => {
    // the toy's residual is σ: computes at σ 1 and .75, reuse at σ .5 → r̃ = .75 + g·(−.25)·1
    // g = 1: r̃ = .5, the true residual: the final equals full compute (−.05078125)
    // g = .5: r̃ = .625 → v = .1875 + .625 → x = −.015625; v = .234375 → x = −.07421875
    const plan = (gain: number) => ertaPlan({ steps: 4, reuse: [1], forecast: { reuse: [2], gain } });
    const exact = await finalOf(createPolicy('ertacache-forecast', { plan: plan(1) }));
    expect(exact.stats.decisions).toEqual(['compute', 'compute', 'reuse', 'compute']);
    expect(exact.x).toBe(-0.05078125);
    expect((await finalOf(createPolicy('ertacache-forecast', { plan: plan(0.5) }))).x).toBe(-0.07421875);
    // g = 0 is stale reuse: r = .75 → v = .9375 → x = −.046875; v = .203125 → x = −.09765625
    expect((await finalOf(createPolicy('ertacache-forecast', { plan: plan(0) }))).x).toBe(-0.09765625);
  });

  it('taylorseer order 1 (warm-up 2, N 2): r̂(3) = r2 + (r2 − r1) = .25, exact on the uniform grid', async () => {
    const r = await finalOf(createTaylorSeerPolicy({ order: 1, warmup: 2, interval: 2 }));
    expect(r.stats.decisions).toEqual(['compute', 'compute', 'compute', 'reuse']);
    expect(r.x).toBe(-0.05078125);
  });

  it('easycache reuses v = x + Δ (Δ = v − x at the last compute) with no graph call', async () => {
    // ret 2: steps 0, 1 compute (x 1 → .5 → .1875); k = |1.25 − 2| / |.5 − 1| = 1.5;
    // step 2: acc = 1.5·.3125/1.25 = .375 < .5 → reuse v = .1875 + .75 → x = −.046875;
    // step 3 (last) computes: v = .203125 → x = −.09765625. Read-backs: x at 4 steps + v at 3 computes.
    const r = await finalOf(createPolicy('easycache', { plan: easyPlan(4, 0.5, 2) }));
    expect(r.stats.decisions).toEqual(['compute', 'compute', 'reuse', 'compute']);
    expect(r.x).toBe(-0.09765625);
    expect(r.stats.readbacks).toBe(7);
  });

  it('a single-graph model reuses the cached guided velocity (v = 2 at step 1)', async () => {
    // step 1: x = .5 − .25·2 = 0; v = 0+.5 → x = −.125; v = −.125+.25 → x = −.15625
    const { ops, live } = trackedOps();
    const noise = ops.fromHost(Float32Array.of(1), [1, 1, 1, 1]);
    const { x } = await sample({
      denoiser: asSingle(createGoldenToy(ops), ops), ops, sigmas: flowMatchSigmas(4), policy: createUniformPolicy({ interval: 2 }),
      noise, cond: { label: 0, nullLabel: 10 }, guidance: 1,
    });
    expect(x.data[0]).toBe(-0.15625);
    expect([live.size, live.has(noise), live.has(x)]).toEqual([2, true, true]);
  });
});

describe('sampler mechanics', () => {
  it('CFG w = 2 runs [cond, uncond]: v = vU + 2(vC − vU) = x + 2σ', async () => {
    // g(0) = 1, g(null) = 0 → guided v = x + 2σ: x = 1 → 1 − .25·3 = .25 → .25 − .25·(.25+1.5) = −.1875
    //   → −.1875 − .25·(−.1875 + 1) = −.390625 → −.390625 − .25·(−.390625 + .5) = −.41796875
    const r = await finalOf(createPolicy('none'), { guidance: 2 });
    expect(r.x).toBe(-0.41796875);
  });

  it('forms the residual r = z − h only when a reused step reads it (none: never; a computed step: never)', async () => {
    const subs = async (policy: CachePolicy) => {
      const { ops } = trackedOps();
      let n = 0;
      const counting: TensorOps<CpuTensor> = { ...ops, sub: (a, b) => { n++; return ops.sub(a, b); } };
      const den = createGoldenToy(ops);
      await sample({ denoiser: den, ops: counting, sigmas: flowMatchSigmas(4, 1), policy,
        noise: ops.fromHost(Float32Array.of(1), [1, 1, 1, 1]), cond: { label: 0, nullLabel: 1 }, guidance: 1 });
      return n;
    };
    expect(await subs(createPolicy('none'))).toBe(0);
    // computes steps 0, 2 and the last, 3: only step 0's residual is read (by step 1); the others
    // are dropped unformed, so no computed step pays for the cache (was 3 subs)
    expect(await subs(createPolicy('uniform', { interval: 2 }))).toBe(1);
  });

  it('disposes every intermediate: only the noise and the result stay alive', async () => {
    const plans: Record<string, unknown> = {
      teacache: teaPlan(4, 10), easycache: easyPlan(4, 10, 1),
      ertacache: ertaPlan({ steps: 4, reuse: [1, 2] }),
      'ertacache-forecast': ertaPlan({ steps: 4, reuse: [1], forecast: { reuse: [2] } }),
    };
    for (const kind of ['none', 'uniform', 'teacache', 'ertacache', 'ertacache-forecast', 'taylorseer-2', 'easycache']) {
      const policy = kind === 'taylorseer-2'
        ? createTaylorSeerPolicy({ order: 2, warmup: 2, interval: 2 })
        : createPolicy(kind, { interval: 2, plan: plans[kind] });
      const r = run(policy, { guidance: 3, previewEvery: 1, onPreview: () => {} });
      const { x } = await r.promise;
      expect([kind, r.live.size, r.live.has(r.noise), r.live.has(x)]).toEqual([kind, 2, true, true]);
    }
  });

  it('previews x̂₀ = x − σ·v after every k-th step', async () => {
    const seen: [number, number][] = [];
    await finalOf(createPolicy('none'), { previewEvery: 2, onPreview: (i, t) => { seen.push([i, t.data[0]!]); } });
    // step 1: x = .5, σ = .75, v = 1.25 → .5 − .9375; step 3: x = .015625, σ = .25, v = .265625
    expect(seen).toEqual([[1, -0.4375], [3, 0.015625 - 0.25 * 0.265625]]);
  });

  it('teacache reads one scalar back per step after the first', async () => {
    const r = await finalOf(createPolicy('teacache', { plan: teaPlan(4, 0.5) }));
    expect(r.stats.readbacks).toBe(3);
  });

  it('cancel rejects with CancelledError, disposes, and a new run afterwards works', async () => {
    const policy = createUniformPolicy({ interval: 2 });
    let calls = 0;
    const r = run(policy, { isCancelled: () => ++calls > 2 });
    await expect(r.promise).rejects.toBeInstanceOf(CancelledError);
    await expect(r.promise).rejects.toMatchObject({ code: 'CANCELLED' });
    expect([...r.live]).toEqual([r.noise]);
    expect((await finalOf(policy)).x).toBe(-0.0859375);
  });

  it('a policy that reuses before any compute is a bug: InternalError', async () => {
    const rogue: CachePolicy = {
      kind: 'rogue', needsIndicator: false, decide: () => ({ kind: 'reuse', dtScale: 1 }),
      rectification: () => null, reset: () => {},
    };
    await expect(run(rogue).promise).rejects.toBeInstanceOf(InternalError);
  });

  it('teacache on a single-graph model is refused with UnsupportedError', async () => {
    const { ops } = trackedOps();
    const promise = sample({
      denoiser: asSingle(createGoldenToy(ops), ops), ops, sigmas: flowMatchSigmas(4),
      policy: createPolicy('teacache', { plan: teaPlan(4, 0.5) }), noise: ops.fromHost(Float32Array.of(1), [1, 1, 1, 1]),
      cond: { label: 0, nullLabel: 10 }, guidance: 1,
    });
    await expect(promise).rejects.toBeInstanceOf(UnsupportedError);
  });
});
