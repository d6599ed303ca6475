// Bench reports: the machine-readable shape (results.json) and the markdown for people.

import type { FidelityRow } from './fidelity.ts';
import type { OverheadResult } from './overhead.ts';
import type { SpeedRow } from './speed.ts';

/** One row of the combined report (issue 6's JSON contract). */
export interface BenchRow {
  policy: string;
  provider: string;
  steps: number;
  budget: number | null;
  computedSteps: number;
  speedup: number | null;
  idealSpeedup: number | null;
  psnr: number;
  ssim: number;
  classAccuracy: number | null;
  fd: number | null;
}

export interface BenchReport {
  rows: BenchRow[];
  overhead: OverheadResult | null;
  speed: SpeedRow[];
  fidelity: FidelityRow[];
  date: string;
  command: string;
  model: string;
  modelHash: string;
  steps: number;
  guidance: number;
  cases: number;
  classifierHeldOutAccuracy: number;
}

const fmt = (v: number | null, digits: number) => (v === null ? '–' : Number.isFinite(v) ? v.toFixed(digits) : '∞');
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(0)} %`);

function row(r: BenchRow, steps: number): string {
  return `| ${r.policy} | ${fmt(r.computedSteps, 1)} / ${steps} | ${fmt(r.speedup, 2)}× | ${fmt(r.idealSpeedup, 2)}× | ` +
    `${fmt(r.psnr, 2)} | ${fmt(r.ssim, 4)} | ${pct(r.classAccuracy)} | ${fmt(r.fd, 2)} |`;
}

/** One table per budget; the full-compute reference heads each. */
export function rowsMarkdown(rows: BenchRow[], steps: number): string {
  const ref = rows.find((r) => r.budget === null);
  const budgets = [...new Set(rows.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const head = '| policy | computed steps | speedup | ideal | PSNR (dB) | SSIM | class acc. | FD |\n|---|---|---|---|---|---|---|---|';
  return budgets.map((b) => [`### Budget ${b} of ${steps} computed steps`, '', head,
    ...(ref ? [row(ref, steps)] : []), ...rows.filter((r) => r.budget === b).map((r) => row(r, steps))].join('\n')).join('\n\n');
}

export function benchMarkdown(r: BenchReport): string {
  const o = r.overhead;
  const reuse = r.speed.map((s) => s.reuseCost).filter((c) => c > 0);
  const overhead = o
    ? `Runtime overhead (no-cache sampler vs a bare loop of session.run calls on the same graphs): ` +
      `${fmt(o.msRuntime, 0)} ms vs ${fmt(o.msBare, 0)} ms per image, ${(o.overhead * 100).toFixed(1)} %.\n`
    : '';
  return `# Benchmark: speed and fidelity of every policy\n\n` +
    `Made by \`${r.command}\` on ${r.date.slice(0, 10)}: ${r.model} (${r.steps} steps, guidance ${r.guidance}), ` +
    `${r.cases} samples (10 classes, seeds from 1000), onnxruntime-node on this machine's CPU.\n` +
    `PSNR/SSIM against the full-compute image of the same seed; class accuracy and Fréchet distance (vs 1,000 held-out ` +
    `digits) under the evaluation classifier (${(r.classifierHeldOutAccuracy * 100).toFixed(1)} % on held-out digits). ` +
    `Speedup: wall clock of \`none\` / the policy, interleaved A/B, median; ideal = T / (computed + reused × reuse cost).\n\n` +
    `${overhead}Reuse-step cost relative to a compute step: ${reuse.length ? `${fmt(Math.min(...reuse), 3)}–${fmt(Math.max(...reuse), 3)}` : '–'}.\n\n` +
    `![quality vs speedup](chart.svg)\n\n${rowsMarkdown(r.rows, r.steps)}\n`;
}
