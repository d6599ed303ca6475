/// <reference types="vite/client" />
// The shipped benchmark results (written by `npm run bench -- --json`): bench/results.json (the
// digits) and bench/emoji-dit/results.json (the text-to-emoji model), bundled into the demo at
// build time; the chart shows the one whose `model` is the loaded model. A model with none (or a
// checkout where the bench has not been run) is a normal state: the chart then says so.

import type { BenchRow as ReportRow } from '../bench/report.ts';

/**
 * One row of bench/results.json as the chart reads it: the report's row (src/bench/report.ts)
 * after JSON, which turns an infinite PSNR into null; rows without a speedup are dropped.
 */
export type BenchRow = Omit<ReportRow, 'speedup' | 'psnr' | 'ssim' | 'classAccuracy' | 'fd'> & {
  speedup: number;
  psnr: number | null;
  ssim: number | null;
};

export type BenchLoad =
  | { state: 'missing'; model: string; bundled: string[] } // bundled: the models this build has results for
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; rows: BenchRow[]; model?: string; command?: string };

// Eager globs, so a missing file is an empty match rather than a build error.
const modules = {
  ...import.meta.glob('../../bench/results.json', { eager: true, import: 'default' }),
  ...import.meta.glob('../../bench/emoji-dit/results.json', { eager: true, import: 'default' }),
};

function num(v: unknown): number | null {
  // JSON has no Infinity: a lossless PSNR may arrive as null or as a string.
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === 'Infinity') return Infinity;
  return null;
}

/** Validate one row at the boundary; null for a row the chart cannot place. */
export function parseBenchRow(raw: unknown): BenchRow | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const speedup = num(r.speedup);
  if (typeof r.policy !== 'string' || speedup === null) return null;
  return {
    policy: r.policy,
    provider: typeof r.provider === 'string' ? r.provider : 'unknown',
    steps: num(r.steps) ?? 0,
    budget: num(r.budget),
    computedSteps: num(r.computedSteps) ?? 0,
    speedup,
    idealSpeedup: num(r.idealSpeedup),
    psnr: num(r.psnr),
    ssim: num(r.ssim),
  };
}

export function parseBenchResults(json: unknown): BenchLoad {
  const r = json as { rows?: unknown; model?: unknown; command?: unknown } | null;
  const rows = r?.rows;
  if (!Array.isArray(rows)) return { state: 'invalid', reason: 'bench/results.json has no "rows" array' };
  const parsed = rows.map(parseBenchRow).filter((row): row is BenchRow => row !== null);
  if (parsed.length === 0) return { state: 'invalid', reason: 'bench/results.json has no usable rows' };
  return { state: 'ok', rows: parsed,
    ...(typeof r?.model === 'string' ? { model: r.model } : {}), ...(typeof r?.command === 'string' ? { command: r.command } : {}) };
}

/** The bundled results whose `model` is `model` (the loaded manifest's name). */
export function pickBenchResults(files: readonly unknown[], model: string): BenchLoad {
  const modelOf = (f: unknown) => (f as { model?: unknown } | null)?.model;
  const json = files.find((f) => modelOf(f) === model);
  if (json !== undefined) return parseBenchResults(json);
  return { state: 'missing', model, bundled: files.map(modelOf).filter((m): m is string => typeof m === 'string') };
}

export function loadBenchResults(model: string): BenchLoad {
  return pickBenchResults(Object.values(modules), model);
}
