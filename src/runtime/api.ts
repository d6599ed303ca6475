// The RuntimeApi: the one contract between a page and the diffusion worker (Comlink carries it).
// Everything here is structured-cloneable data; functions cross only as Comlink proxies
// (src/client wraps them). Pages and the element import this file and nothing else of the runtime.

import type { ErrorCode } from '../core/errors.ts';
import type { SampleStats } from '../core/types.ts';
import type { PlanEntry } from '../manifest/types.ts';
import type { ProviderReport, ProviderRequest } from '../backend/providers.ts';
import type { WebBackendErrorCode } from '../backend/web-errors.ts';

export type { ProviderReport, ProviderRequest, ProviderName } from '../backend/providers.ts';

export interface LoadOptions {
  /** 'auto' (default): WebGPU, falling back to WASM with the reason. Forcing never falls back. */
  provider?: ProviderRequest;
  /** 'split' (default: embed | blocks | head, hidden-space caching) or 'single' (model.onnx). */
  graphs?: 'split' | 'single';
  /** Keep model files in IndexedDB (default true). false always downloads and stores nothing. */
  cache?: boolean;
  /**
   * Chunk size, in bytes, of new downloads of large files (external-data shards): each chunk is
   * one HTTP Range request's worth of stored bytes, kept if the connection drops. Default 8 MiB;
   * 64 KiB to 64 MiB. A download already under way keeps the chunk size it started with.
   */
  chunkBytes?: number;
}

/** One model stored in this browser (see {@link ModelStorageApi}). */
export type { CachedModel } from '../storage/cached-models.ts';

/** What the browser keeps of downloaded models: list it, delete it. */
export interface ModelStorageApi {
  /** Every model with stored files: its manifest URL, bytes stored, and whether it is complete. */
  cachedModels(): Promise<import('../storage/cached-models.ts').CachedModel[]>;
  /** Deletes every stored file of the model loaded from `manifestUrl`; resolves with how many. */
  deleteCachedModel(manifestUrl: string): Promise<number>;
}

export interface ModelInfo {
  name: string;
  modelHash: string;
  weights: string | null;
  graphs: 'split' | 'single';
  /** `frames`: video models only (latents [C, F, H, W]). */
  latent: { channels: number; height: number; width: number; frames?: number };
  /** What a request conditions on: a class `label`, or a `prompt` (text-to-image pipelines). */
  conditioning: 'class' | 'text';
  /**
   * The final image: the latent itself for pixel-space models, the VAE decoder's RGB output otherwise.
   * `frames`: a video model (Wan style) makes a clip of that many frames, each channels × height × width.
   */
  image: { channels: number; height: number; width: number; frames?: number };
  /** Class models: the number of classes; 0 for text models. */
  classes: number;
  /** Class models: the unconditional class; −1 for text models. */
  nullLabel: number;
  /**
   * Text models: tokens the encoder reads (longer prompts are truncated, with a warning); with several text encoders
   * (Flux, SD3), the most any of them reads (each truncates to its own length and warns); else null.
   */
  maxTokens: number | null;
  /** Text models: the unconditional branch when a request names no negative prompt; else null. */
  defaultNegativePrompt: string | null;
  /** Text models: prompts the manifest offers as examples (`conditioning.examplePrompts`); else empty. */
  examplePrompts: string[];
  defaultSteps: number;
  defaultGuidance: number;
  /** Guidance-distilled models (a guidance input): the default GenerateRequest.embeddedGuidance; null for others. */
  defaultEmbeddedGuidance: number | null;
  /** Text models whose time embedding takes the pooled text embedding (SD3 / Flux): its width; null for others. */
  pooledDim: number | null;
  /** Calibrated plans the manifest ships (ertacache needs one for the requested step count). */
  plans: PlanEntry[];
  provider: ProviderReport;
  /** Bytes fetched over the network in this load (0 when everything came from IndexedDB). */
  downloadedBytes: number;
  /** Files served from the IndexedDB cache in this load. */
  cachedFiles: string[];
  warnings: string[];
  loadMs: number;
}

export interface PolicyRequest {
  /** A registry kind: 'none' (default), 'uniform', 'teacache', 'magcache', 'ertacache', … */
  kind: string;
  /**
   * Computed-step budget: selects among the manifest's plans for these steps (ertacache,
   * teacache, magcache); for uniform, computes exactly this many evenly spread steps.
   */
  budget?: number;
  /** ertacache: which plan's rectification space, 'output' (default) or 'hidden'. */
  space?: 'output' | 'hidden';
  /** uniform: compute every N-th step (default 3). */
  interval?: number;
  /** teacache / magcache: override the plan's threshold δ (higher = faster, worse). */
  delta?: number;
}

export interface GenerateRequest {
  /** Names the job for cancel(); default: a fresh id, returned in the result. */
  jobId?: string;
  /** Class models: class 0 … classes−1 (required). A text model rejects it (CONDITIONING_MISMATCH). */
  label?: number;
  /** Text models: what to draw (required). A class model rejects it (CONDITIONING_MISMATCH). */
  prompt?: string;
  /** Text models: the unconditional branch of CFG; default the manifest's (usually the empty prompt). */
  negativePrompt?: string;
  /** uint32; the same seed gives the same noise in every engine (core/rng.ts). */
  seed: number;
  /** Default: the manifest's defaultSteps. Fewer is faster and coarser. */
  steps?: number;
  /** CFG weight w; default the manifest's. 1 = no guidance (half the compute per step). */
  guidance?: number;
  /**
   * Guidance-distilled models only (a guidance input, Flux dev style; ModelInfo.defaultEmbeddedGuidance not null): the
   * scale fed to the model's guidance embedding, in [0, 100]; default the manifest's. Not CFG: it costs nothing.
   * Other models reject it (UNSUPPORTED); a bad value is BAD_INPUT.
   */
  embeddedGuidance?: number;
  /** Default { kind: 'none' } (every step computes). */
  policy?: PolicyRequest;
  /** Preview x̂₀ every k steps (each one a GPU read-back); 0 (default) = the final image only. */
  previewEvery?: number;
  /** σ the model sees after a shortened step: 'actual' (default, ertacache.md (b)) or 'nominal'. */
  timeMode?: 'actual' | 'nominal';
}

/** The policies api.calibrate() fits plans for (the ones whose decisions come from a plan). */
export type CalibrationPolicy = 'ertacache' | 'teacache' | 'magcache' | 'easycache';

/**
 * calibrate(request): fit a plan for the loaded model, a step count and a computed-step budget
 * with the same code as `npm run calibrate` (src/runtime/calibration.ts), on the calibration
 * batch (seeds × labels, or × prompts for a text model), and keep it in IndexedDB.
 */
export interface CalibrateRequest {
  /** Names the job for cancel(); default: a fresh id, returned in the result. */
  jobId?: string;
  /** Computed steps the plan targets: an integer in [2, steps] (first and last always compute). */
  budget: number;
  /** Sampling steps the plan is for (default: the manifest's defaultSteps). */
  steps?: number;
  /** Default 'ertacache'. */
  policy?: CalibrationPolicy;
  /** ertacache: where the rectification is fitted, 'output' (default) or 'hidden'. */
  space?: 'output' | 'hidden';
  /** Calibration noise seeds (default [0, 1]; the evaluation seeds 1000–1009 are refused). More = slower, steadier. */
  seeds?: number[];
  /** Class models: classes in the batch (default every class). */
  labels?: number[];
  /** Text models: calibration prompts (default the manifest's calibrationPrompts file; its evaluationPrompts are refused). */
  prompts?: string[];
  /** CFG weight to calibrate at (default the manifest's). */
  guidance?: number;
  /** Guidance-distilled models (a guidance input): the guidance scale to calibrate at (default the manifest's); others reject it (UNSUPPORTED). */
  embeddedGuidance?: number;
  /** ertacache: also calibrate the residual forecast (policy 'ertacache-forecast'); default true. false is faster. */
  forecast?: boolean;
  /** Measure each variant's calibration error into plan.calibration.error (default true; false is faster, the plan is the same). */
  evaluate?: boolean;
  /** Keep the plan in IndexedDB for later loads (default true); false keeps it for this worker only. */
  store?: boolean;
}

/**
 * Calibration progress: 'profile' while the full-compute trajectories are recorded (`passes`
 * of `profileSteps` transformer passes over the batch), 'fit' for the searches' lines, 'store'
 * when the plan is written.
 */
export type CalibrationEvent = {
  type: 'calibration';
  jobId: string;
  phase: 'profile' | 'fit' | 'store';
  message: string;
  /** Transformer passes over the calibration batch so far. */
  passes: number;
  /** Passes the profiling takes (= steps); the searches after it take a model-dependent number more. */
  profileSteps: number;
};

export interface CalibrateResult {
  jobId: string;
  /** How the plan is listed in ModelInfo.plans and RunStats.planId: file `browser:<kind>-<steps>-b<budget>[-hidden]`. */
  entry: PlanEntry;
  /** The plan itself (the same JSON `npm run calibrate` writes to plans/). */
  plan: import('../cache/plan.ts').CachePlan;
  /** ERTACache: the reuse set S (steps that reuse the cached residual); null for the other policies. */
  reuse: number[] | null;
  computedSteps: number;
  /** Written to IndexedDB (false with store: false, or when storage failed: see warnings). */
  stored: boolean;
  /** Transformer passes over the calibration batch the fit took. */
  passes: number;
  samples: number;
  ms: number;
  warnings: string[];
}

/** Plan calibration in the browser (the worker implements it; see {@link CalibrateRequest}). */
export interface CalibrationApi {
  /**
   * Fits and stores a plan for the loaded model. Later generate() calls with that policy, steps
   * and budget use it (a browser plan takes precedence over the manifest's plan for the same
   * kind, steps, budget and space). cancel(jobId) stops it before its next transformer pass and
   * nothing is written. Errors: NOT_LOADED, BUSY (a generation or calibration is running),
   * UNKNOWN_POLICY, BAD_INPUT (budget out of [2, steps], …), CONDITIONING_MISMATCH, CANCELLED.
   */
  calibrate(request: CalibrateRequest, onEvent?: (e: CalibrationEvent) => void): Promise<CalibrateResult>;
}

/** An RGBA frame ready for `new ImageData(pixels, width, height)`; its buffer is transferred. */
export interface Frame {
  width: number;
  height: number;
  pixels: Uint8ClampedArray<ArrayBuffer>;
}

export interface RunStats extends SampleStats {
  provider: ProviderReport['used'];
  policy: string;
  /** The plan file the policy ran from (manifest-relative), or null. */
  planId: string | null;
  /** Every host read-back of the run: indicator scalars, previews and the final image. */
  readbacks: number;
  previews: number;
  /** Text models: prompts run through the text encoder in this run (0 when all came from the cache). */
  encodedPrompts: number;
}

export interface GenerateResult {
  jobId: string;
  /** The final image in model space, planar [C, H, W] (e.g. [−1, 1]): the sample itself, or for a
   *  text model the VAE decoder's RGB; a video model's clip is planar [3, F, H, W]; transferred. */
  image: Float32Array;
  /** The image as RGBA; for a video model, its first frame (`frames[0]`). */
  frame: Frame;
  /** Video models only (ModelInfo.image.frames): the clip's F frames in order, as RGBA; absent for images. */
  frames?: Frame[];
  stats: RunStats;
}

export type DownloadEvent = {
  type: 'download';
  file: string;
  loaded: number; // bytes
  total: number; // bytes (from the manifest)
  fromCache: boolean;
};
/** A load warning, or (with jobId) a generation's, e.g. a prompt truncated to the encoder's length. */
export type WarningEvent = { type: 'warning'; message: string; jobId?: string };
export type StepEvent = { type: 'step'; jobId: string; i: number; decision: 'compute' | 'reuse'; ms: number };
/** `frame`: the preview image (a video: its first frame); `frames`: video models only, every frame of the preview clip. */
export type PreviewEvent = { type: 'preview'; jobId: string; i: number; frame: Frame; frames?: Frame[] };
export type DoneEvent = { type: 'done'; jobId: string; stats: RunStats };

export type LoadEvent = DownloadEvent | WarningEvent;
export type GenerateEvent = StepEvent | PreviewEvent | DoneEvent | WarningEvent;
export type RuntimeEvent = LoadEvent | GenerateEvent;

/**
 * Arguments: every method checks its arguments before anything else (src/runtime/check-args.ts):
 * a wrong type, an out-of-range number, an unknown field or enum value is BAD_INPUT (an unknown
 * policy kind UNKNOWN_POLICY), with a hint; nothing a page passes surfaces as INTERNAL.
 * Concurrency: one generation at a time. A generate() or load() while a generation runs is
 * rejected with BUSY (no hidden queue: the page decides whether to wait or cancel first).
 */
export interface RuntimeApi {
  load(manifestUrl: string, options?: LoadOptions, onProgress?: (e: LoadEvent) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onEvent?: (e: GenerateEvent) => void): Promise<GenerateResult>;
  /**
   * Stops the job before its next step (the promise rejects with CANCELLED). An unknown id, or
   * none (undefined / null), is a no-op; an id that is not a string is BAD_INPUT.
   */
  cancel(jobId: string): Promise<void>;
  /** Releases sessions and GPU memory; load() may be called again afterwards. */
  dispose(): Promise<void>;
}

/**
 * Codes of the project (core/errors.ts), of the browser backend (MODEL_NOT_FOUND, NETWORK,
 * WEBGPU_UNAVAILABLE, BACKEND_INIT, DEVICE_LOST: src/backend/web-errors.ts) and the runtime's own.
 */
export type RuntimeErrorCode =
  | ErrorCode
  | WebBackendErrorCode
  | 'NOT_LOADED' // generate() before load()
  | 'BUSY' // a generation is running (see RuntimeApi)
  | 'NON_FINITE' // the model produced NaN/Inf
  | 'WORKER_BLOCKED'; // the page could not start the worker (e.g. its CSP lacks worker-src)

/** The error every RuntimeApi method rejects with, on either side of the worker boundary. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly hint: string;
  constructor(code: RuntimeErrorCode, message: string, hint: string) {
    super(message);
    this.name = 'RuntimeError';
    this.code = code;
    this.hint = hint;
  }
}

interface WireError {
  name: string;
  message: string;
  stack?: string;
  code: RuntimeErrorCode;
  hint: string;
}
interface Thrown {
  value: unknown;
}
type ThrowWire = { isError: true; value: WireError } | { isError: boolean; value: unknown };

function coded(e: unknown): e is Error & { code: RuntimeErrorCode; hint: string } {
  const c = e as { code?: unknown; hint?: unknown } | null;
  return e instanceof Error && typeof c?.code === 'string' && typeof c.hint === 'string';
}

const wrapped = new WeakSet<object>();

/** Comlink's TransferHandler as this file uses it (declared here: the package's types need no comlink). */
interface TransferHandler<T, S> {
  canHandle(value: unknown): value is T;
  serialize(value: T): [S, Transferable[]];
  deserialize(value: S): T;
}

/**
 * Comlink's own 'throw' handler keeps only name/message/stack of an Error, so code and hint
 * would be lost. This wraps it: coded errors travel as data and come back as RuntimeError.
 * Both ends must install it (the worker and src/client do); installing twice is harmless.
 */
export function installRuntimeErrors(handlers: Map<string, TransferHandler<unknown, unknown>>): void {
  const base = handlers.get('throw');
  if (!base || wrapped.has(base)) return;
  const handler = withRuntimeErrors(base);
  wrapped.add(handler);
  handlers.set('throw', handler);
}

function withRuntimeErrors(base: TransferHandler<unknown, unknown>): TransferHandler<unknown, unknown> {
  return {
    canHandle: (v): v is unknown => base.canHandle(v),
    serialize(thrown) {
      const e = (thrown as Thrown).value;
      if (!coded(e)) return base.serialize(thrown);
      const wire: WireError = { name: e.name, message: e.message, code: e.code, hint: e.hint };
      if (e.stack !== undefined) wire.stack = e.stack;
      return [{ isError: true, value: wire }, []];
    },
    deserialize(data) {
      const w = data as ThrowWire;
      const v = w.value as Partial<WireError> | null;
      if (w.isError && typeof v?.code === 'string' && typeof v.hint === 'string') {
        throw new RuntimeError(v.code, v.message ?? '', v.hint);
      }
      return base.deserialize(data);
    },
  };
}
