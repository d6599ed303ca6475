// The contracts the whole project is built on. Pure types: no DOM, no Worker, no onnxruntime.
// Tensors are opaque handles of type T so the same sampler drives Float32Array on the CPU and
// GPU-resident onnxruntime tensors on WebGPU (shared/design/architecture.md).

/** Shape of a tensor, e.g. [B, 1, 28, 28] or [B, N, D]. */
export type Dims = readonly number[];

/**
 * Arithmetic the sampler needs between graph calls. One implementation per backend:
 * the Float32Array reference (src/core/ops.ts) and WGSL on ORT's device (src/backend).
 * Every method returns a NEW tensor; inputs are never mutated. The caller disposes.
 */
export interface TensorOps<T> {
  /** Host data → tensor. */
  fromHost(data: Float32Array, dims: Dims): T;
  /** Tensor → host data. On the GPU this is a read-back; implementations count them. */
  read(t: T): Promise<Float32Array>;
  dims(t: T): Dims;
  dispose(t: T): void;
  /** Repeat a batch-1 tensor n times along the batch axis (cond/uncond batch of 2). */
  tile(x: T, n: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  /** Classifier-free guidance on a batch of 2 ordered [cond, uncond]: vU + w·(vC − vU) → batch 1. */
  guidance(v2: T, w: number): T;
  /** Euler step x − dt·v (also the preview x̂₀ = x − σ·v with dt = σ). */
  axpy(x: T, v: T, scale: number): T; // x + scale·v
  /**
   * Affine rectification t − (a⊙t + b) (ertacache.md (c)), a and b broadcast per channel:
   * channel of flat element k = floor(k / inner) % channels.
   */
  rectifyAffine(t: T, a: Float32Array, b: Float32Array, layout: ChannelLayout): T;
  /** mean|a − b| / mean|b| (TeaCache indicator). A scalar read-back on the GPU. */
  relL1(a: T, b: T): Promise<number>;
}

/** How per-channel coefficients broadcast over a flat tensor. */
export interface ChannelLayout {
  channels: number;
  inner: number; // 1 for [B, N, D] (channels last), H·W for [B, C, H, W]
}

/** Labels for one generation: the class, and the null class for the unconditional branch. */
export interface Conditioning {
  label: number; // 0–9
  nullLabel: number; // 10 for the digits model
}

/** A split DiT: embed (cheap) | blocks (expensive) | head (cheap). Batch = labels.length. */
export interface SplitDenoiser<T> {
  readonly kind: 'split';
  /** Hidden layout of h/z/residual (for hidden-space rectification). */
  readonly hiddenLayout: ChannelLayout;
  readonly outputLayout: ChannelLayout;
  embed(x: T, sigma: number, labels: Int32Array): Promise<{ h: T; c: T; mod0: T }>;
  /** `labels`: the rows' conditions as given to embed (a text model picks each row's context by it). */
  blocks(h: T, c: T, labels?: Int32Array): Promise<T>;
  head(z: T, c: T): Promise<T>;
}

/** A single-graph model: only output-level caching is possible. */
export interface SingleDenoiser<T> {
  readonly kind: 'single';
  readonly outputLayout: ChannelLayout;
  forward(x: T, sigma: number, labels: Int32Array): Promise<T>;
}

export type Denoiser<T> = SplitDenoiser<T> | SingleDenoiser<T>;

/**
 * What a cache policy decides for step i. dtScale is φ_i (1 = full step, at most MAX_DT_SCALE).
 * weights: the reused residual as a combination Σ_k w_k·r_k of the residuals of the last computed
 * steps, most recent first (a forecast); absent = [1], the stale residual of the last compute.
 */
export type StepDecision = { kind: 'compute' } | { kind: 'reuse'; dtScale: number; weights?: readonly number[] };

/** The largest step factor a policy may ask for: calibrated φ may lengthen a reused step, never more. */
export const MAX_DT_SCALE = 2;

/**
 * How the time a shortened (or lengthened) reused step leaves over is given back, so the
 * trajectory still ends at σ = 0 (src/core/schedules.ts stepDt):
 *   'proportional' the paper's rule: every later step is rescaled by remaining / nominal remaining;
 *   'carry'        reused steps take φ·Δnom; the next computed step takes back the difference,
 *                  landing on the nominal grid again.
 */
export type TimeRule = 'proportional' | 'carry';

export interface StepContext {
  i: number;
  steps: number;
  sigma: number; // the σ the model is evaluated at this step
}

/** Per-step affine rectification coefficients (ertacache.md (c)). */
export interface Rectification {
  space: 'output' | 'hidden';
  a: Float32Array; // per channel
  b: Float32Array;
}

/**
 * A step-level cache policy (shared/design/baselines.md). One instance per generation run:
 * all mutable state lives in the instance, reset() restores first-run behaviour.
 * Decisions are joint for the CFG batch (cond and uncond run as one batch of 2); the cached
 * residual itself is per branch (it is the batch).
 */
export interface CachePolicy {
  readonly kind: string;
  /** True when the sampler must call observeIndicator before decide (TeaCache: a read-back). */
  readonly needsIndicator: boolean;
  /** Indicator signal for step i: relative L1 change of block 0's modulated input. */
  observeIndicator?(i: number, relL1: number): void;
  decide(ctx: StepContext): StepDecision;
  /**
   * Computed residuals per branch the sampler keeps for reuse weights (default 1: the last).
   * 0: the policy never reuses (none), so the sampler skips forming the residual at all.
   */
  readonly history?: number;
  /** Time redistribution after shortened steps (default 'proportional', ertacache.md (b)). */
  readonly timeRule?: TimeRule;
  /**
   * 'output' (EasyCache): a reused step skips the whole model and reuses the transformation vector
   * Δ = v − x per branch. The sampler reads x back before every decision (observeInput) and the
   * raw batch output after every compute (observeOutput). Default 'residual'.
   */
  readonly level?: 'residual' | 'output';
  observeInput?(i: number, x: Float32Array): void;
  /** v: the raw model output, one row per branch [cond, uncond]; x: this step's input. */
  observeOutput?(i: number, v: Float32Array, branches: number): void;
  /** The rectification to apply at reused step i, or null (none / not fitted). */
  rectification(i: number): Rectification | null;
  reset(): void;
}

export interface StepInfo {
  i: number;
  decision: 'compute' | 'reuse';
  sigma: number;
  dt: number;
  ms: number;
}

export interface SampleStats {
  steps: number;
  computedSteps: number;
  reusedSteps: number;
  stepMs: number[];
  totalMs: number;
  readbacks: number;
  decisions: ('compute' | 'reuse')[];
}
