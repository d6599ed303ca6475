// The families bench (issue 13 item 4): per imported family (tools/families, medium size made on
// demand), what a step costs, what a reused step costs relative to it, and ERTACache's measured
// speedup against the ideal one that reuse cost allows, in Node and in Chromium WASM. Pure parts
// here (the timed requests, the rows, the table); src/cli/bench-families.ts runs them.

import { parseArgs } from 'node:util';
import type { SpeedRow } from './speed.ts';

export const FAMILIES = ['dit', 'pixart', 'sd3', 'flux'] as const;
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

export interface FamiliesOptions {
  families: Family[];
  size: 'tiny' | 'medium';
  steps: number;
  budget: number;
  repeats: number;
  threads: number;
  node: boolean;
  browser: boolean;
  out: string;
}

/** `npm run bench:families` flags (see src/cli/bench-families.ts); throws with the flag's name. */
export function parseFamiliesArgs(argv: string[]): FamiliesOptions {
  const { values: v } = parseArgs({
    args: argv, options: {
      families: { type: 'string' }, size: { type: 'string' }, steps: { type: 'string' }, budget: { type: 'string' },
      repeats: { type: 'string' }, threads: { type: 'string' }, 'no-browser': { type: 'boolean' }, 'no-node': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const families = (v.families?.split(',') ?? [...FAMILIES]) as Family[];
  const bad = families.filter((f) => !FAMILIES.includes(f));
  if (bad.length > 0) throw new Error(`--families: unknown ${bad.join(', ')} (use ${FAMILIES.join(',')})`);
  const size = (v.size ?? 'medium') as FamiliesOptions['size'];
  if (size !== 'tiny' && size !== 'medium') throw new Error('--size: tiny or medium');
  const int = (flag: string, s: string | undefined, d: number, min: number) => {
    const n = s === undefined ? d : Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer ≥ ${min}, got ${s}`);
    return n;
  };
  const steps = int('steps', v.steps, 20, 2);
  const budget = int('budget', v.budget, Math.ceil(steps / 2), 2);
  if (budget > steps) throw new Error(`--budget ${budget} is more than --steps ${steps}`);
  return {
    families, size, steps, budget, repeats: int('repeats', v.repeats, 3, 1), threads: int('threads', v.threads, 1, 1),
    node: !v['no-node'], browser: !v['no-browser'], out: v.out ?? 'bench/families',
  };
}
