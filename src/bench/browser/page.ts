// The browser side of the speed benchmark: the page `npm run bench` opens in Chromium. It times
// the real runtime (worker, Comlink, ONNX Runtime Web) with the same interleaved A/B protocol
// as the Node bench (src/bench/speed.ts); the wall clock of a generation is what a page sees,
// from generate() to the final image. PSNR/SSIM are taken on the timed pairs themselves.

import { createRuntimeClient } from '../../client/runtime-client.ts';
import { psnr, ssim, toUnitRange } from '../../core/metrics.ts';
import type { ProviderReport, ProviderName } from '../../runtime/api.ts';
import { measureInterleaved, median, timedSample, type SpeedRow, type TimedRun } from '../speed.ts';
import { timedRequest } from '../families.ts';

export interface BrowserCase {
  /** Row name, e.g. 'ertacache'. */
  policy: string;
  /** Registry kind the worker builds. */
  kind: string;
  budget: number;
}

export interface BrowserBenchConfig {
  manifestUrl: string;
  provider: ProviderName;
  steps: number;
  cases: BrowserCase[];
  repeats: number;
  warmup: 'every-case' | 'first-case';
  /** The worker's WASM threads (the client's wasmThreads); default min(4, cores). */
  wasmThreads?: number;
}

export interface BrowserSpeedRow extends SpeedRow {
  /** Mean PSNR / SSIM of the timed pairs (policy vs none, same seed and label). */
  psnr: number;
  ssim: number;
  pairs: number;
}

export interface BrowserBenchResult {
  provider: ProviderReport;
  userAgent: string;
  steps: number;
  loadMs: number;
  /** Median ms of a full-compute generation over every timed `none` run. */
  msNone: number;
  rows: BrowserSpeedRow[];
}

async function runBench(cfg: BrowserBenchConfig): Promise<BrowserBenchResult> {
  const client = createRuntimeClient(cfg.wasmThreads === undefined ? {} : { wasmThreads: cfg.wasmThreads });
  try {
    const info = await client.load(cfg.manifestUrl, { provider: cfg.provider });
    const { height: h, width: w } = info.image; // = the latent for models without a VAE
    // Text models (the families bench) get a prompt; class models the rotating label as before.
    const conditioning = (k: number) => (info.conditioning === 'text' ? timedRequest(k, 'text', 0) : timedSample(k, info.classes));
    const run = async (kind: string, budget: number | undefined, k: number): Promise<TimedRun & { image: Float32Array }> => {
      const t0 = performance.now();
      const r = await client.generate({
        ...conditioning(k), steps: cfg.steps,
        policy: budget === undefined ? { kind } : { kind, budget },
      });
      return { ms: performance.now() - t0, stats: r.stats, image: r.image };
    };
    const noneImages = new Map<number, Float32Array>();
    const quality = new Map<BrowserCase, { psnr: number[]; ssim: number[] }>();
    const noneMs: number[] = [];
    const score = (c: BrowserCase, image: Float32Array, ref: Float32Array) => {
      const q = quality.get(c) ?? { psnr: [], ssim: [] };
      const a = toUnitRange(image);
      const b = toUnitRange(ref);
      q.psnr.push(psnr(a, b));
      // SSIM needs sides ≥ 11; planar channels (4-channel latents, RGB) are averaged.
      q.ssim.push(w >= 11 && h >= 11 ? ssim(a, b, w, h, { channels: a.length / (w * h) }) : NaN);
      quality.set(c, q);
    };
    // Pairs run in alternating order (speed.ts): a policy run that came first waits for its `none`.
    const waiting = new Map<number, { c: BrowserCase; image: Float32Array }[]>();
    const rows = await measureInterleaved(cfg.steps, cfg.cases,
      async (k) => {
        const r = await run('none', undefined, k);
        noneImages.set(k, r.image);
        if (k > 0) noneMs.push(r.ms);
        for (const p of waiting.get(k) ?? []) score(p.c, p.image, r.image);
        waiting.delete(k);
        return r;
      },
      async (c, k) => {
        const r = await run(c.kind, c.budget, k);
        const ref = noneImages.get(k);
        if (k > 0 && ref) score(c, r.image, ref);
        else if (k > 0) waiting.set(k, [...(waiting.get(k) ?? []), { c, image: r.image }]);
        return r;
      },
      cfg.repeats, (m) => console.log(`[${cfg.provider}] ${m}`), cfg.warmup);
    const mean = (xs: number[]) => xs.reduce((p, v) => p + v, 0) / xs.length;
    return {
      provider: info.provider, userAgent: navigator.userAgent, steps: cfg.steps, loadMs: info.loadMs,
      msNone: median(noneMs),
      rows: rows.map((r, i) => {
        const q = quality.get(cfg.cases[i]!)!;
        return { ...r, psnr: mean(q.psnr), ssim: mean(q.ssim), pairs: q.psnr.length };
      }),
    };
  } finally {
    await client.terminate();
  }
}

(globalThis as unknown as { ertaBench: { run: typeof runBench } }).ertaBench = { run: runBench };
