// The scaling study as markdown: one table and findings computed from its rows (how step time
// grows with counted FLOPs, and whether ERTACache's measured speedup tracks its ideal).

import type { ScalingResult, ScalingRow } from './scaling.ts';

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : '–');
const gflop = (flops: number) => flops / 1e9;
/** GFLOP/s of a full-compute step: counted FLOPs over the median step time. */
const throughput = (r: ScalingRow) => gflop(r.flopsPerStep) / (r.stepMs / 1000);

export interface LogLogFit {
  slope: number; // time ∝ x^slope
  r2: number;
}

/** Least-squares fit of log y on log x; null with fewer than two distinct x. */
export function fitLogLog(xs: number[], ys: number[]): LogLogFit | null {
  const pts = xs.map((x, i) => [Math.log(x), Math.log(ys[i]!)] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (new Set(pts.map(([a]) => a)).size < 2) return null;
  const mx = pts.reduce((s, [a]) => s + a, 0) / pts.length;
  const my = pts.reduce((s, [, b]) => s + b, 0) / pts.length;
  const sxy = pts.reduce((s, [a, b]) => s + (a - mx) * (b - my), 0);
  const sxx = pts.reduce((s, [a]) => s + (a - mx) ** 2, 0);
  const syy = pts.reduce((s, [, b]) => s + (b - my) ** 2, 0);
  return { slope: sxy / sxx, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}

function growthSentence(rows: ScalingRow[]): string | null {
  const byFlops = [...rows].sort((a, b) => a.flopsPerStep - b.flopsPerStep);
  const fit = fitLogLog(rows.map((r) => r.flopsPerStep), rows.map((r) => r.stepMs));
  if (fit === null) return null;
  const lo = byFlops[0]!;
  const hi = byFlops.at(-1)!;
  const params = fitLogLog(rows.map((r) => r.parameters), rows.map((r) => r.stepMs));
  // Why it bends, said only when the throughput ends agree with the slope.
  const why = fit.slope < 0.9 && throughput(lo) < throughput(hi)
    ? ': a fixed per-step cost (graph calls, host copies) weighs most on the smallest variant'
    : fit.slope > 1.1 && throughput(lo) > throughput(hi) ? ': the largest variant computes fewer FLOPs per second' : '';
  const shape = fit.slope < 0.9 ? 'sub-linear' : fit.slope > 1.1 ? 'super-linear' : 'about linear';
  return `Step time grows as FLOPs^${fit.slope.toFixed(2)} over the ${rows.length} variants (log-log fit, R² ${fit.r2.toFixed(2)}`
    + `${params ? `; against parameter count R² ${params.r2.toFixed(2)}` : ''}): `
    + `${fmt(hi.flopsPerStep / lo.flopsPerStep, 1)}× the work (${lo.variant} → ${hi.variant}) costs `
    + `${fmt(hi.stepMs / lo.stepMs, 1)}× the time, and throughput goes from ${fmt(throughput(lo), 1)} to `
    + `${fmt(throughput(hi), 1)} GFLOP/s. That is ${shape} in the work${why}.`;
}

function speedupSentences(rows: ScalingRow[]): string[] {
  const range = (f: (r: ScalingRow) => number, unit = '×') => {
    const [lo, hi] = [fmt(Math.min(...rows.map(f)), 2), fmt(Math.max(...rows.map(f)), 2)];
    return lo === hi ? `${lo}${unit}` : `${lo}–${hi}${unit}`;
  };
  const byFlops = [...rows].sort((a, b) => a.flopsPerStep - b.flopsPerStep);
  const lo = byFlops[0]!;
  const hi = byFlops.at(-1)!;
  const out = [`ERTACache at ${rows[0]!.budget} of ${rows[0]!.steps} steps measures ${range((r) => r.speedup)} against an ideal of `
    + `${range((r) => r.idealSpeedup)}; a reuse step costs ${pct(lo.reuseCost)} of a compute step on the smallest variant `
    + `(${lo.variant}) and ${pct(hi.reuseCost)} on the largest (${hi.variant}).`];
  const below = rows.filter((r) => r.efficiency < 0.9);
  const above = rows.filter((r) => r.efficiency > 1.1);
  const list = (rs: ScalingRow[]) => rs.map((r) => `${r.variant} (${fmt(r.efficiency, 2)})`).join(', ');
  if (below.length + above.length === 0) {
    out.push(`The measured speedup stays within 10 % of the ideal on every variant (measured/ideal ${range((r) => r.efficiency, '')}).`);
  }
  if (below.length > 0) out.push(`The measured speedup falls below 90 % of the ideal on ${list(below)}.`);
  if (above.length > 0) {
    out.push(`The measured speedup beats the ideal by over 10 % on ${list(above)}: more than skipping the blocks can save, so that is timing noise.`);
  }
  return out;
}

/** The findings paragraph, computed from the rows (empty without rows). */
export function scalingFindings(rows: ScalingRow[]): string[] {
  if (rows.length === 0) return [];
  const growth = growthSentence(rows);
  return [...(growth ? [growth] : []), ...speedupSentences(rows)];
}

function tableRow(r: ScalingRow): string {
  return `| ${r.variant} | ${r.dim} | ${r.depth} | ${r.tokens} (${r.size} px / ${r.patch}) | ${fmt(r.parameters / 1e6, 2)} | ${fmt(gflop(r.flopsPerStep), 3)} | `
    + `${fmt(r.stepMs, 1)} | ${fmt(throughput(r), 1)} | ${fmt(r.computedSteps, 0)} / ${r.steps} | ${fmt(r.speedup, 2)}× | `
    + `${fmt(r.idealSpeedup, 2)}× | ${fmt(r.efficiency, 2)} | ${pct(r.reuseCost)} | ${fmt(r.calibrationMs / 1000, 1)} |`;
}

export function scalingMarkdown(res: ScalingResult): string {
  const title = '## Scaling: random-weight DiTs';
  if (res.skipped) return `${title}\n\nNot measured: ${res.skipped}\n`;
  return [title, '',
    `Random-weight DiTs of the shipped model's architecture (tools/export.py --random, 4 heads), on onnxruntime-node with `
    + `${res.threads} intra-op thread${res.threads === 1 ? '' : 's'}. Step time: median full-compute step; GFLOP/step counts `
    + `both CFG rows (tools/flops.py). ERTACache runs a plan calibrated on that variant (1 seed × 1 label), timed `
    + `interleaved against none, median of ${res.repeats} pairs; random weights make the plan meaningless for quality, `
    + 'not for cost.', '',
    '| variant | dim | depth | tokens (image / patch) | params (M) | GFLOP/step | step ms | GFLOP/s | computed | speedup | ideal | measured/ideal | reuse cost | calibration s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...res.rows.map(tableRow), '',
    ...(res.rows.length ? [scalingFindings(res.rows).join(' '), ''] : []),
  ].join('\n');
}
