// "Where ERTACache does not win, and why" (issue 6), computed from the report's own rows: per
// budget, ertacache against the best peer, and the ablation chain uniform → schedule → +dt →
// full that says which of the three components gained or lost the dB.

import type { BenchRow } from './report.ts';

/** φ of an ertacache plan over its reused steps (φ = 1 on computed steps carries no information). */
export interface PhiSummary {
  budget: number;
  reusedSteps: number;
  meanPhi: number;
  /** Reused steps with φ < 0.05: their step length shrinks to ~0 (see ertacache.md (b)). */
  nearZero: number;
}

/** The policies a user would pick instead of ERTACache (shared/design/baselines.md). */
export const PEERS: readonly string[] = ['uniform', 'teacache', 'magcache'];

/** The budget a headline quotes: 25 (2×) when measured, else the middle one. */
export function headlineBudget(budgets: readonly number[]): number | undefined {
  return budgets.includes(25) ? 25 : budgets[Math.floor(budgets.length / 2)];
}

/** The peer with the best PSNR at a budget: the one ERTACache has to beat. */
export function bestPeer<R extends { policy: string; budget: number | null; psnr: number }>(rows: readonly R[],
  budget: number): R | undefined {
  return rows.filter((r) => r.budget === budget && PEERS.includes(r.policy)).sort((x, y) => y.psnr - x.psnr)[0];
}
const db = (v: number) => `${v.toFixed(2)} dB`;
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)} dB`;

/** One paragraph per budget; rows are one provider's (the Node fidelity rows). */
export function ertacacheVerdicts(rows: BenchRow[], phi: PhiSummary[] = []): string[] {
  const budgets = [...new Set(rows.filter((r) => r.budget !== null).map((r) => r.budget!))];
  const out: string[] = [];
  for (const b of budgets) {
    const at = (p: string) => rows.find((r) => r.budget === b && r.policy === p);
    const erta = at('ertacache');
    const best = bestPeer(rows, b);
    if (!erta || !best) continue;
    const schedule = at('ertacache-schedule');
    const dt = at('ertacache-schedule+dt');
    const uniform = at('uniform');
    const chain: string[] = [];
    if (uniform && schedule) chain.push(`the calibrated schedule ${signed(schedule.psnr - uniform.psnr)} over uniform`);
    if (schedule && dt) chain.push(`the timestep adjustment ${signed(dt.psnr - schedule.psnr)}`);
    if (dt) chain.push(`rectification ${signed(erta.psnr - dt.psnr)}`);
    const parts = chain.length ? ` Ablation: ${chain.join(', ')}.` : '';
    if (erta.psnr >= best.psnr) {
      out.push(`**Budget ${b}: ertacache wins** with ${db(erta.psnr)} against the best peer, ${best.policy}, at ${db(best.psnr)}.${parts}`);
      continue;
    }
    let why = '';
    const p = phi.find((s) => s.budget === b);
    if (schedule && dt && dt.psnr < schedule.psnr) {
      why = ` The loss is the timestep adjustment: the schedule alone gets ${db(schedule.psnr)}` +
        `${schedule.psnr > best.psnr ? `, more than every peer,` : ''} and adding Δt′ costs ${db(schedule.psnr - dt.psnr)}.`;
      if (p && p.reusedSteps > 0) {
        why += ` The fitted φ is below 0.05 on ${p.nearZero} of ${p.reusedSteps} reused steps (mean ${p.meanPhi.toFixed(2)}),` +
          ` so reused steps barely move the sample and the run is close to a plain ${b}-step Euler sampler; with so few` +
          ` computed steps that coarse grid loses more than reusing the cached velocity does.`;
      }
    } else if (dt && Math.abs(erta.psnr - dt.psnr) < 0.05) {
      why = ` Rectification changes almost nothing here (${signed(erta.psnr - dt.psnr)}), so it cannot close the gap.`;
    }
    out.push(`**Budget ${b}: ertacache does not win.** ${best.policy} gets ${db(best.psnr)}, ertacache ${db(erta.psnr)} ` +
      `(${signed(erta.psnr - best.psnr)}).${why}${parts}`);
  }
  return out;
}

/** φ over the reused steps of an ertacache plan (`reuse`: the reused step indices). */
export function summarisePhi(budget: number, phi: number[], reuse: number[]): PhiSummary {
  const reused = reuse.map((i) => phi[i]!);
  return {
    budget, reusedSteps: reused.length,
    meanPhi: reused.length ? reused.reduce((s, v) => s + v, 0) / reused.length : 1,
    nearZero: reused.filter((v) => v < 0.05).length,
  };
}
