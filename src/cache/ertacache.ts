// ERTACache (ertacache.md): a static reuse set S from an offline-calibrated plan, so deciding
// needs no read-back. Three kinds share one plan and form the paper's ablation ladder:
//   'ertacache-schedule'     S only (reused steps take a full step)
//   'ertacache-schedule+dt'  + Δ = Δc·φ_i at reused steps           (ertacache.md (b))
//   'ertacache'              + rectification v̂ = ṽ − (a⊙ṽ + b)       (ertacache.md (c))

import type { CachePolicy, Rectification } from '../core/types.ts';
import { checkPlanMatches, PlanInvalidError, PlanMismatchError, validatePlan } from './plan.ts';
import type { ErtaCachePlan } from './plan.ts';
import { COMPUTE, reuse } from './policy.ts';

export type ErtaCacheVariant = 'ertacache-schedule' | 'ertacache-schedule+dt' | 'ertacache';

export const ERTACACHE_VARIANTS: readonly ErtaCacheVariant[] = [
  'ertacache-schedule', 'ertacache-schedule+dt', 'ertacache',
];

export interface ErtaCacheOptions {
  plan: ErtaCachePlan;
  /** Which rungs of the ladder to apply. Default 'ertacache' (all three). */
  variant?: ErtaCacheVariant;
  /** The run's step count, to fail at creation rather than at the first step. */
  steps?: number;
}

function rectificationTable(plan: ErtaCachePlan): Map<number, Rectification> {
  const table = new Map<number, Rectification>();
  const r = plan.rectification;
  if (r === null) return table;
  for (const s of r.steps) {
    table.set(s.step, { space: r.space, a: Float32Array.from(s.a), b: Float32Array.from(s.b) });
  }
  return table;
}

export function createErtaCachePolicy(options: ErtaCacheOptions): CachePolicy {
  const plan = validatePlan(options.plan);
  if (plan.kind !== 'ertacache') throw new PlanInvalidError([`kind: is '${plan.kind}', ertacache needs an ertacache plan`]);
  const variant = options.variant ?? 'ertacache';
  if (options.steps !== undefined) checkPlanMatches(plan, { steps: options.steps });
  const reuseSet = new Set(plan.reuse);
  const useDt = variant !== 'ertacache-schedule';
  const rects = variant === 'ertacache' ? rectificationTable(plan) : new Map<number, Rectification>();
  return {
    kind: variant,
    needsIndicator: false,
    decide(ctx) {
      if (ctx.steps !== plan.steps) {
        throw new PlanMismatchError(`the ertacache plan was calibrated for ${plan.steps} steps, this run has `
          + `${ctx.steps}; calibrate for ${ctx.steps} steps or run with ${plan.steps}`);
      }
      // S never holds step 0 or the last step (validatePlan), so both always compute.
      if (!reuseSet.has(ctx.i)) return COMPUTE;
      return reuse(useDt ? plan.phi[ctx.i]! : 1);
    },
    rectification: (i) => (reuseSet.has(i) ? rects.get(i) ?? null : null),
    reset: () => {}, // stateless: S, φ and the fits are fixed by the plan
  };
}
