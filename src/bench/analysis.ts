// "Where each method wins, and why" (issues 6 and 10), computed from the report's own rows: per
// budget, ertacache against the best non-forecasting peer and ertacache-forecast against the best
// of all peers (TaylorSeer included), against the ≥ 2 dB targets, and the ablation ladder
// uniform → schedule → +φ → +forecast → +rectification that says which component gained the dB.

import type { BenchRow } from './report.ts';

/** φ of an ertacache plan over its reused steps (φ = 1 on computed steps carries no information). */
export interface PhiSummary {
  budget: number;
  reusedSteps: number;
  meanPhi: number;
  /** Reused steps with φ < 0.05: their step length shrinks to ~0 (see ertacache.md (b)). */
  nearZero: number;
  /** The paper's formula on the same steps (the plan's diagnostic), when recorded. */
  meanPhiPaper?: number;
  nearZeroPaper?: number;
  timeRule?: string;
  /** Largest Δ_i / Δnom_i of the plan's time warp: with the searched φ, and with the paper's φ. */
  maxStep?: number;
  maxStepPaper?: number;
}

/** Peers that reuse without forecasting: the ones `ertacache` must beat (shared/design/baselines.md). */
export const CACHE_PEERS: readonly string[] = ['uniform', 'teacache', 'magcache', 'easycache'];
/** Every peer a user would pick instead; `ertacache-forecast` must beat these, TaylorSeer included. */
export const PEERS: readonly string[] = [...CACHE_PEERS, 'taylorseer', 'taylorseer-2'];
/** The acceptance margin of issue 10, in dB. */
export const TARGET_DB = 2;

/** The budget a headline quotes: 25 (2×) when measured, else the middle one. */
export function headlineBudget(budgets: readonly number[]): number | undefined {
  return budgets.includes(25) ? 25 : budgets[Math.floor(budgets.length / 2)];
}

/** The peer with the best PSNR at a budget among `peers` (default all): the one to beat. */
export function bestPeer<R extends { policy: string; budget: number | null; psnr: number }>(rows: readonly R[],
  budget: number, peers: readonly string[] = PEERS): R | undefined {
  return rows.filter((r) => r.budget === budget && peers.includes(r.policy)).sort((x, y) => y.psnr - x.psnr)[0];
}
const db = (v: number) => `${v.toFixed(2)} dB`;
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)} dB`;

/** "X dB against P's Y (±d): the ≥ 2 dB target is met / not met". */
function versus(name: string, mine: BenchRow, best: BenchRow): string {
  const margin = mine.psnr - best.psnr;
  const verdict = margin >= TARGET_DB ? `the ≥ ${TARGET_DB} dB target is met`
    : margin >= 0 ? `it wins, but the ≥ ${TARGET_DB} dB target is **not met**` : `it **loses**; the target is not met`;
  return `${name} ${db(mine.psnr)} against the best ${name === 'ertacache' ? 'non-forecasting ' : ''}peer, ` +
    `${best.policy}, at ${db(best.psnr)} (${signed(margin)}): ${verdict}.`;
}

/** One paragraph per budget; rows are one provider's (the Node fidelity rows). */
export function ertacacheVerdicts(rows: BenchRow[], phi: PhiSummary[] = []): string[] {
  const budgets = [...new Set(rows.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const out: string[] = [];
  for (const b of budgets) {
    const at = (p: string) => rows.find((r) => r.budget === b && r.policy === p);
    const erta = at('ertacache');
    const forecast = at('ertacache-forecast');
    const cacheBest = bestPeer(rows, b, CACHE_PEERS);
    const allBest = bestPeer(rows, b);
    if ((!erta || !cacheBest) && (!forecast || !allBest)) continue;
    const parts = [`**Budget ${b}.**`];
    if (erta && cacheBest) parts.push(versus('ertacache', erta, cacheBest));
    if (forecast && allBest) parts.push(versus('ertacache-forecast', forecast, allBest));
    const ladder: [string, BenchRow | undefined][] = [
      ['uniform', at('uniform')], ['the calibrated schedule', at('ertacache-schedule')],
      ['+ calibrated φ', at('ertacache-schedule+dt')], ['+ forecast', forecast], ['+ rectification', at('ertacache-forecast+rect')],
    ];
    const steps: string[] = [];
    let prev: BenchRow | undefined;
    for (const [name, r] of ladder) {
      if (!r) continue;
      steps.push(prev ? `${name} ${signed(r.psnr - prev.psnr)}` : `${name} ${db(r.psnr)}`);
      prev = r;
    }
    if (steps.length > 1) parts.push(`Ablation ladder: ${steps.join(' → ')}.`);
    const paper = at('ertacache-paper');
    const dt = at('ertacache-schedule+dt');
    const p = phi.find((s) => s.budget === b);
    if (paper && dt) {
      let note = `The paper's φ formula gets ${db(paper.psnr)}, the searched φ ${db(dt.psnr)} (${signed(dt.psnr - paper.psnr)})`;
      if (p?.meanPhiPaper !== undefined) {
        note += `: the formula is below 0.05 on ${p.nearZeroPaper} of ${p.reusedSteps} reused steps (mean ` +
          `${p.meanPhiPaper.toFixed(2)}), the search chose mean ${p.meanPhi.toFixed(2)} with the ${p.timeRule ?? 'proportional'} time rule`;
      }
      if (p?.maxStep !== undefined && p.maxStepPaper !== undefined) {
        note += `; the largest step is ${p.maxStep.toFixed(1)}× its nominal size (the paper's φ: ${p.maxStepPaper.toFixed(1)}×)`;
      }
      parts.push(`${note}.`);
    }
    out.push(parts.join(' '));
  }
  return out;
}

/** φ over the reused steps of an ertacache plan (`reuse`: the reused step indices). */
export function summarisePhi(budget: number, phi: number[], reuse: number[],
  paper?: { phiPaper: number[]; timeRule: string }, maxSteps?: { searched: number; paper: number }): PhiSummary {
  const over = (v: number[]) => reuse.map((i) => v[i]!);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 1);
  const reused = over(phi);
  const s: PhiSummary = {
    budget, reusedSteps: reused.length, meanPhi: mean(reused), nearZero: reused.filter((v) => v < 0.05).length,
  };
  if (paper) {
    const p = over(paper.phiPaper);
    Object.assign(s, { meanPhiPaper: mean(p), nearZeroPaper: p.filter((v) => v < 0.05).length, timeRule: paper.timeRule });
  }
  if (maxSteps) Object.assign(s, { maxStep: maxSteps.searched, maxStepPaper: maxSteps.paper });
  return s;
}
