// The Node speed table of `bench`: each row timed in a Node process of its own
// (bench-speed-child.ts), holding only the timed model.
//
// Why a process per row: in the bench's own process, what a row measured depended on when it ran.
// After the fidelity phase V8 shrank the heap ("Mark-Compact (reduce)", 142 → 62 MB live) and then
// ran a mark-compact every ~0.7 s (~40 in a row of 130 runs, `node --trace-gc`); every row timed
// after that point lost 2–5 % against its ideal, and ertacache-forecast at 17 of 50 measured 0.82,
// whatever the policy. The same policies timed in a fresh process measured 0.99–1.00. Forcing a
// full GC before every run made it worse (every row ~0.95: each run then paid to regrow the heap).

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SpeedRow } from '../bench/speed.ts';

/** One speed row to time: a case of policiesAt(model, steps, budget, variants), by its name. */
export interface SpeedJob {
  model: string;
  steps: number;
  budget: number;
  policy: string;
  /** policiesAt's `variants` (the hidden-space and φ-lsq plans), so that every name resolves. */
  variants: boolean;
  threads: number;
  repeats: number;
}

/** What the child sends back over IPC. */
export type SpeedChildMessage = { log: string } | { row: SpeedRow } | { error: string };

const CHILD = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './bench-speed-child.ts' : './bench-speed-child.js', import.meta.url));

/** Times one row in a fresh Node process; rejects with the child's own error if it fails. */
export function timeRowApart(job: SpeedJob, log: (m: string) => void = () => {}): Promise<SpeedRow> {
  return new Promise((resolve, reject) => {
    // the bench runs from source (tsx); the child needs the same loader
    const child = fork(CHILD, [JSON.stringify(job)], {
      execArgv: CHILD.endsWith('.ts') ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let row: SpeedRow | null = null;
    let error: string | null = null;
    child.on('message', (m: SpeedChildMessage) => {
      if ('log' in m) log(m.log);
      else if ('row' in m) row = m.row;
      else error = m.error;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (row !== null && code === 0) resolve(row);
      else reject(new Error(error ?? `the speed run of ${job.policy} at budget ${job.budget} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

/** The jobs of the bench's speed table: one per timed policy (policiesAt's cases always carry a budget). */
export function speedJobs(policies: { policy: string; budget: number | null }[], o: Omit<SpeedJob, 'policy' | 'budget'>): SpeedJob[] {
  return policies.map((p) => ({ ...o, policy: p.policy, budget: p.budget! }));
}

/** Every job's row, one fresh process after another (never two at once: they would share the CPU). */
export async function timeRowsApart(jobs: SpeedJob[], log: (m: string) => void = () => {}): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  for (const j of jobs) rows.push(await timeRowApart(j, log));
  return rows;
}
