// ERTACache (ertacache.md): a static reuse set S from an offline-calibrated plan, so deciding
// needs no read-back. The kinds share one plan and form the ablation ladder:
//   'ertacache-schedule'       S only (reused steps take a full step, proportional time)
//   'ertacache-paper'          S + the paper's φ formula (a diagnostic in the plan): its ablation row
//   'ertacache-schedule+dt'    S + the calibrated φ (direct search) under the calibrated time rule
//   'ertacache'                + the affine rectification where calibration measured it helping
//   'ertacache-forecast'       the forecast's own S_f, φ and time rule; the reused residual is
//                              extrapolated to first order from the last two computed steps in σ,
//                              with the calibrated gain g; rectified where it helped
//   'ertacache-forecast+rect'  the forecast with its rectification always on (the ablation row)

import type { CachePolicy, Rectification, TimeRule } from '../core/types.ts';
import { checkPlanMatches, PlanInvalidError, PlanMismatchError, validatePlan } from './plan.ts';
import type { ErtaCachePlan, RectificationPlan } from './plan.ts';
import { COMPUTE, reuse } from './policy.ts';

export type ErtaCacheVariant = 'ertacache-schedule' | 'ertacache-paper' | 'ertacache-schedule+dt' | 'ertacache'
  | 'ertacache-forecast' | 'ertacache-forecast+rect';

export const ERTACACHE_VARIANTS: readonly ErtaCacheVariant[] = [
  'ertacache-schedule', 'ertacache-paper', 'ertacache-schedule+dt', 'ertacache', 'ertacache-forecast',
  'ertacache-forecast+rect',
];

export interface ErtaCacheOptions {
  plan: ErtaCachePlan;
  /** Which rungs of the ladder to apply. Default 'ertacache'. */
  variant?: ErtaCacheVariant;
  /** The run's step count, to fail at creation rather than at the first step. */
  steps?: number;
}

function rectificationTable(r: RectificationPlan | null): Map<number, Rectification> {
  const table = new Map<number, Rectification>();
  if (r === null) return table;
  for (const s of r.steps) {
    table.set(s.step, { space: r.space, a: Float32Array.from(s.a), b: Float32Array.from(s.b) });
  }
  return table;
}

/** What one variant reads from the plan. */
interface Rung {
  reuse: number[];
  phi: readonly number[] | null; // null: full steps
  timeRule: TimeRule;
  rect: RectificationPlan | null;
  gain: number | null; // null: stale reuse
}

function rungOf(plan: ErtaCachePlan, variant: ErtaCacheVariant): Rung {
  const base = { reuse: plan.reuse, timeRule: plan.timeRule, gain: null };
  switch (variant) {
    case 'ertacache-schedule': return { ...base, phi: null, timeRule: 'proportional', rect: null };
    case 'ertacache-paper': return { ...base, phi: plan.phiPaper, timeRule: 'proportional', rect: null };
    case 'ertacache-schedule+dt': return { ...base, phi: plan.phi, rect: null };
    case 'ertacache': return { ...base, phi: plan.phi, rect: plan.rectify ? plan.rectification : null };
    case 'ertacache-forecast':
    case 'ertacache-forecast+rect': {
      const f = plan.forecast;
      if (f === null) {
        throw new PlanInvalidError([`forecast: is null; policy '${variant}' needs a plan calibrated with the forecast`]);
      }
      const rect = variant === 'ertacache-forecast+rect' || f.rectify ? f.rectification : null;
      return { reuse: f.reuse, phi: f.phi, timeRule: f.timeRule, rect, gain: f.gain };
    }
  }
}

/**
 * r̃_i = r_k + g·(r_k − r_j)·(σ_k − σ_i)/(σ_j − σ_k) as weights on [r_k, r_j] (most recent
 * first): [1 + g·α, −g·α]. Stale reuse ([1]) until two computed steps exist.
 */
export function forecastWeights(gain: number, sigmaI: number, computedSigmas: readonly number[]): number[] {
  if (computedSigmas.length < 2) return [1];
  const [sk, sj] = computedSigmas as [number, number];
  const alpha = sj !== sk ? (sk - sigmaI) / (sj - sk) : 0;
  return [1 + gain * alpha, -gain * alpha];
}

export function createErtaCachePolicy(options: ErtaCacheOptions): CachePolicy {
  const plan = validatePlan(options.plan);
  if (plan.kind !== 'ertacache') throw new PlanInvalidError([`kind: is '${plan.kind}', ertacache needs an ertacache plan`]);
  const variant = options.variant ?? 'ertacache';
  if (options.steps !== undefined) checkPlanMatches(plan, { steps: options.steps });
  const rung = rungOf(plan, variant);
  const reuseSet = new Set(rung.reuse);
  const rects = rectificationTable(rung.rect);
  let computedSigmas: number[] = []; // σ of the last two computed steps, most recent first
  return {
    kind: variant,
    needsIndicator: false,
    history: rung.gain === null ? 1 : 2,
    timeRule: rung.timeRule,
    decide(ctx) {
      if (ctx.steps !== plan.steps) {
        throw new PlanMismatchError(`the ertacache plan was calibrated for ${plan.steps} steps, this run has `
          + `${ctx.steps}; calibrate for ${ctx.steps} steps or run with ${plan.steps}`);
      }
      // S never holds step 0 or the last step (validatePlan), so both always compute.
      if (!reuseSet.has(ctx.i)) {
        computedSigmas = [ctx.sigma, ...computedSigmas].slice(0, 2);
        return COMPUTE;
      }
      const d = reuse(rung.phi === null ? 1 : rung.phi[ctx.i]!);
      return rung.gain === null ? d : { ...d, weights: forecastWeights(rung.gain, ctx.sigma, computedSigmas) };
    },
    rectification: (i) => (reuseSet.has(i) ? rects.get(i) ?? null : null),
    reset: () => { computedSigmas = []; },
  };
}
