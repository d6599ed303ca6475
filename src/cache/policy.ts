// The cache-policy contract (defined in src/core/types.ts) and the small helpers every
// policy shares. A policy instance belongs to one generation run; reset() restores it.

export type { CachePolicy, Rectification, StepContext, StepDecision } from '../core/types.ts';
import type { StepContext, StepDecision } from '../core/types.ts';

/** Every kind the registry knows, in the order reports list them. */
export const POLICY_KINDS = [
  'none',
  'uniform',
  'teacache',
  'magcache',
  'easycache', // output-level transformation vector (baselines.md)
  'taylorseer', // order-1 Taylor forecast of the residual (baselines.md)
  'taylorseer-2', // order 2
  'ertacache-schedule', // the plan's reuse set S only
  'ertacache-paper', // + the paper's φ formula (ertacache.md (b)): its ablation row
  'ertacache-schedule+dt', // + the calibrated φ and time rule (ertacache.md (b), direct search)
  'ertacache', // + affine rectification where calibration measured it helping (ertacache.md (c))
  'ertacache-forecast', // the forecast's reuse set, residual extrapolated in σ, gain and φ calibrated
  'ertacache-forecast+rect', // the forecast with its rectification always on (ablation row)
] as const;

export type PolicyKind = (typeof POLICY_KINDS)[number];

export const COMPUTE: StepDecision = Object.freeze({ kind: 'compute' });

/** A reuse decision; dtScale = φ_i ∈ [0, MAX_DT_SCALE] scales the step (1 = full step). */
export function reuse(dtScale = 1): StepDecision {
  return { kind: 'reuse', dtScale };
}

export function isLastStep(ctx: StepContext): boolean {
  return ctx.i === ctx.steps - 1;
}
