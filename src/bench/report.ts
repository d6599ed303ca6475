// Bench reports for people: markdown tables from the machine-readable rows.

import type { FidelityRow } from './fidelity.ts';

const fmt = (v: number | null, digits: number) => (v === null ? '–' : Number.isFinite(v) ? v.toFixed(digits) : '∞');

/** One table per budget, policies in the order given; the reference row heads each table. */
export function fidelityMarkdown(rows: FidelityRow[], steps: number): string {
  const ref = rows.find((r) => r.budget === null);
  const budgets = [...new Set(rows.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const head = '| policy | computed steps | PSNR (dB) | SSIM | class acc. | FD |\n|---|---|---|---|---|---|';
  const line = (r: FidelityRow) =>
    `| ${r.policy} | ${fmt(r.computedSteps, 1)} / ${steps} | ${fmt(r.psnr, 2)} | ${fmt(r.ssim, 4)} | ` +
    `${r.classAccuracy === null ? '–' : `${(r.classAccuracy * 100).toFixed(0)} %`} | ${fmt(r.fd, 2)} |`;
  return budgets.map((b) => [`### Budget ${b} of ${steps} computed steps (${(steps / b).toFixed(2)}× fewer passes)`, '',
    head, ...(ref ? [line(ref)] : []), ...rows.filter((r) => r.budget === b).map(line)].join('\n')).join('\n\n');
}
