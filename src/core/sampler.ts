// The Euler sampler with step-level caching, as a pure async function (k-diffusion style):
// the step index and every cache are locals of one call, nothing survives between calls.
// Loop: ertacache.md "Inference loop"; policies: shared/design/baselines.md.

import { BadInputError, CancelledError, InternalError } from './errors.ts';
import { advanceClock, evalSigma, START_CLOCK, stepDt } from './schedules.ts';
import type { Clock, TimeMode } from './schedules.ts';
import { disposeSlot, emptyCache, outputVelocity, singleVelocity, splitVelocity } from './sampler-steps.ts';
import type { Run, StepCache, Velocity } from './sampler-steps.ts';
import { MAX_DT_SCALE } from './types.ts';
import type {
  CachePolicy, Conditioning, Denoiser, SampleStats, StepDecision, StepInfo, TensorOps,
} from './types.ts';

export interface SampleOptions<T> {
  denoiser: Denoiser<T>;
  ops: TensorOps<T>;
  /** Nominal σ grid: T+1 values from σ₀ (normally 1) down to 0 (see flowMatchSigmas). */
  sigmas: ArrayLike<number>;
  /** Reset at the start of the call, then driven step by step. */
  policy: CachePolicy;
  /** Initial noise, batch 1 [1, C, H, W]. Owned by the caller: never disposed here. */
  noise: T;
  cond: Conditioning;
  /** CFG weight w. w = 1 runs the cond branch alone (batch 1, half the compute). */
  guidance: number;
  /** σ the model is conditioned on. Default 'actual' (σ = 1 − elapsed, ertacache.md (b)). */
  timeMode?: TimeMode;
  /** Emit the x̂₀ preview after every k-th step (k = previewEvery); 0 (default) = never. */
  previewEvery?: number;
  /** x̂₀ = x − σ·v. The tensor is disposed when the returned promise settles: copy or read it. */
  onPreview?: (i: number, x0hat: T) => void | Promise<void>;
  onStep?: (info: StepInfo) => void;
  /** Checked before every step; true → the call rejects with CancelledError. */
  isCancelled?: () => boolean;
}

export interface SampleResult<T> {
  /** The final sample x at σ = 0, batch 1. Owned by the caller. */
  x: T;
  stats: SampleStats;
}

/** Mutable per-call state; never escapes the call. */
interface LoopState<T> {
  x: T;
  clock: Clock;
  cache: StepCache<T>;
  readbacks: number;
  /** Counts one read-back; made once per call, not per step. */
  countReadback: () => void;
}

function validate<T>(o: SampleOptions<T>): void {
  if (o.sigmas.length < 2) {
    throw new BadInputError(`sigmas needs at least 2 values, got ${o.sigmas.length}`, 'use flowMatchSigmas(steps, shift)');
  }
  if (!Number.isFinite(o.guidance)) {
    throw new BadInputError(`guidance must be finite, got ${o.guidance}`, 'use 1 for no guidance');
  }
  const every = o.previewEvery ?? 0;
  if (!Number.isInteger(every) || every < 0) {
    throw new BadInputError(`previewEvery must be an integer ≥ 0, got ${every}`, 'use 0 to disable previews');
  }
  if (o.ops.dims(o.noise)[0] !== 1) {
    throw new BadInputError(`noise must have batch 1, got [${o.ops.dims(o.noise)}]`, 'pass noise of shape [1, C, H, W]');
  }
}

function checkDecision(d: StepDecision, i: number, kind: string): void {
  if (d.kind !== 'reuse') return;
  if (!(d.dtScale >= 0 && d.dtScale <= MAX_DT_SCALE)) {
    throw new InternalError(`policy ${kind} returned dtScale ${d.dtScale} at step ${i}; it must lie in [0, ${MAX_DT_SCALE}]`);
  }
  if (d.weights !== undefined && !(d.weights.length >= 1 && d.weights.every(Number.isFinite))) {
    throw new InternalError(`policy ${kind} returned reuse weights [${d.weights}] at step ${i}; they must be finite`);
  }
}

/** Run the whole trajectory; resolves with the final sample and the run's statistics. */
export async function sample<T>(opts: SampleOptions<T>): Promise<SampleResult<T>> {
  validate(opts);
  const { ops, policy, sigmas } = opts;
  const branches = opts.guidance === 1 ? 1 : 2;
  const { label, nullLabel } = opts.cond;
  const run: Run<T> = {
    denoiser: opts.denoiser, ops, policy, guidance: opts.guidance, branches,
    steps: sigmas.length - 1,
    labels: branches === 2 ? Int32Array.of(label, nullLabel) : Int32Array.of(label),
  };
  policy.reset();
  const st: LoopState<T> = {
    x: opts.noise, clock: START_CLOCK, readbacks: 0,
    cache: emptyCache(policy.history ?? 1),
    countReadback: () => {
      st.readbacks++;
    },
  };
  const stats: SampleStats = {
    steps: run.steps, computedSteps: 0, reusedSteps: 0, stepMs: [], totalMs: 0, readbacks: 0, decisions: [],
  };
  const t0 = performance.now();
  try {
    for (let i = 0; i < run.steps; i++) {
      if (opts.isCancelled?.()) throw new CancelledError(i);
      await runStep(run, st, opts, i, stats);
    }
    stats.totalMs = performance.now() - t0;
    stats.readbacks = st.readbacks;
    const x = st.x;
    st.x = opts.noise; // handed to the caller: keep `finally` from disposing it
    return { x, stats };
  } finally {
    const c = st.cache;
    for (const s of c.residuals) disposeSlot(ops, s);
    for (const t of [c.prevMod0, c.velocity, c.transform]) if (t) ops.dispose(t);
    if (st.x !== opts.noise) ops.dispose(st.x);
  }
}

async function runStep<T>(run: Run<T>, st: LoopState<T>, opts: SampleOptions<T>, i: number, stats: SampleStats) {
  const t0 = performance.now();
  const sigma = evalSigma(opts.sigmas, i, st.clock, opts.timeMode ?? 'actual');
  const { countReadback } = st;
  const vel: Velocity<T> = run.policy.level === 'output'
    ? await outputVelocity(run, st.cache, st.x, i, sigma, countReadback)
    : run.denoiser.kind === 'split'
      ? await splitVelocity(run, run.denoiser, st.cache, st.x, i, sigma, countReadback)
      : await singleVelocity(run, run.denoiser, st.cache, st.x, i, sigma);
  checkDecision(vel.decision, i, run.policy.kind);
  // Reused steps are scaled by φ_i = dtScale (ertacache.md (b)), under the policy's time rule.
  const dt = stepDt(opts.sigmas, i, st.clock, run.policy.timeRule ?? 'proportional',
    vel.decision.kind === 'compute' ? null : vel.decision.dtScale);
  try {
    await advance(run.ops, st, opts, i, sigma, vel.v, dt);
  } finally {
    if (vel.owned) run.ops.dispose(vel.v);
  }
  const ms = performance.now() - t0;
  stats.decisions.push(vel.decision.kind);
  if (vel.decision.kind === 'compute') stats.computedSteps++;
  else stats.reusedSteps++;
  stats.stepMs.push(ms);
  opts.onStep?.({ i, decision: vel.decision.kind, sigma, dt, ms });
}

/** x ← x − Δ·v, the preview x̂₀ = x − σ·v, and the clock. */
async function advance<T>(ops: TensorOps<T>, st: LoopState<T>, opts: SampleOptions<T>,
  i: number, sigma: number, v: T, dt: number): Promise<void> {
  const every = opts.previewEvery ?? 0;
  const x0hat = every > 0 && opts.onPreview && (i + 1) % every === 0 ? ops.axpy(st.x, v, -sigma) : null;
  const xNext = ops.axpy(st.x, v, -dt);
  if (st.x !== opts.noise) ops.dispose(st.x);
  st.x = xNext;
  st.clock = advanceClock(opts.sigmas, i, st.clock, dt);
  if (x0hat === null) return;
  try {
    await opts.onPreview!(i, x0hat);
  } finally {
    ops.dispose(x0hat);
  }
}
