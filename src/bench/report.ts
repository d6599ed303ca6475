// Bench reports: the machine-readable shape (results.json) and the markdown for people.

import { bestPeer, ertacacheVerdicts, headlineBudget, type PhiSummary } from './analysis.ts';
import type { BrowserBenchResult } from './browser/page.ts';
import type { FidelityRow } from './fidelity.ts';
import type { OverheadResult } from './overhead.ts';
import type { SpeedRow } from './speed.ts';
import { scalingMarkdown, type ScalingResult } from './scaling.ts';

/** One row of the combined report (issue 6's JSON contract). */
export interface BenchRow {
  policy: string;
  provider: string;
  steps: number;
  budget: number | null;
  computedSteps: number;
  speedup: number | null;
  idealSpeedup: number | null;
  /** 95 % interval of speedup / idealSpeedup from the timed pairs (SpeedRow.efficiencyCi); absent: too few pairs. */
  efficiencyCi?: [number, number] | null;
  psnr: number;
  ssim: number;
  classAccuracy: number | null;
  fd: number | null;
}

export interface BenchReport {
  rows: BenchRow[];
  overhead: OverheadResult | null;
  /** The overhead on the bench's model and on every shipped model (bench-args SHIPPED_DENOISERS). */
  overheads?: OverheadResult[];
  /** Step time and ERTACache speedup on random-weight DiTs (null: not asked for). */
  scaling: ScalingResult | null;
  /** The Chromium runs (null: --no-browser). */
  browser: { results: BrowserBenchResult[]; skipped: string | null } | null;
  /** φ of each budget's ertacache plan, for the analysis. */
  phi: PhiSummary[];
  /** onnxruntime-node intra-op threads of the timed runs. */
  threads: number;
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

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

/** measured/ideal with its 95 % interval when there is one: `0.98 (0.95–1.01)`. */
const effCell = (eff: number | null, ci: readonly [number, number] | null | undefined) =>
  (ci && eff !== null ? `${fmt(eff, 2)} (${fmt(ci[0], 2)}–${fmt(ci[1], 2)})` : fmt(eff, 2));

function row(r: BenchRow, steps: number): string {
  return `| ${r.policy} | ${fmt(r.computedSteps, 1)} / ${steps} | ${fmt(r.speedup, 2)}× | ${fmt(r.idealSpeedup, 2)}× | ` +
    `${r.budget === null ? fmt(ratio(r.speedup, r.idealSpeedup), 2) : effCell(ratio(r.speedup, r.idealSpeedup), r.efficiencyCi)} | ` +
    `${fmt(r.psnr, 2)} | ${fmt(r.ssim, 4)} | ${pct(r.classAccuracy)} | ${fmt(r.fd, 2)} |`;
}

/** One table per budget; the full-compute reference heads each. */
export function rowsMarkdown(rows: BenchRow[], steps: number): string {
  const ref = rows.find((r) => r.budget === null);
  const budgets = [...new Set(rows.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const head = '| policy | computed steps | speedup | ideal | measured/ideal | PSNR (dB) | SSIM | class acc. | FD |\n|---|---|---|---|---|---|---|---|---|';
  return budgets.map((b) => [`### Budget ${b} of ${steps} computed steps`, '', head,
    ...(ref ? [row(ref, steps)] : []), ...rows.filter((r) => r.budget === b).map((r) => row(r, steps))].join('\n')).join('\n\n');
}

/** The README's headline: ertacache at budget 25 (or the middle budget) and the best peer there. */
export function headline(rows: BenchRow[]): string {
  const node = rows.filter((r) => r.provider === 'onnxruntime-node');
  const budgets = [...new Set(node.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const b = headlineBudget(budgets);
  const erta = node.find((r) => r.budget === b && r.policy === 'ertacache');
  const peer = b === undefined ? undefined : bestPeer(node, b);
  if (!erta || !peer) return '';
  const one = (r: BenchRow) => `**${r.policy}** ${fmt(r.speedup, 2)}× (ideal ${fmt(r.idealSpeedup, 2)}×), ` +
    `${fmt(r.psnr, 2)} dB PSNR, SSIM ${fmt(r.ssim, 4)}`;
  return `At budget ${b} of ${erta.steps} computed steps (onnxruntime-node): ${one(erta)}; the best peer, ${one(peer)}.`;
}

/** A run's time outside its steps (set-up, round trip, final image), which caching cannot shrink. */
const fixedCell = (r: { fixedMsNone?: number; fixedMsPolicy?: number }) =>
  (r.fixedMsNone === undefined || r.fixedMsPolicy === undefined ? '–' : `${fmt(r.fixedMsNone, 1)} / ${fmt(r.fixedMsPolicy, 1)}`);

function browserMarkdown(b: NonNullable<BenchReport['browser']>): string {
  if (b.skipped) return `## Speed in Chromium\n\nNot measured: ${b.skipped}.\n`;
  const parts = ['## Speed in Chromium', '',
    'Debian\'s Chromium driven by Playwright, the page timing the real worker (`generate()` to final image, ' +
    'Comlink and read-back included), interleaved A/B against `none`, median; PSNR/SSIM on the timed pairs only. ' +
    '**WebGPU runs on SwiftShader, a CPU rasteriser: its absolute times mean nothing**, and its ratios only say ' +
    'that skipped steps are skipped on that path too.'];
  for (const res of b.results) {
    const p = res.provider;
    parts.push('', `### ${p.used === 'webgpu' ? 'WebGPU (SwiftShader)' : 'WASM'}, ${res.steps} steps`, '',
      `${p.reason}; ${p.threads} WASM thread(s), cross-origin isolated: ${p.crossOriginIsolated}. ` +
      `Full compute: ${fmt(res.msNone, 0)} ms per image (median).`, '',
      '| policy | budget | computed steps | speedup | ideal | measured/ideal | reuse cost | outside the steps (ms, none / policy) | PSNR (dB) | SSIM | pairs |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...res.rows.map((r) => `| ${r.policy} | ${r.budget} | ${fmt(r.computedSteps, 1)} / ${res.steps} | ${fmt(r.speedup, 2)}× | ` +
        `${fmt(r.idealSpeedup, 2)}× | ${effCell(r.efficiency, r.efficiencyCi)} | ${fmt(r.reuseCost, 3)} | ${fixedCell(r)} | ${fmt(r.psnr, 2)} | ${fmt(r.ssim, 4)} | ${r.pairs} |`));
  }
  return `${parts.join('\n')}\n`;
}

/** A timed row as the speed criterion reads it. */
export interface EfficiencyRow {
  policy: string;
  budget: number | null;
  efficiency: number;
  efficiencyCi?: readonly [number, number] | null;
  pairs?: number;
}

/**
 * Issue 10's speed criterion on one set of timed rows: every policy's measured speedup within 5 %
 * of its ideal. Says how many rows are, their range, and each row outside with its 95 % interval,
 * so that a row outside by noise (its interval reaches into 0.95–1.05) reads apart from one that is
 * outside beyond the noise (its whole interval out).
 */
export function speedVerdict(label: string, rows: readonly EfficiencyRow[], tolerance = 0.05): string {
  if (rows.length === 0) return '';
  const effs = rows.map((r) => r.efficiency);
  const lo = 1 - tolerance;
  const hi = 1 + tolerance;
  const outside = rows.filter((r) => r.efficiency < lo || r.efficiency > hi);
  const beyond = rows.filter((r) => r.efficiencyCi && (r.efficiencyCi[1] < lo || r.efficiencyCi[0] > hi));
  const pairs = [...new Set(rows.map((r) => r.pairs).filter((p): p is number => p !== undefined))];
  const name = (r: EfficiencyRow) => `${r.policy}${r.budget === null ? '' : ` at ${r.budget}`}`;
  const ci = (r: EfficiencyRow) => (r.efficiencyCi ? ` (95 % interval ${fmt(r.efficiencyCi[0], 3)}–${fmt(r.efficiencyCi[1], 3)})` : '');
  const parts = [`**${label}:** ${rows.length - outside.length} of ${rows.length} rows within ${tolerance * 100} % of the ideal ` +
    `(measured/ideal ${fmt(Math.min(...effs), 3)}–${fmt(Math.max(...effs), 3)}` +
    `${pairs.length ? `; ${pairs.join('/')} timed pairs a row` : ''}).`];
  if (outside.length > 0) parts.push(`Outside: ${outside.map((r) => `${name(r)} ${fmt(r.efficiency, 3)}${ci(r)}`).join('; ')}.`);
  if (rows.every((r) => r.efficiencyCi)) {
    parts.push(beyond.length === 0
      ? `Every row's interval reaches into ${fmt(lo, 2)}–${fmt(hi, 2)}.`
      : `Outside beyond the noise (the whole interval out): ${beyond.map(name).join(', ')}.`);
  }
  return parts.join(' ');
}

const pctOrDash = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);

/** The overhead table: one row per model, wall clock and process CPU time. */
export function overheadMarkdown(rows: readonly OverheadResult[]): string {
  return 'Runtime overhead: the no-cache sampler against a bare loop of session.run calls on the same graphs ' +
    '(CFG batch of 2, the Euler step inline; interleaved pairs; runtime and bare ms are medians, the overhead is the median of the pairs\' ratios). CPU time is the process\'s own ' +
    '(user + system, every thread), which another process\'s load does not inflate.\n\n' +
    '| model | steps | pairs | runtime ms | bare ms | overhead (wall) | runtime CPU ms | bare CPU ms | overhead (CPU) |\n' +
    '|---|---|---|---|---|---|---|---|---|\n' +
    rows.map((o) => `| ${o.model}${o.testModel ? ' (test model)' : ''} | ${o.steps} | ${o.pairs} | ${fmt(o.msRuntime, 2)} | ${fmt(o.msBare, 2)} | ${pctOrDash(o.overhead)} | ` +
      `${o.cpuMsRuntime === null ? '–' : fmt(o.cpuMsRuntime, 2)} | ${o.cpuMsBare === null ? '–' : fmt(o.cpuMsBare, 2)} | ${pctOrDash(o.cpuOverhead)} |`).join('\n') + '\n' +
    overheadVerdict(rows);
}

/** The ≤ 3 % goal (issue 11) on the shipped models' wall-clock overhead; test models are reported, not judged. */
export function overheadVerdict(rows: readonly OverheadResult[]): string {
  const shipped = rows.filter((o) => !o.testModel);
  if (shipped.length === 0) return '';
  const over = shipped.filter((o) => o.overhead > 0.03);
  return over.length === 0
    ? `\nEvery shipped model is within 3 % (largest: ${pctOrDash(Math.max(...shipped.map((o) => o.overhead)))}).\n`
    : `\nOver 3 %: ${over.map((o) => `${o.model} (${pctOrDash(o.overhead)})`).join(', ')}.\n`;
}

export function benchMarkdown(r: BenchReport): string {
  const o = r.overhead;
  const reuse = r.speed.map((s) => s.reuseCost).filter((c) => c > 0);
  const overhead = r.overheads?.length ? `${overheadMarkdown(r.overheads)}\n`
    : o ? `Runtime overhead (no-cache sampler vs a bare loop of session.run calls on the same graphs): ` +
      `${fmt(o.msRuntime, 0)} ms vs ${fmt(o.msBare, 0)} ms per image, ${(o.overhead * 100).toFixed(1)} %.\n`
    : '';
  const node = r.rows.filter((x) => x.provider === 'onnxruntime-node');
  const verdicts = ertacacheVerdicts(node, r.phi);
  const speedLines = [
    speedVerdict(`onnxruntime-node, ${r.steps} steps`, r.speed.map((x) => ({ ...x, pairs: x.pairMs?.length }))),
    ...(r.browser && !r.browser.skipped ? r.browser.results.map((res) => speedVerdict(
      `Chromium ${res.provider.used === 'webgpu' ? 'WebGPU (SwiftShader, not judged)' : 'WASM'}, ${res.steps} steps`, res.rows)) : []),
  ].filter((x) => x !== '');
  return `# Benchmark: speed and fidelity of every policy\n\n` +
    `Made by \`${r.command}\` on ${r.date.slice(0, 10)}: ${r.model} (${r.steps} steps, guidance ${r.guidance}), ` +
    `${r.cases} samples (10 classes, seeds from 1000). Fidelity and the first speed column: onnxruntime-node on this machine's CPU.\n` +
    `PSNR/SSIM against the full-compute image of the same seed; class accuracy and Fréchet distance (vs 1,000 held-out ` +
    `digits) under the evaluation classifier (${(r.classifierHeldOutAccuracy * 100).toFixed(1)} % on held-out digits). ` +
    `Speedup: wall clock of \`none\` / the policy, interleaved A/B, the median over the timed pairs of each pair's ratio ` +
    `(onnxruntime-node, ${r.threads} intra-op thread${r.threads === 1 ? '' : 's'}); ideal = T / (computed + reused × reuse cost).\n\n` +
    `${headline(r.rows)}\n\n` +
    `${overhead}Reuse-step cost relative to a compute step: ${reuse.length ? `${fmt(Math.min(...reuse), 3)}–${fmt(Math.max(...reuse), 3)}` : '–'}.\n\n` +
    `![quality vs speedup](chart.svg)\n\n${rowsMarkdown(node, r.steps)}\n\n` +
    (speedLines.length ? `## Speed against the ideal\n\nEvery policy's wall-clock speedup against its ideal T / (computed + reused × reuse cost), ` +
      `each row with a distribution-free 95 % interval from its pairs' spread (one run varies by several % on a shared CPU).\n\n` +
      `${speedLines.join('\n\n')}\n\n` : '') +
    (verdicts.length ? `## Where ERTACache wins, and where it does not\n\n${verdicts.join('\n\n')}\n\n` : '') +
    (r.browser ? `${browserMarkdown(r.browser)}\n` : '') +
    (r.scaling ? `${scalingMarkdown(r.scaling)}\n` : '');
}
