// The families bench (issue 13 item 4): per imported family (tools/families, medium size made on
// demand), what a step costs, what a reused step costs relative to it, and ERTACache's measured
// speedup against the ideal one that reuse cost allows, in Node and in Chromium WASM. Pure parts
// here (the timed requests, the rows, the table; no Node import: the bench page uses them);
// src/cli/bench-families.ts runs them, src/cli/families-args.ts parses its flags.

import type { SpeedRow } from './speed.ts';

export const FAMILIES = ['dit', 'pixart', 'sd3', 'flux', 'wan'] as const;
export type Family = (typeof FAMILIES)[number];

/** Prompts of the timed text-model runs (the models are random-weight: only the cost matters). */
export const BENCH_PROMPTS: readonly string[] = ['a red apple', 'a small green tree', 'a blue fish with a hat', 'an orange cat'];

/** The conditioning of timed run k: seeds from 2000 (never calibration or evaluation seeds). */
export function timedRequest(k: number, conditioning: 'class' | 'text', classes: number): { seed: number; label?: number; prompt?: string } {
  return conditioning === 'text'
    ? { seed: 2000 + k, prompt: BENCH_PROMPTS[k % BENCH_PROMPTS.length]! }
    : { seed: 2000 + k, label: k % Math.max(1, Math.min(classes, 10)) };
}

export interface FamilyRow {
  family: Family;
  size: string;
  engine: 'node' | 'chromium-wasm';
  /** Threads of the execution provider (Node intra-op; WASM: what the worker reports). */
  threads: number;
  steps: number;
  budget: number;
  params: number | null;
  /** Median ms of one computed step (a full-compute run's steps, and ERTACache's computed ones). */
  stepMs: number;
  /** Median ms of one reused step. */
  reuseMs: number;
  speed: SpeedRow;
}

export interface FamiliesResult {
  date: string;
  command: string;
  machine: string;
  rows: FamilyRow[];
  /** Per family: how long export, import and calibration took (null: reused from an earlier run). */
  prepare: { family: Family; exportMs: number | null; importMs: number | null; calibrateMs: number | null; reuse: number[] }[];
  skipped: string[];
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

export function familiesMarkdown(r: FamiliesResult): string {
  const lines = [
    `# Families bench (${r.date})`,
    '',
    `\`${r.command}\` on ${r.machine}. Medians of interleaved none/ERTACache pairs after a warm-up pair;`,
    'reuse cost = median reused-step ms / median computed-step ms within the ERTACache runs;',
    'ideal = T / (computed + reused × reuse cost); measured = median full-compute ms / median ERTACache ms.',
    '',
    '| family | engine | threads | steps | computed | step ms | reuse ms | reuse cost | full ms | ertacache ms | measured | ideal | measured / ideal |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.rows) {
    const s = x.speed;
    lines.push(`| ${x.family}-${x.size} | ${x.engine} | ${x.threads} | ${x.steps} | ${s.computedSteps} | ${f1(x.stepMs)} | ${f1(x.reuseMs)} | `
      + `${f2(s.reuseCost)} | ${Math.round(s.msNone)} | ${Math.round(s.msPolicy)} | ${f2(s.speedup)}× | ${f2(s.idealSpeedup)}× | ${Math.round(s.efficiency * 100)} % |`);
  }
  if (r.prepare.length > 0) {
    lines.push('', '| family | export s | import s | calibrate s | reuse set S |', '|---|---|---|---|---|');
    const sec = (ms: number | null) => (ms === null ? 'cached' : (ms / 1000).toFixed(0));
    for (const p of r.prepare) lines.push(`| ${p.family} | ${sec(p.exportMs)} | ${sec(p.importMs)} | ${sec(p.calibrateMs)} | [${p.reuse.join(', ')}] |`);
  }
  if (r.skipped.length > 0) lines.push('', ...r.skipped.map((s) => `- skipped: ${s}`));
  return `${lines.join('\n')}\n`;
}
