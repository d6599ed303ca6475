// Compare mode: the cached run against the uncached reference of the same seed — wall-clock
// speedup, computed steps, PSNR/SSIM against the reference (evaluation.md protocol: images
// mapped to [0, 1]) and a difference heat-map.

import { psnr, ssim, toUnitRange } from '../core/metrics.ts';
import type { GenerateResult } from '../runtime/api.ts';
import { diffStats, drawDiffHeatmap } from './heatmap.ts';
import type { DiffStats } from './heatmap.ts';

export interface Comparison {
  /** time(no cache) / time(policy), over the sampling loop (stats.totalMs) of each run. */
  speedup: number;
  refMs: number;
  cachedMs: number;
  refComputed: number;
  cachedComputed: number;
  steps: number;
  psnr: number; // dB; Infinity when identical
  ssim: number;
  diff: DiffStats;
}

/** Pure numbers from two results; the heat-map canvas is drawn as a by-product when given. */
export function compareResults(ref: GenerateResult, cached: GenerateResult, width: number, height: number,
  heatmap?: HTMLCanvasElement): Comparison {
  const a = toUnitRange(cached.image);
  const b = toUnitRange(ref.image);
  const plane = width * height;
  const diff = heatmap ? drawDiffHeatmap(heatmap, a, b, width, height) : diffStats(a, b, plane);
  const channels = Math.max(1, Math.round(a.length / plane));
  return {
    speedup: ref.stats.totalMs / cached.stats.totalMs,
    refMs: ref.stats.totalMs,
    cachedMs: cached.stats.totalMs,
    refComputed: ref.stats.computedSteps,
    cachedComputed: cached.stats.computedSteps,
    steps: cached.stats.steps,
    psnr: psnr(a, b),
    ssim: width >= 11 && height >= 11 ? ssim(a, b, width, height, { channels }) : NaN,
    diff,
  };
}

export function formatDb(db: number): string {
  return db === Infinity ? '∞ (identical)' : `${db.toFixed(2)} dB`;
}

/** Rows of the comparison table; each value cell carries data-metric for tests and scripts. */
export function renderComparison(table: HTMLTableElement, c: Comparison, policy: string): void {
  const rows: [string, string, string, string][] = [
    ['speedup', 'Wall-clock speedup', `${c.speedup.toFixed(2)}×`,
      `${c.refMs.toFixed(0)} ms uncached → ${c.cachedMs.toFixed(0)} ms with ${policy}`],
    ['computed', 'Computed steps', `${c.cachedComputed} / ${c.steps}`, `uncached: ${c.refComputed} / ${c.steps}`],
    ['psnr', 'PSNR vs uncached', formatDb(c.psnr), 'higher is closer; > 30 dB is hard to see'],
    ['ssim', 'SSIM vs uncached', Number.isNaN(c.ssim) ? 'n/a' : c.ssim.toFixed(4), '1 = identical structure'],
    ['maxdiff', 'Largest pixel difference', `${(100 * c.diff.maxAbs).toFixed(1)} %`,
      `mean ${(100 * c.diff.meanAbs).toFixed(2)} % of the range`],
  ];
  const body = table.tBodies[0] ?? table.createTBody();
  body.replaceChildren();
  for (const [key, name, value, note] of rows) {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = name;
    const td = tr.insertCell();
    td.dataset.metric = key;
    td.textContent = value;
    const small = tr.insertCell();
    small.className = 'note';
    small.textContent = note;
    tr.prepend(th);
  }
  table.hidden = false;
}
