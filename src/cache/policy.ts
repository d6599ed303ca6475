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
  'ertacache-schedule', // the plan's reuse set S only
  'ertacache-schedule+dt', // + φ-scaled reused steps (ertacache.md (b))
  'ertacache', // + affine rectification (ertacache.md (c)): the full method
] as const;

export type PolicyKind = (typeof POLICY_KINDS)[number];

export const COMPUTE: StepDecision = Object.freeze({ kind: 'compute' });

/** A reuse decision; dtScale = φ_i ∈ [0, 1] shortens the step (1 = full step). */
export function reuse(dtScale = 1): StepDecision {
  return { kind: 'reuse', dtScale };
}

export function isLastStep(ctx: StepContext): boolean {
  return ctx.i === ctx.steps - 1;
}
