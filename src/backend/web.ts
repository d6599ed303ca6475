// The onnxruntime-web backend: provider choice, ORT configuration, sessions and ops.
// 'onnxruntime-web/webgpu' is 1.30's build with the native WebGPU EP (plus the WASM EP). It is
// used over the default JSEP build because the native EP submits all of a run's GPU work when
// session.run resolves, which is what makes WGSL ops on the same device queue well-ordered.
// ORT's .wasm/.mjs come from env.wasm.wasmPaths, served by this project (vite.config.ts).

import * as ort from 'onnxruntime-web/webgpu';
import type { GraphMode, GraphName, ModelManifest } from '../manifest/types.ts';
import { createSingleDenoiser, createSplitDenoiser } from './denoiser.ts';
import type { FetchFn } from './http.ts';
import { ortCpuOps } from './ort-cpu-ops.ts';
import type { OrtNamespace } from './ort-types.ts';
import {
  chooseProvider, chooseThreads, probeCapabilities, webGpuUnavailable,
  type Capabilities, type ProbeScope, type ProviderName, type ProviderReport, type ProviderRequest,
} from './providers.ts';
import { createRunQueue } from './run-queue.ts';
import type { BackendOps, OpenModel, RuntimeBackend } from './runtime-backend.ts';
import { createGraphSessions, releaseSessions, type GraphSessions } from './sessions.ts';
import { describe, WebBackendError } from './web-errors.ts';
import { createWebGpuOps } from './webgpu-ops.ts';
import { createWebGpuPreview } from './webgpu-preview.ts';
import { createPipelineGraphs } from './text-pipeline.ts';
import { loadJsonDocument, loadModelFile, type KeyValueStore } from './weight-store.ts';

export type WebTensor = ort.Tensor;

export interface WebBackendOptions {
  /** Where ORT's .wasm/.mjs are served (default '/ort/', see vite.config.ts). Never a CDN. */
  wasmPaths?: string;
  fetch?: FetchFn;
  store?: KeyValueStore;
  scope?: ProbeScope;
}

const ORT = ort as unknown as OrtNamespace<WebTensor>;

interface OrtConfig {
  threads: number;
  notes: string[];
}

/**
 * ORT reads env.wasm once, when its WASM module starts (the first session), so the thread count
 * is fixed for the worker's lifetime; a later load reports the same configuration.
 */
function configureOrt(caps: Capabilities, wasmPaths: string, previous: OrtConfig | null): OrtConfig {
  if (previous) return previous;
  const { threads, note } = chooseThreads(caps);
  ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // a proxy worker cannot hand GPU tensors back
  ort.env.logLevel = 'error'; // node-placement warnings are expected for shape ops
  return { threads, notes: note ? [note] : [] };
}

const isTyped = (e: unknown): boolean => e instanceof Error && typeof (e as { code?: unknown }).code === 'string';

/** Sessions + ops on one provider, checked against the manifest; nothing leaks on failure. */
async function open(provider: ProviderName, manifest: ModelManifest, mode: GraphMode,
  graphs: Partial<Record<GraphName, Uint8Array>>, report: ProviderReport): Promise<OpenModel<WebTensor>> {
  const opened = await openOn(provider, graphs);
  try {
    return buildModel(manifest, mode, opened, report);
  } catch (e) {
    await releaseSessions(opened.sessions);
    (opened.ops as { release?: () => void }).release?.();
    throw e;
  }
}

async function openOn(provider: ProviderName, graphs: Partial<Record<GraphName, Uint8Array>>): Promise<{ sessions: GraphSessions<WebTensor>; ops: BackendOps<WebTensor>; device: GPUDevice | null }> {
  // logSeverityLevel 3: ORT's expected "shape ops placed on CPU" warnings are not the user's problem.
  const sessionOptions = provider === 'webgpu'
    ? { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' as const, logSeverityLevel: 3 as const }
    : { executionProviders: ['wasm'], logSeverityLevel: 3 as const };
  const sessions = await createGraphSessions(ORT, graphs, sessionOptions);
  if (provider === 'wasm') return { sessions, ops: ortCpuOps(ORT), device: null };
  try {
    // Typed as a Promise in 1.30; the EP sets the device itself once the first session exists.
    const device = (await ort.env.webgpu.device) as GPUDevice;
    return { sessions, ops: createWebGpuOps(ort, device), device };
  } catch (e) {
    await releaseSessions(sessions);
    throw e;
  }
}

function buildModel(manifest: ModelManifest, mode: GraphMode, opened: Awaited<ReturnType<typeof openOn>>,
  provider: ProviderReport): OpenModel<WebTensor> {
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
  let config: OrtConfig | null = null;
  return {
    loadJson: (url, what, opts) => loadJsonDocument(url, what, opts, options.fetch, options.store),
    loadFile: (spec, opts) => loadModelFile(spec, opts, options.fetch, options.store),
    async openModel(manifest, mode, graphs, request: ProviderRequest) {
      const caps = await probeCapabilities(options.scope);
      const choice = chooseProvider(request, caps);
      config = configureOrt(caps, wasmPaths, config);
      const report = (used: ProviderName, reason: string): ProviderReport => ({
        requested: request, used, reason, threads: config!.threads,
        crossOriginIsolated: caps.crossOriginIsolated, notes: used === 'wasm' ? config!.notes : [],
      });
      let reason = choice.reason;
      if (choice.provider === 'webgpu') {
        try {
          return await open('webgpu', manifest, mode, graphs, report('webgpu', reason));
        } catch (e) {
          if (isTyped(e)) throw e; // a model problem, not a provider problem: WASM would fail too
          if (request === 'webgpu') throw webGpuUnavailable(`the WebGPU execution provider failed: ${describe(e)}`, e);
          reason = `fallback to WASM: the WebGPU execution provider failed (${describe(e)})`;
        }
      }
      try {
        return await open('wasm', manifest, mode, graphs, report('wasm', reason));
      } catch (e) {
        if (isTyped(e)) throw e; // e.g. SESSION_IO_MISMATCH
        throw new WebBackendError('BACKEND_INIT', `ONNX Runtime (WASM) could not start: ${describe(e)}`,
          `check that ${wasmPaths} serves ORT ${ort.env.versions.web}'s .wasm/.mjs files (vite.config.ts copies them)`,
          { cause: e });
      }
    },
  };
}
