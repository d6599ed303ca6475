// The onnxruntime-web backend: provider choice, ORT configuration, sessions and ops.
// 'onnxruntime-web/jspi' (where the browser has JSPI) and 'onnxruntime-web/webgpu' (the
// asyncify fallback) are 1.30's builds with the native WebGPU EP (plus the WASM EP); see
// ort-files.ts for why JSPI is preferred. They are used over the default JSEP build because the
// native EP submits all of a run's GPU work when session.run resolves, which is what makes WGSL
// ops on the same device queue well-ordered. Each build's JS is its own chunk, imported when ORT
// starts, so a worker fetches one of them. ORT's .wasm/.mjs come from env.wasm.wasmPaths
// (ort-files.ts): served by this project under ort/ (vite.config.ts), or shipped beside the
// package's modules and sent by the page's client.

import type * as OrtWeb from 'onnxruntime-web/webgpu';
import type { GraphMode, GraphName, ModelManifest } from '../manifest/types.ts';
import { createSingleDenoiser, createSplitDenoiser } from './denoiser.ts';
import type { FetchFn } from './http.ts';
import { ortCpuOps } from './ort-cpu-ops.ts';
import {
  chooseOrtBuild, hasJspi, ORT_BUILD_FILES, ortFileUrls, probeOrtFiles,
  type OrtBuild, type OrtBuildRequest, type OrtFilePair, type OrtFiles,
} from './ort-files.ts';
import type { OrtNamespace } from './ort-types.ts';
import {
  chooseProvider, chooseThreads, probeCapabilities, webGpuUnavailable,
  type Capabilities, type ProbeScope, type ProviderName, type ProviderReport, type ProviderRequest,
} from './providers.ts';
import { createRunQueue } from './run-queue.ts';
import { checkAdapter, modelNeeds, type ModelNeeds } from './gpu-limits.ts';
import type { BackendOps, OpenModel, RuntimeBackend } from './runtime-backend.ts';
import { createGraphSessions, releaseSessions, type GraphSessions, type GraphSource } from './sessions.ts';
import { describe, WebBackendError } from './web-errors.ts';
import { createWebGpuOps } from './webgpu-ops.ts';
import { createWebGpuPreview } from './webgpu-preview.ts';
import { createPipelineGraphs } from './text-pipeline.ts';
import { cacheKey, idbStore, loadJsonDocument, loadModelFile, type KeyValueStore } from './weight-store.ts';
import { loadLargeFiles, type LargeFileDeps } from './large-files.ts';
import { deleteCachedModel, listCachedModels } from '../storage/cached-models.ts';
import { idbRecordStore } from '../storage/records.ts';

export type WebTensor = OrtWeb.Tensor;
type OrtModule = typeof OrtWeb;

export interface WebBackendOptions {
  /**
   * Where ORT's .wasm/.mjs are (default '/ort/', see vite.config.ts), or a function read when
   * ORT starts (the first openModel): the worker's client may set it after the backend exists.
   */
  wasmPaths?: OrtFiles | (() => OrtFiles);
  /** 'auto' (default): ORT's JSPI build where the browser has JSPI; 'asyncify': never (or a function, read like wasmPaths). */
  ortBuild?: OrtBuildRequest | (() => OrtBuildRequest);
  /** WASM threads (1–16) instead of min(4, cores); read when ORT starts, like wasmPaths. Default: that choice. */
  wasmThreads?: number | (() => number | undefined);
  fetch?: FetchFn;
  store?: KeyValueStore;
  scope?: ProbeScope;
  /** Chunked downloads of large files: stores and estimate (default: OPFS or IndexedDB, navigator.storage). */
  large?: LargeFileDeps;
}

/** One ORT build, imported and configured: fixed for the worker's lifetime once it has started. */
interface OrtRuntime {
  ort: OrtModule;
  ORT: OrtNamespace<WebTensor>;
  build: OrtBuild;
  files: OrtFilePair;
  threads: number;
  notes: string[];
}

/** One build's JS: each import is its own chunk, so only the one used is fetched. */
async function importOrt(build: OrtBuild): Promise<OrtModule> {
  return build === 'jspi' ? (await import('onnxruntime-web/jspi')) as OrtModule : await import('onnxruntime-web/webgpu');
}

/**
 * ORT reads env.wasm once, when its WASM module starts (the first session), so the thread count
 * is fixed for the worker's lifetime; a later load reports the same configuration.
 */
async function startOrt(caps: Capabilities, build: OrtBuild, files: OrtFilePair, notes: string[] = [],
  wasmThreads?: number): Promise<OrtRuntime> {
  const ort = await importOrt(build);
  const { threads, note } = chooseThreads(caps, wasmThreads);
  ort.env.wasm.wasmPaths = files;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // a proxy worker cannot hand GPU tensors back
  ort.env.logLevel = 'error'; // node-placement warnings are expected for shape ops
  return { ort, ORT: ort as unknown as OrtNamespace<WebTensor>, build, files, threads, notes: note ? [note, ...notes] : notes };
}

/** The smallest valid module: "\0asm", version 1. Compiling it tests the CSP, nothing else. */
const EMPTY_WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * ONNX Runtime runs on WebAssembly (the WebGPU EP too). A Content-Security-Policy without
 * 'wasm-unsafe-eval' in script-src makes every compile throw; say so, instead of blaming the
 * ORT file deployment for what the page's policy forbids.
 */
export function checkWasmAllowed(): void {
  const hint = "add 'wasm-unsafe-eval' to the script-src directive of the page's (and the worker script's) "
    + 'Content-Security-Policy; README, "Content Security Policy" lists the whole policy';
  if (typeof WebAssembly === 'undefined') {
    throw new WebBackendError('WASM_BLOCKED', 'WebAssembly is not available in this worker', hint);
  }
  try {
    new WebAssembly.Module(EMPTY_WASM);
  } catch (e) {
    throw new WebBackendError('WASM_BLOCKED', `WebAssembly compilation is blocked here: ${describe(e)}`, hint, { cause: e });
  }
}

const isTyped = (e: unknown): boolean => e instanceof Error && typeof (e as { code?: unknown }).code === 'string';

/**
 * ORT failed to start: if its files are not where it looked, say which URL is wrong (a typed
 * error, no provider fallback: every provider needs them); otherwise rethrow.
 */
async function explainOrtFailure(e: unknown, rt: OrtRuntime, fetchFn: FetchFn | undefined): Promise<never> {
  if (isTyped(e)) throw e;
  const problem = await probeOrtFiles(rt.files, fetchFn);
  if (problem === null) throw e;
  const names = ORT_BUILD_FILES[rt.build];
  throw new WebBackendError('ORT_FILES_NOT_FOUND', `ONNX Runtime's files were not found: ${problem}`,
    `serve ${names.mjs} and ${names.wasm} from onnxruntime-web ${rt.ort.env.versions.web} there, or point the runtime at them `
    + `with the ortBaseUrl option (createRuntimeClient) / the ort-base-url attribute (<erta-diffusion>)`, { cause: e });
}

/** Sessions + ops on one provider, checked against the manifest; nothing leaks on failure. */
async function open(rt: OrtRuntime, provider: ProviderName, manifest: ModelManifest, mode: GraphMode,
  graphs: Partial<Record<GraphName, GraphSource>>, report: ProviderReport, fetchFn?: FetchFn): Promise<OpenModel<WebTensor>> {
  const opened = await openOn(rt, provider, graphs, manifest).catch((e: unknown) => explainOrtFailure(e, rt, fetchFn));
  try {
    return buildModel(rt, manifest, mode, opened, report);
  } catch (e) {
    await releaseSessions(opened.sessions);
    (opened.ops as { release?: () => void }).release?.();
    throw e;
  }
}

/** ADAPTER_LIMITS / SHADER_F16_UNAVAILABLE before any session: the adapter cannot hold the model. */
async function checkWebGpuFit(manifest: ModelManifest, names: GraphName[]): Promise<ModelNeeds> {
  const needs = modelNeeds(manifest, names);
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw webGpuUnavailable('navigator.gpu.requestAdapter() found no adapter');
  checkAdapter(needs, adapter);
  return needs;
}

const GPU_FIT: readonly string[] = ['ADAPTER_LIMITS', 'SHADER_F16_UNAVAILABLE'];

async function openOn(rt: OrtRuntime, provider: ProviderName, graphs: Partial<Record<GraphName, GraphSource>>, manifest: ModelManifest): Promise<{ sessions: GraphSessions<WebTensor>; ops: BackendOps<WebTensor>; device: GPUDevice | null }> {
  const { ort, ORT } = rt;
  // logSeverityLevel 3: ORT's expected "shape ops placed on CPU" warnings are not the user's problem.
  const sessionOptions = provider === 'webgpu'
    ? { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' as const, logSeverityLevel: 3 as const }
    : { executionProviders: ['wasm'], logSeverityLevel: 3 as const };
  const needs = provider === 'webgpu' ? await checkWebGpuFit(manifest, Object.keys(graphs) as GraphName[]) : null;
  const sessions = await createGraphSessions(ORT, graphs, sessionOptions);
  if (provider === 'wasm') return { sessions, ops: ortCpuOps(ORT), device: null };
  try {
    // Typed as a Promise in 1.30; the EP sets the device itself once the first session exists.
    const device = (await ort.env.webgpu.device) as GPUDevice;
    // ORT asks the adapter for its highest buffer limits; check that its device really has them.
    if (needs) checkAdapter(needs, device, 'ONNX Runtime\'s WebGPU device');
    return { sessions, ops: createWebGpuOps(ort, device), device };
  } catch (e) {
    await releaseSessions(sessions);
    throw e;
  }
}

function buildModel(rt: OrtRuntime, manifest: ModelManifest, mode: GraphMode, opened: Awaited<ReturnType<typeof openOn>>,
  provider: ProviderReport): OpenModel<WebTensor> {
  const { ort, ORT } = rt;
  const { sessions, ops, device } = opened;
  const queue = createRunQueue();
  const pipeline = manifest.pipeline
    ? createPipelineGraphs({ ort: ORT, sessions, manifest, mode, ops, queue,
      ...(device ? { devicePreview: createWebGpuPreview(ort, device) } : {}) })
    : null;
  const denoiser = pipeline
    ? pipeline.bind([]) // text models bind their prompts per run (run-generation.ts)
    : mode === 'split'
      ? createSplitDenoiser(ORT, sessions, manifest, { queue })
      : createSingleDenoiser(ORT, sessions, manifest, { queue }); // checks session I/O names
  let lost: string | null = null;
  let released = false;
  void device?.lost.then((info) => { if (!released) lost = `GPU device lost (${info.reason}): ${info.message}`; });
  return {
    denoiser, pipeline, ops, provider,
    lostReason: () => lost,
    async release() {
      released = true;
      await queue.enqueue(async () => {}); // let a run in flight finish before its sessions go
      await releaseSessions(sessions);
      (ops as { release?: () => void }).release?.();
    },
  };
}

export function createWebBackend(options: WebBackendOptions = {}): RuntimeBackend<WebTensor> {
  const wasmPaths = options.wasmPaths ?? '/ort/';
  const threadsWanted = () => (typeof options.wasmThreads === 'function' ? options.wasmThreads() : options.wasmThreads);
  let rt: OrtRuntime | null = null;
  let started = false; // a session was created: ORT's build is fixed for this worker
  const records = () => options.large?.records ?? idbRecordStore();

  async function openWith(r: OrtRuntime, caps: Capabilities, manifest: ModelManifest, mode: GraphMode,
    graphs: Partial<Record<GraphName, GraphSource>>, request: ProviderRequest): Promise<OpenModel<WebTensor>> {
    const choice = chooseProvider(request, caps);
    const fetchFn = options.fetch;
    const report = (used: ProviderName, reason: string): ProviderReport => ({
      requested: request, used, reason, threads: r.threads,
      crossOriginIsolated: caps.crossOriginIsolated, notes: used === 'wasm' ? r.notes : [], ortBuild: r.build,
    });
    let reason = choice.reason;
    if (choice.provider === 'webgpu') {
      try {
        return await open(r, 'webgpu', manifest, mode, graphs, report('webgpu', reason), fetchFn);
      } catch (e) {
        const fit = isTyped(e) && GPU_FIT.includes((e as { code: string }).code);
        if (fit && request === 'auto') {
          reason = `fallback to WASM: ${describe(e)}`;
          return await open(r, 'wasm', manifest, mode, graphs, report('wasm', reason), fetchFn);
        }
        if (isTyped(e)) throw e; // a model problem, not a provider problem: WASM would fail too
        if (request === 'webgpu') throw webGpuUnavailable(`the WebGPU execution provider failed: ${describe(e)}`, e);
        reason = `fallback to WASM: the WebGPU execution provider failed (${describe(e)})`;
      }
    }
    try {
      return await open(r, 'wasm', manifest, mode, graphs, report('wasm', reason), fetchFn);
    } catch (e) {
      if (isTyped(e)) throw e; // e.g. SESSION_IO_MISMATCH
      throw new WebBackendError('BACKEND_INIT', `ONNX Runtime (WASM) could not start: ${describe(e)}`,
        `check that ${r.files.wasm} and ${r.files.mjs} are ORT ${r.ort.env.versions.web}'s files (vite.config.ts copies them) `
          + 'and that the Content-Security-Policy allows them (README, "Content Security Policy")',
        { cause: e });
    }
  }

  return {
    loadJson: (url, what, opts) => loadJsonDocument(url, what, opts, options.fetch, options.store),
    async loadFile(spec, opts) {
      const file = await loadModelFile(spec, opts, options.fetch, options.store);
      if (!file.fromCache && opts.cache !== false && opts.model) {
        // Listed with its model (cachedModels); the bytes stay in the whole-file cache.
        await records().put({ key: cacheKey(spec), url: spec.url, sha256: spec.sha256, bytes: spec.bytes, chunkBytes: spec.bytes,
          done: [0], verified: true, model: opts.model, store: 'kv', updated: Date.now() }).catch(() => {});
      }
      return file;
    },
    loadLargeFiles: (specs, opts) => loadLargeFiles(specs, opts, { fetch: options.fetch, ...options.large }),
    cachedModels: () => listCachedModels(records()),
    async deleteCachedModel(manifestUrl) {
      const kv = options.store ?? idbStore();
      await kv.del(`json:${manifestUrl}`).catch(() => {});
      return deleteCachedModel(manifestUrl, records(), (key) => kv.del(key));
    },
    async openModel(manifest, mode, graphs, request: ProviderRequest) {
      checkWasmAllowed();
      const caps = await probeCapabilities(options.scope);
      // Relative URLs resolve against the worker's own URL, as ORT itself would resolve them.
      const base = globalThis.location?.href;
      const files = typeof wasmPaths === 'function' ? wasmPaths() : wasmPaths;
      if (!rt) {
        const ask = typeof options.ortBuild === 'function' ? options.ortBuild() : options.ortBuild ?? 'auto';
        const build = chooseOrtBuild(files, ask, hasJspi());
        rt = await startOrt(caps, build, ortFileUrls(files, base, build), [], threadsWanted());
      }
      try {
        const model = await openWith(rt, caps, manifest, mode, graphs, request);
        started = true;
        return model;
      } catch (e) {
        // A deployment that serves only the asyncify build's files (an ort/ copied before the
        // JSPI build was used): run that build, and say so.
        const missing = isTyped(e) && (e as { code: string }).code === 'ORT_FILES_NOT_FOUND';
        if (started || !missing || rt.build !== 'jspi') throw e;
        const fallback = ortFileUrls(files, base, 'asyncify');
        if (await probeOrtFiles(fallback, options.fetch) !== null) throw e;
        rt = await startOrt(caps, 'asyncify', fallback, [`ONNX Runtime's JSPI build is not deployed (${describe(e)}); `
          + 'the asyncify build reads whole external-data shards into memory while a session is created'], threadsWanted());
        const model = await openWith(rt, caps, manifest, mode, graphs, request);
        started = true;
        return model;
      }
    },
  };
}
