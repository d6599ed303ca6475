// One step's velocity for the two denoiser kinds: the compute / reuse branches of the
// inference loop (ertacache.md "Inference loop"). Internal to sampler.ts.

import { InternalError, UnsupportedError } from './errors.ts';
import type {
  CachePolicy, ChannelLayout, Rectification, SingleDenoiser, SplitDenoiser, StepDecision, TensorOps,
} from './types.ts';

/** Fixed facts of one sample() call. */
export interface Run<T> {
  denoiser: SplitDenoiser<T> | SingleDenoiser<T>;
  ops: TensorOps<T>;
  policy: CachePolicy;
  guidance: number;
  branches: 1 | 2; // 2 = [cond, uncond] batch for CFG
  steps: number;
  labels: Int32Array;
}

/** What a step carries to the next: the residual per branch (split) or the guided v (single). */
export interface StepCache<T> {
  residual: T | null;
  prevMod0: T | null;
  velocity: T | null;
}

export interface Velocity<T> {
  decision: StepDecision;
  v: T; // guided velocity, batch 1
  owned: boolean; // false when v is the cache itself (single denoiser reuse / compute)
}

function replace<T>(ops: TensorOps<T>, old: T | null, next: T): T {
  if (old !== null) ops.dispose(old);
  return next;
}

function rectificationFor(run: Run<unknown>, i: number, hasHidden: boolean): Rectification | null {
  const rect = run.policy.rectification(i);
  if (rect?.space === 'hidden' && !hasHidden) {
    throw new UnsupportedError(`policy ${run.policy.kind} rectifies in hidden space at step ${i}, `
      + 'but a single-graph model has no hidden state', 'use an output-space plan, or the split model');
  }
  return rect;
}

/** CFG on the [cond, uncond] batch; batch-1 runs pass through. Consumes v2. */
function guide<T>(run: Run<T>, v2: T): T {
  if (run.branches === 1) return v2;
  const v = run.ops.guidance(v2, run.guidance);
  run.ops.dispose(v2);
  return v;
}

/** Output-space rectification v̂ = ṽ − (a⊙ṽ + b) on the guided velocity. Consumes v. */
function rectifyOutput<T>(run: Run<T>, v: T, rect: Rectification | null, layout: ChannelLayout): T {
  if (rect === null || rect.space !== 'output') return v;
  const out = run.ops.rectifyAffine(v, rect.a, rect.b, layout);
  run.ops.dispose(v);
  return out;
}

function batchInput<T>(run: Run<T>, x: T): T {
  return run.branches === 2 ? run.ops.tile(x, 2) : x;
}

/** TeaCache's indicator: rel-L1 of block 0's modulated input vs the previous step (a read-back). */
async function observeIndicator<T>(run: Run<T>, cache: StepCache<T>, i: number, mod0: T,
  countReadback: () => void): Promise<void> {
  const { ops, policy } = run;
  if (!policy.needsIndicator) return ops.dispose(mod0);
  if (!policy.observeIndicator) throw new InternalError(`policy ${policy.kind} needs an indicator but cannot observe one`);
  if (i > 0 && cache.prevMod0 !== null) {
    countReadback();
    try {
      policy.observeIndicator(i, await ops.relL1(mod0, cache.prevMod0));
    } catch (e) {
      ops.dispose(mod0);
      throw e;
    }
  }
  cache.prevMod0 = replace(ops, cache.prevMod0, mod0); // updated every step, reused or not
}

/** Split DiT: compute refreshes the residual r = z − h; reuse runs head(h + r). */
export async function splitVelocity<T>(run: Run<T>, den: SplitDenoiser<T>, cache: StepCache<T>,
  x: T, i: number, sigma: number, countReadback: () => void): Promise<Velocity<T>> {
  const { ops } = run;
  const x2 = batchInput(run, x);
  const { h, c, mod0 } = await den.embed(x2, sigma, run.labels);
  if (x2 !== x) ops.dispose(x2);
  try {
    await observeIndicator(run, cache, i, mod0, countReadback);
    const decision = run.policy.decide({ i, steps: run.steps, sigma });
    if (decision.kind === 'compute') {
      const z = await den.blocks(h, c);
      cache.residual = replace(ops, cache.residual, ops.sub(z, h));
      const v2 = await den.head(z, c);
      ops.dispose(z);
      return { decision, v: guide(run, v2), owned: true };
    }
    const rect = rectificationFor(run, i, true);
    const v2 = await reuseHead(run, den, cache, h, c, i, rect);
    return { decision, v: rectifyOutput(run, guide(run, v2), rect, den.outputLayout), owned: true };
  } finally {
    ops.dispose(h);
    ops.dispose(c);
  }
}

/** ṽ = head(h + r), r the cached residual, rectified first when the fit lives in hidden space. */
async function reuseHead<T>(run: Run<T>, den: SplitDenoiser<T>, cache: StepCache<T>,
  h: T, c: T, i: number, rect: Rectification | null): Promise<T> {
  const { ops } = run;
  if (cache.residual === null) throw new InternalError(`policy ${run.policy.kind} reused step ${i} before any compute`);
  const r = rect?.space === 'hidden' ? ops.rectifyAffine(cache.residual, rect.a, rect.b, den.hiddenLayout) : cache.residual;
  const hr = ops.add(h, r);
  if (r !== cache.residual) ops.dispose(r);
  try {
    return await den.head(hr, c);
  } finally {
    ops.dispose(hr);
  }
}

/** Single graph: only output-level caching — reuse the last guided velocity. */
export async function singleVelocity<T>(run: Run<T>, den: SingleDenoiser<T>, cache: StepCache<T>,
  x: T, i: number, sigma: number): Promise<Velocity<T>> {
  if (run.policy.needsIndicator) {
    throw new UnsupportedError(`policy ${run.policy.kind} needs block 0's modulated input, which a single-graph `
      + 'model does not expose', 'use the split model, or a static policy (uniform, magcache, ertacache)');
  }
  const decision = run.policy.decide({ i, steps: run.steps, sigma });
  if (decision.kind === 'compute') {
    const x2 = batchInput(run, x);
    const v2 = await den.forward(x2, sigma, run.labels);
    if (x2 !== x) run.ops.dispose(x2);
    cache.velocity = replace(run.ops, cache.velocity, guide(run, v2));
    return { decision, v: cache.velocity, owned: false };
  }
  if (cache.velocity === null) throw new InternalError(`policy ${run.policy.kind} reused step ${i} before any compute`);
  const rect = rectificationFor(run, i, false);
  if (rect === null) return { decision, v: cache.velocity, owned: false };
  return { decision, v: run.ops.rectifyAffine(cache.velocity, rect.a, rect.b, den.outputLayout), owned: true };
}
