// The page side of the diffusion worker: RuntimeApi over Comlink, with callbacks proxied, URLs
// resolved against the page, and coded errors (RuntimeError) restored. Pages use this, never
// postMessage, so the worker protocol stays an implementation detail.

import { proxy, releaseProxy, transferHandlers, wrap, type Remote } from 'comlink';
import {
  installRuntimeErrors,
  RuntimeError,
  type CalibrateRequest, type CalibrateResult, type CalibrationApi, type CalibrationEvent,
  type GenerateEvent, type GenerateRequest, type GenerateResult, type LoadEvent, type LoadOptions, type ModelInfo,
  type ModelStorageApi, type RuntimeApi,
} from '../runtime/api.ts';
import type { WorkerApi } from '../runtime/worker-api.ts';
import { checkWasmThreads } from '../runtime/check-args.ts';
import { createDiffusionWorker, defaultOrtFiles } from './worker-files.ts';

export { createDiffusionWorker };

/** A RuntimeApi in its own worker. */
export interface RuntimeClient extends RuntimeApi, ModelStorageApi, CalibrationApi {
  /** dispose(), then stop the worker. The client is unusable afterwards. */
  terminate(): Promise<void>;
}

export interface RuntimeClientOptions {
  /** The worker to talk to. Default: a new one (createDiffusionWorker()). */
  worker?: Worker;
  /**
   * Where ONNX Runtime Web's files are (`ORT_ALL_FILES`: `ort-wasm-simd-threaded.jspi.mjs` and
   * `.wasm`, `ort-wasm-simd-threaded.asyncify.mjs` and `.wasm`): a directory URL, relative to the
   * page. Default: the package's own copies, found relative to its module URL (under a bundler,
   * wherever it copied them). If they are not there, load() rejects with `ORT_FILES_NOT_FOUND`,
   * naming the URL it tried; a directory without the JSPI pair runs the asyncify build.
   */
  ortBaseUrl?: string | URL;
  /**
   * Which onnxruntime-web build the worker runs: 'auto' (default) the JSPI build where the browser
   * has JSPI (`WebAssembly.Suspending`; it streams large models' weights from storage), else
   * the asyncify build; 'asyncify' always the asyncify build (it reads whole weight shards into
   * memory while a session is created).
   */
  ortBuild?: 'auto' | 'asyncify';
  /**
   * WASM threads of the worker's ONNX Runtime, an integer 1–16 (default: min(4, cores)). Fixed for
   * the worker's lifetime when its first model loads; only a cross-origin-isolated page gets more
   * than 1. 1 keeps a generation off the page's other cores (the bench uses it on small machines).
   */
  wasmThreads?: number;
}

/**
 * Relative URLs mean "relative to this page", not to the worker script. Anything that is not a
 * resolvable string goes as it is: the worker's argument check answers BAD_INPUT.
 */
function absolute(url: string): string {
  if (typeof url !== 'string' || url.trim() === '') return url;
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    return url;
  }
}

/** An argument the structured clone cannot copy (a function, a DOM node…) is the caller's BAD_INPUT. */
function cloneable<V>(call: () => Promise<V>): Promise<V> {
  const reject = (e: unknown): never => {
    if ((e as { name?: unknown } | null)?.name === 'DataCloneError') {
      throw new RuntimeError('BAD_INPUT', `an argument cannot be sent to the worker: ${(e as Error).message}`,
        'pass plain data (numbers, strings, plain objects); callbacks go in the onProgress / onEvent argument');
    }
    throw e;
  };
  try {
    return call().catch(reject);
  } catch (e) {
    return Promise.reject(e).catch(reject);
  }
}

/** Comlink proxies a function argument; anything else is passed for the worker to reject. */
const callback = <F>(fn: F | undefined): F | undefined => (typeof fn === 'function' ? proxy(fn) : fn);

/**
 * Starts (or wraps) a diffusion worker and returns its RuntimeApi.
 *
 * @example
 * ```ts
 * const api = createRuntimeClient();
 * await api.load('models/mnist-dit/manifest.json');
 * const { image, stats } = await api.generate({ label: 7, seed: 3, policy: { kind: 'ertacache' } });
 * ```
 */
export function createRuntimeClient(options: RuntimeClientOptions | Worker = {}): RuntimeClient {
  const o: RuntimeClientOptions = 'postMessage' in options ? { worker: options } : options;
  const wasmThreads = checkWasmThreads(o.wasmThreads);
  const worker = o.worker ?? createDiffusionWorker();
  installRuntimeErrors(transferHandlers);
  const remote: Remote<WorkerApi> = wrap<WorkerApi>(worker);
  const ortFiles = o.ortBaseUrl !== undefined ? absolute(String(o.ortBaseUrl)) : defaultOrtFiles();
  // Sent before any load (Comlink keeps the order); a failure shows up as load()'s error.
  const ortBuild = o.ortBuild === 'asyncify' ? 'asyncify' : 'auto';
  if (ortFiles !== null || ortBuild !== 'auto' || wasmThreads !== undefined) {
    remote.useOrtFiles(ortFiles, ortBuild, wasmThreads).catch(() => undefined);
  }
  return {
    load: (url: string, options?: LoadOptions, onProgress?: (e: LoadEvent) => void): Promise<ModelInfo> =>
      cloneable(() => remote.load(absolute(url), options, callback(onProgress))),
    generate: (request: GenerateRequest, onEvent?: (e: GenerateEvent) => void): Promise<GenerateResult> =>
      cloneable(() => remote.generate(request, callback(onEvent))),
    calibrate: (request: CalibrateRequest, onEvent?: (e: CalibrationEvent) => void): Promise<CalibrateResult> =>
      cloneable(() => remote.calibrate(request, callback(onEvent))),
    cancel: (jobId: string) => cloneable(() => remote.cancel(jobId)),
    dispose: () => remote.dispose(),
    cachedModels: () => remote.cachedModels(),
    deleteCachedModel: (manifestUrl: string) => cloneable(() => remote.deleteCachedModel(absolute(manifestUrl))),
    async terminate() {
      try {
        await remote.dispose();
      } finally {
        remote[releaseProxy]();
        worker.terminate();
      }
    },
  };
}
