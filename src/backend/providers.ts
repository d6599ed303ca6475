// Capability probe and execution-provider choice. WebGPU is preferred; WASM is the fallback
// and the reason is always reported. Forcing a provider never falls back: a user who asked for
// WebGPU must learn that they did not get it. Environment objects are injectable for tests.

import { describe, WebBackendError } from './web-errors.ts';

export type ProviderName = 'webgpu' | 'wasm';
/** 'auto' = WebGPU when usable, else WASM (default). */
export type ProviderRequest = 'auto' | ProviderName;

export interface ProviderReport {
  requested: ProviderRequest;
  used: ProviderName;
  /** Why this provider, in words ("WebGPU adapter swiftshader", "fallback: no WebGPU adapter"). */
  reason: string;
  /** WASM threads ORT was configured with (1 = single-threaded). */
  threads: number;
  crossOriginIsolated: boolean;
  /** Things the user should know, e.g. that WASM runs single-threaded and why. */
  notes: string[];
  /**
   * onnxruntime-web's build (browser only): 'jspi' reads external-data weights from storage
   * tensor by tensor; 'asyncify' (no JSPI in this browser) reads whole shards into memory first.
   */
  ortBuild?: 'jspi' | 'asyncify';
}

export type WebGpuProbe = { ok: true; adapter: GPUAdapter; description: string } | { ok: false; reason: string };

export interface Capabilities {
  webgpu: WebGpuProbe;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/** The parts of the global scope the probe reads (a Worker's or a Window's). */
export interface ProbeScope {
  navigator: { gpu?: GPU; hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
}

async function probeWebGpu(gpu: GPU | undefined): Promise<WebGpuProbe> {
  if (!gpu) return { ok: false, reason: 'navigator.gpu is missing (browser without WebGPU, or not a secure context)' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter (GPU blocklisted or WebGPU disabled in this browser)' };
    const info = adapter.info;
    const description = [info?.vendor, info?.architecture, info?.device].filter(Boolean).join(' ') || 'unknown adapter';
    return { ok: true, adapter, description };
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${describe(e)}` };
  }
}

export async function probeCapabilities(scope: ProbeScope = globalThis as unknown as ProbeScope): Promise<Capabilities> {
  return {
    webgpu: await probeWebGpu(scope.navigator.gpu),
    crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator.hardwareConcurrency ?? 1,
  };
}

export interface ProviderChoice {
  provider: ProviderName;
  reason: string;
}

/** Throws WEBGPU_UNAVAILABLE when WebGPU is forced but unusable. */
export function chooseProvider(request: ProviderRequest, caps: Capabilities): ProviderChoice {
  if (request === 'wasm') return { provider: 'wasm', reason: 'WASM requested by the caller' };
  if (caps.webgpu.ok) {
    const why = request === 'webgpu' ? 'WebGPU requested by the caller' : 'WebGPU available';
    return { provider: 'webgpu', reason: `${why} (adapter: ${caps.webgpu.description})` };
  }
  if (request === 'webgpu') throw webGpuUnavailable(caps.webgpu.reason);
  return { provider: 'wasm', reason: `fallback to WASM: ${caps.webgpu.reason}` };
}

export function webGpuUnavailable(reason: string, cause?: unknown): WebBackendError {
  return new WebBackendError(
    'WEBGPU_UNAVAILABLE',
    `WebGPU was requested but is not usable: ${reason}`,
    "use provider 'auto' or 'wasm', or a browser with WebGPU enabled (Chrome/Edge 113+; on Linux "
      + 'start Chromium with --enable-unsafe-webgpu)',
    { cause },
  );
}

export interface ThreadChoice {
  threads: number;
  note: string | null;
}

/**
 * WASM threads need SharedArrayBuffer, which browsers only give cross-origin-isolated pages
 * (COOP: same-origin + COEP: require-corp). Embedding pages often are not, so single-threaded
 * is the normal case there and is said, not hidden. Capped at 4: more threads rarely help a
 * small model and they compete with the page. `requested` (the client's `wasmThreads`) replaces
 * that default where threads are possible.
 */
export function chooseThreads(caps: Capabilities, requested?: number): ThreadChoice {
  if (!caps.crossOriginIsolated) {
    return {
      threads: 1,
      note: 'the page is not cross-origin isolated (COOP/COEP headers), so WASM runs single-threaded',
    };
  }
  if (requested !== undefined) return { threads: requested, note: null };
  return { threads: Math.max(1, Math.min(4, caps.hardwareConcurrency)), note: null };
}
