/// <reference types="vite/client" />
// The shipped benchmark results (bench/results.json, written by `npm run bench -- --json`),
// bundled into the demo at build time. The glob matches nothing until the benchmark has been
// run and committed, which is a normal state: the chart then says so instead of failing.

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
  | { state: 'missing' }
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; rows: BenchRow[] };

const modules = import.meta.glob('../../bench/results.json', { eager: true, import: 'default' });

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
  const rows = (json as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) return { state: 'invalid', reason: 'bench/results.json has no "rows" array' };
  const parsed = rows.map(parseBenchRow).filter((r): r is BenchRow => r !== null);
  if (parsed.length === 0) return { state: 'invalid', reason: 'bench/results.json has no usable rows' };
  return { state: 'ok', rows: parsed };
}

export function loadBenchResults(): BenchLoad {
  const json = Object.values(modules)[0];
  return json === undefined ? { state: 'missing' } : parseBenchResults(json);
}
