// Test-only page script (served by Vite at /e2e/harness.html). It exposes `window.harness`, a
// small, serializable facade over the runtime client, so Playwright can drive the real worker
// and read back plain data: events in arrival order, results, errors with their codes.

import { createRuntimeClient, type RuntimeClient } from '../src/client/runtime-client.ts';
import '../src/element/define.ts'; // <erta-diffusion>, for tests that drive the element on this page (calibrate.spec.ts)
import {
  RuntimeError,
  type CalibrateRequest, type CalibrationEvent, type Frame, type GenerateEvent, type GenerateRequest, type LoadEvent, type LoadOptions,
} from '../src/runtime/api.ts';

export interface ErrorInfo { code: string; message: string; hint: string; isRuntimeError: boolean }
export type Outcome<V> = { ok: true; value: V; events: unknown[] } | { ok: false; error: ErrorInfo; events: unknown[] };

// ?ort-build=asyncify: ONNX Runtime's asyncify build even where the browser has JSPI (bench:large's baseline).
const clientOptions = new URLSearchParams(location.search).get('ort-build') === 'asyncify' ? { ortBuild: 'asyncify' as const } : {};
let client: RuntimeClient = createRuntimeClient(clientOptions);
const running = new Map<string, { events: unknown[]; outcome: Promise<Outcome<unknown>> }>();

function errorInfo(e: unknown): ErrorInfo {
  const c = e as { code?: string; message?: string; hint?: string };
  return { code: c.code ?? 'NONE', message: c.message ?? String(e), hint: c.hint ?? '', isRuntimeError: e instanceof RuntimeError };
}

function draw(frame: Frame): void {
  const canvas = document.getElementById('frame') as HTMLCanvasElement;
  canvas.width = frame.width;
  canvas.height = frame.height;
  canvas.getContext('2d')!.putImageData(new ImageData(frame.pixels as Uint8ClampedArray<ArrayBuffer>, frame.width, frame.height), 0, 0);
}

/** Events as plain data; frames are drawn (as a page would) and summarised. */
function record(events: unknown[]) {
  return (e: LoadEvent | GenerateEvent | CalibrationEvent) => {
    if (e.type === 'preview') {
      draw(e.frame);
      events.push({ type: 'preview', i: e.i, width: e.frame.width, height: e.frame.height, bytes: e.frame.pixels.byteLength });
    } else {
      events.push(e);
    }
  };
}

async function attempt<V>(fn: (onEvent: (e: LoadEvent | GenerateEvent | CalibrationEvent) => void) => Promise<V>,
  events: unknown[] = []): Promise<Outcome<V>> {
  // The events as they stand when the call settles: one delivered after the result is missing here.
  try {
    const value = await fn(record(events));
    return { ok: true, value, events: [...events] };
  } catch (e) {
    return { ok: false, error: errorInfo(e), events: [...events] };
  }
}

const harness = {
  load: (url: string, options?: LoadOptions) => attempt((on) => client.load(url, options, on)),
  generate: (req: GenerateRequest, events: unknown[] = []) => attempt(async (on) => {
    const r = await client.generate(req, on);
    draw(r.frame);
    return { jobId: r.jobId, stats: r.stats, image: Array.from(r.image), framePixels: r.frame.pixels.byteLength,
      // video models: how many frames, and each one's byte sum (frames that differ make a clip)
      ...(r.frames ? { frames: r.frames.map((f) => f.pixels.reduce((a, v) => a + v, 0)) } : {}) };
  }, events),
  /** Starts a job without waiting; `stepsSoFar` watches it, `settle(jobId)` returns its outcome. */
  start(req: GenerateRequest & { jobId: string }): void {
    const events: unknown[] = [];
    running.set(req.jobId, { events, outcome: harness.generate(req, events) });
  },
  stepsSoFar: (jobId: string) => running.get(jobId)!.events.filter((e) => (e as { type: string }).type === 'step').length,
  settle: (jobId: string) => running.get(jobId)!.outcome,
  cancel: (jobId: string) => client.cancel(jobId),
  calibrate: (req: CalibrateRequest, events: unknown[] = []) => attempt((on) => client.calibrate(req, on), events),
  /** Starts a calibration without waiting (settle(jobId) returns its outcome, eventsSoFar its events). */
  startCalibrate(req: CalibrateRequest & { jobId: string }): void {
    const events: unknown[] = [];
    running.set(req.jobId, { events, outcome: harness.calibrate(req, events) });
  },
  eventsSoFar: (jobId: string) => running.get(jobId)!.events.length,
  dispose: () => client.dispose(),
  cachedModels: () => attempt(() => client.cachedModels()),
  deleteCachedModel: (url: string) => attempt(() => client.deleteCachedModel(url)),
  async restart(): Promise<void> {
    await client.terminate();
    client = createRuntimeClient(clientOptions);
  },
  /**
   * Calls the client with whatever a careless page might pass: `source` is a function's text,
   * `(c) => c.generate(null)`, applied to the live client (corpus.spec.ts). Values are dropped
   * (they need not be serializable); errors come back with their code.
   */
  raw: async (source: string): Promise<Outcome<null>> => {
    const call = new Function(`return (${source});`)() as (c: RuntimeClient) => Promise<unknown>;
    return attempt(async () => { await call(client); return null; });
  },
  /** Grey level of the canvas centre: proves frames reach the canvas. */
  canvasMean(): number {
    const c = document.getElementById('frame') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    for (let k = 0; k < d.length; k += 4) s += d[k]!;
    return s / (d.length / 4);
  },
};

(globalThis as unknown as { harness: typeof harness }).harness = harness;
export type Harness = typeof harness;
