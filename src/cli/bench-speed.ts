// The Node speed table of `bench`: each row timed in a Node process of its own
// (bench-speed-child.ts), holding only the timed model.
//
// Why a process per row: in the bench's own process, what a row measured depended on when it ran.
// After the fidelity phase V8 shrank the heap ("Mark-Compact (reduce)", 142 → 62 MB live) and then
// ran a mark-compact every ~0.7 s (~40 in a row of 130 runs, `node --trace-gc`); every row timed
// after that point lost 2–5 % against its ideal, and ertacache-forecast at 17 of 50 measured 0.82,
// whatever the policy. The same policies timed in a fresh process measured 0.99–1.00. Forcing a
// full GC before every run made it worse (every row ~0.95: each run then paid to regrow the heap).

import type { SpeedRow } from '../bench/speed.ts';
import { runApart, siblingUrl } from '../node/apart.ts';

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

/** Times one row in a fresh Node process (bench-speed-child.ts); rejects with the child's own error if it fails. */
export function timeRowApart(job: SpeedJob, log: (m: string) => void = () => {}): Promise<SpeedRow> {
  return runApart<SpeedJob, SpeedRow>(siblingUrl(import.meta.url, 'bench-speed-child'), job,
    `the speed run of ${job.policy} at budget ${job.budget}`, log);
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
