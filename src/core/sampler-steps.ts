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

/**
 * A computed step's residual r = z − h, formed when a reuse step first reads it (residualAt):
 * until then the slot holds the step's z and h. So a computed step does no arithmetic for the
 * cache, and a residual dropped unread (consecutive computed steps) is never formed. The
 * bench's ideal speedup charges computed steps at `none`'s cost; forming r there cost about
 * 0.5 % of a computed step on mnist-dit (12,544 floats). Peak memory is unchanged for a
 * history of 1 (an unread slot is two tensors where r was one, but r and z no longer coexist).
 */
export interface ResidualSlot<T> {
  r: T | null;
  z: T | null;
  h: T | null;
}

/**
 * What a step carries to the next: the residuals of the last `capacity` computed steps per
 * branch, most recent first (split), the guided v (single), or the transformation vector
 * Δ = v − x per branch (output-level policies).
 */
export interface StepCache<T> {
  residuals: ResidualSlot<T>[];
  capacity: number;
  prevMod0: T | null;
  velocity: T | null;
  transform: T | null;
}

export function emptyCache<T>(capacity: number): StepCache<T> {
  if (!Number.isInteger(capacity) || capacity < 0) throw new InternalError(`residual history ${capacity} must be an integer ≥ 0`);
  return { residuals: [], capacity, prevMod0: null, velocity: null, transform: null };
}

export function disposeSlot<T>(ops: TensorOps<T>, s: ResidualSlot<T>): void {
  for (const t of [s.r, s.z, s.h]) if (t !== null) ops.dispose(t);
}

/**
 * A computed step's (z, h) become the most recent residual slot, owned by the cache from now on;
 * the oldest beyond capacity is dropped. false: a policy that never reuses (capacity 0) keeps none.
 */
function keepResidual<T>(ops: TensorOps<T>, cache: StepCache<T>, z: T, h: T): boolean {
  if (cache.capacity === 0) return false;
  cache.residuals.unshift({ r: null, z, h });
  while (cache.residuals.length > cache.capacity) disposeSlot(ops, cache.residuals.pop()!);
  return true;
}

/** Residual k (0 = most recent), formed as z − h on first read. */
function residualAt<T>(ops: TensorOps<T>, cache: StepCache<T>, k: number): T | undefined {
  const s = cache.residuals[k];
  if (s === undefined) return undefined;
  if (s.r === null) {
    s.r = ops.sub(s.z!, s.h!);
    ops.dispose(s.z!);
    ops.dispose(s.h!);
    s.z = null;
    s.h = null;
  }
  return s.r;
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
  let kept = false; // h and z went to the cache
  try {
    await observeIndicator(run, cache, i, mod0, countReadback);
    const decision = run.policy.decide({ i, steps: run.steps, sigma });
    if (decision.kind === 'compute') {
      const z = await den.blocks(h, c, run.labels);
      kept = keepResidual(ops, cache, z, h);
      let v2: T;
      try {
        v2 = await den.head(z, c);
      } finally {
        if (!kept) ops.dispose(z);
      }
      return { decision, v: guide(run, v2), owned: true };
    }
    const rect = rectificationFor(run, i, true);
    const v2 = await reuseHead(run, den, cache, h, c, i, rect, decision.weights);
    return { decision, v: rectifyOutput(run, guide(run, v2), rect, den.outputLayout), owned: true };
  } finally {
    if (!kept) ops.dispose(h);
    ops.dispose(c);
  }
}

/**
 * h + Σ_k w_k·r_k over the cached residuals (most recent first): one axpy per weight, on the
 * device, no read-back. weights [1] (stale reuse) is the plain h + r_0.
 */
function forecastInput<T>(run: Run<T>, cache: StepCache<T>, h: T, i: number, weights: readonly number[]): T {
  const { ops } = run;
  if (weights.length > cache.residuals.length) {
    throw new InternalError(`policy ${run.policy.kind} weighted ${weights.length} residuals at step ${i}, `
      + `${cache.residuals.length} are cached (history ${cache.capacity})`);
  }
  if (weights.length === 1 && weights[0] === 1) return ops.add(h, residualAt(ops, cache, 0)!);
  let t = h;
  weights.forEach((w, k) => {
    const next = ops.axpy(t, residualAt(ops, cache, k)!, w);
    if (t !== h) ops.dispose(t);
    t = next;
  });
  return t;
}

/** ṽ = head(h + r̃), r̃ the cached residual (or its forecast), rectified first when the fit lives in hidden space. */
async function reuseHead<T>(run: Run<T>, den: SplitDenoiser<T>, cache: StepCache<T>,
  h: T, c: T, i: number, rect: Rectification | null, weights: readonly number[] = [1]): Promise<T> {
  const { ops } = run;
  if (cache.residuals.length === 0) throw new InternalError(`policy ${run.policy.kind} reused step ${i} before any compute`);
  let hr: T;
  if (rect?.space === 'hidden') {
    if (weights.length !== 1 || weights[0] !== 1) {
      throw new UnsupportedError(`policy ${run.policy.kind} forecasts the residual at step ${i} and rectifies it in `
        + 'hidden space, which this runtime does not combine', 'use an output-space plan with a forecast');
    }
    const r = ops.rectifyAffine(residualAt(ops, cache, 0)!, rect.a, rect.b, den.hiddenLayout);
    hr = ops.add(h, r);
    ops.dispose(r);
  } else {
    hr = forecastInput(run, cache, h, i, weights);
  }
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
  if (decision.kind === 'reuse' && decision.weights !== undefined && (decision.weights.length !== 1 || decision.weights[0] !== 1)) {
    throw new UnsupportedError(`policy ${run.policy.kind} forecasts the transformer residual, which a single-graph `
      + 'model does not expose', 'use the split model (embed | blocks | head)');
  }
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

/** The raw batch output of the whole model at x (both branches), for output-level caching. */
async function fullOutput<T>(run: Run<T>, x2: T, sigma: number): Promise<T> {
  const den = run.denoiser;
  if (den.kind === 'single') return den.forward(x2, sigma, run.labels);
  const { h, c, mod0 } = await den.embed(x2, sigma, run.labels);
  run.ops.dispose(mod0);
  try {
    const z = await den.blocks(h, c, run.labels);
    try {
      return await den.head(z, c);
    } finally {
      run.ops.dispose(z);
    }
  } finally {
    run.ops.dispose(h);
    run.ops.dispose(c);
  }
}

/**
 * Output-level caching (EasyCache, baselines.md): a reused step runs no graph at all and takes
 * v = x + Δ per branch, Δ = v − x from the last computed step. The policy decides on host
 * statistics of x and v: x is read back before every decision, v after every compute.
 */
export async function outputVelocity<T>(run: Run<T>, cache: StepCache<T>, x: T, i: number, sigma: number,
  countReadback: () => void): Promise<Velocity<T>> {
  const { ops, policy } = run;
  if (policy.observeInput) {
    countReadback();
    policy.observeInput(i, await ops.read(x));
  }
  const decision = policy.decide({ i, steps: run.steps, sigma });
  const x2 = batchInput(run, x);
  try {
    if (decision.kind === 'compute') {
      const v2 = await fullOutput(run, x2, sigma);
      cache.transform = replace(ops, cache.transform, ops.sub(v2, x2));
      if (policy.observeOutput) {
        countReadback();
        try {
          policy.observeOutput(i, await ops.read(v2), run.branches);
        } catch (e) {
          ops.dispose(v2);
          throw e;
        }
      }
      return { decision, v: guide(run, v2), owned: true };
    }
    if (cache.transform === null) throw new InternalError(`policy ${policy.kind} reused step ${i} before any compute`);
    return { decision, v: guide(run, ops.add(x2, cache.transform)), owned: true };
  } finally {
    if (x2 !== x) ops.dispose(x2);
  }
}
