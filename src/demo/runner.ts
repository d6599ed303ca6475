// The demo's side of the runtime: one worker client, the model (re)loaded when the provider
// changes, and single runs that stream their steps and frames into a canvas and a timeline.

import { createRuntimeClient } from '../client/runtime-client.ts';
import type { RuntimeClient } from '../client/runtime-client.ts';
import { DEFAULT_FPS, FramePlayer } from '../element/player.ts';
import type {
  CalibrateRequest, CalibrateResult, CalibrationEvent, GenerateRequest, GenerateResult, LoadEvent, ModelInfo, ProviderRequest,
} from '../runtime/api.ts';
import type { Timeline } from './timeline.ts';

/** One player per canvas: a still image is drawn once, a video model's clip loops (the element's player). */
const players = new WeakMap<HTMLCanvasElement, FramePlayer>();
function playerFor(canvas: HTMLCanvasElement): FramePlayer {
  let p = players.get(canvas);
  if (!p) players.set(canvas, (p = new FramePlayer(canvas)));
  return p;
}

export interface RunTarget {
  canvas: HTMLCanvasElement;
  timeline: Timeline;
}

export class DemoRunner {
  readonly #client: RuntimeClient = createRuntimeClient();
  #loaded: { key: string; info: Promise<ModelInfo> } | null = null;
  #jobId: string | null = null;
  #jobs = 0;

  /** Load once per (manifest, provider); progress is byte-level over all model files. */
  load(manifestUrl: string, provider: ProviderRequest, onBytes: (loaded: number, total: number) => void): Promise<ModelInfo> {
    const key = `${provider} ${manifestUrl}`;
    if (this.#loaded?.key === key) return this.#loaded.info;
    const files = new Map<string, [number, number]>();
    const onProgress = (e: LoadEvent) => {
      if (e.type !== 'download') return;
      files.set(e.file, [e.loaded, e.total]);
      let loaded = 0;
      let total = 0;
      for (const [l, t] of files.values()) { loaded += l; total += t; }
      onBytes(loaded, total);
    };
    const info = this.#client.load(manifestUrl, { provider }, onProgress);
    const entry = { key, info };
    this.#loaded = entry;
    info.catch(() => {
      if (this.#loaded === entry) this.#loaded = null; // retry on the next call
    });
    return info;
  }

  /** What this browser stores per model (the "Stored models" list). */
  cachedModels() {
    return this.#client.cachedModels();
  }

  /** Deletes a model's stored files; the next load downloads it again. */
  async deleteCachedModel(manifestUrl: string): Promise<number> {
    return this.#client.deleteCachedModel(manifestUrl);
  }

  /** Forget the loaded model (after DEVICE_LOST): the next load() really loads. */
  forget(): void {
    this.#loaded = null;
  }

  get running(): boolean {
    return this.#jobId !== null;
  }

  /** One generation drawn live into `target`. Rejects with the runtime's typed error. */
  async run(request: Omit<GenerateRequest, 'jobId'>, target: RunTarget): Promise<GenerateResult> {
    this.#jobs += 1;
    const jobId = `demo-${this.#jobs}`;
    this.#jobId = jobId;
    target.timeline.reset(request.steps ?? 0);
    try {
      const result = await this.#client.generate({ ...request, jobId }, (e) => {
        if (e.type === 'step') target.timeline.add(e);
        else if (e.type === 'preview') playerFor(target.canvas).show(e.frames ?? [e.frame], DEFAULT_FPS);
      });
      playerFor(target.canvas).show(result.frames ?? [result.frame], DEFAULT_FPS); // a video model's clip loops
      return result;
    } finally {
      if (this.#jobId === jobId) this.#jobId = null;
    }
  }

  /** Fits a plan in the worker (api.calibrate); cancel() stops it. */
  async calibrate(request: Omit<CalibrateRequest, 'jobId'>, onEvent: (e: CalibrationEvent) => void): Promise<CalibrateResult> {
    this.#jobs += 1;
    const jobId = `demo-${this.#jobs}`;
    this.#jobId = jobId;
    try {
      return await this.#client.calibrate({ ...request, jobId }, onEvent);
    } finally {
      if (this.#jobId === jobId) this.#jobId = null;
    }
  }

  async cancel(): Promise<void> {
    if (this.#jobId !== null) await this.#client.cancel(this.#jobId);
  }
}

/** Human description of the provider in use, and whether the page should show a WASM note. */
export function describeProvider(model: ModelInfo): { text: string; wasmNote: string | null } {
  const p = model.provider;
  const threads = p.used === 'wasm' ? `, ${p.threads} thread${p.threads === 1 ? '' : 's'}` : '';
  const text = `${model.name} on ${p.used === 'webgpu' ? 'WebGPU' : 'WASM'}${threads} — ${p.reason}`;
  const fellBack = p.requested === 'auto' && p.used === 'wasm';
  const wasmNote = fellBack
    ? `WebGPU is not available here, so the model runs on the CPU with WebAssembly (${p.reason}). It works, just more slowly.`
    : null;
  return { text, wasmNote };
}
