// kind → policy factory. The one place that turns a policy name (and a parsed plan) into a
// CachePolicy; plans are validated here, at the boundary.

import { DiffusionError } from '../core/errors.ts';
import type { CachePolicy } from '../core/types.ts';
import { createEasyCachePolicy, easyCacheOptionsFromPlan } from './easycache.ts';
import { createErtaCachePolicy } from './ertacache.ts';
import { createMagCachePolicy, magCacheOptionsFromPlan } from './magcache.ts';
import { createNonePolicy } from './none.ts';
import { checkPlanMatches, PlanInvalidError, validatePlan } from './plan.ts';
import type { CachePlan, EasyCachePlan, ErtaCachePlan, MagCachePlan, TeaCachePlan } from './plan.ts';
import { POLICY_KINDS } from './policy.ts';
import type { PolicyKind } from './policy.ts';
import { createTeaCachePolicy, teaCacheOptionsFromPlan } from './teacache.ts';
import { createTaylorSeerPolicy } from './taylorseer.ts';
import { createUniformPolicy } from './uniform.ts';

export class UnknownPolicyError extends DiffusionError {
  constructor(kind: string) {
    super('UNKNOWN_POLICY', `unknown cache policy '${kind}'`, `use one of: ${POLICY_KINDS.join(', ')}`);
  }
}

export interface PolicyOptions {
  /** Parsed plan JSON (validated here). Required by teacache, magcache, easycache and the ertacache kinds. */
  plan?: unknown;
  /** The run's step count: a plan made for another count fails here, before any step runs. */
  steps?: number;
  /** Model hash of the loaded model: a plan made for another model fails here. */
  modelHash?: string;
  /** uniform: compute every N-th step (default 3). */
  interval?: number;
  /** uniform, taylorseer: exactly this many evenly spaced computed steps (overrides interval). */
  uniformBudget?: number;
  /** teacache / magcache / easycache: override the plan's δ (e.g. for a sweep). */
  delta?: number;
  /** magcache: override the plan's K / retention. */
  K?: number;
  retention?: number;
}

export function isPolicyKind(kind: string): kind is PolicyKind {
  return (POLICY_KINDS as readonly string[]).includes(kind);
}

function planFor(kind: PolicyKind, expected: CachePlan['kind'], options: PolicyOptions): CachePlan {
  if (options.plan === undefined) {
    throw new PlanInvalidError([`plan: policy '${kind}' needs a calibrated ${expected} plan`]);
  }
  const plan = validatePlan(options.plan);
  if (plan.kind !== expected) throw new PlanInvalidError([`kind: is '${plan.kind}', policy '${kind}' needs '${expected}'`]);
  if (options.steps !== undefined) checkPlanMatches(plan, { steps: options.steps, modelHash: options.modelHash });
  return plan;
}

/** A fresh policy instance for one run. Throws UnknownPolicyError, PlanInvalidError, PlanMismatchError. */
export function createPolicy(kind: string, options: PolicyOptions = {}): CachePolicy {
  if (!isPolicyKind(kind)) throw new UnknownPolicyError(kind);
  switch (kind) {
    case 'none':
      return createNonePolicy();
    case 'uniform':
      return createUniformPolicy({ interval: options.interval, budget: options.uniformBudget });
    case 'teacache': {
      const base = teaCacheOptionsFromPlan(planFor(kind, 'teacache', options) as TeaCachePlan);
      return createTeaCachePolicy({ ...base, delta: options.delta ?? base.delta });
    }
    case 'magcache': {
      const base = magCacheOptionsFromPlan(planFor(kind, 'magcache', options) as MagCachePlan);
      return createMagCachePolicy({
        ...base, delta: options.delta ?? base.delta, K: options.K ?? base.K, retention: options.retention ?? base.retention,
      });
    }
    case 'easycache': {
      const base = easyCacheOptionsFromPlan(planFor(kind, 'easycache', options) as EasyCachePlan);
      return createEasyCachePolicy({ ...base, delta: options.delta ?? base.delta });
    }
    case 'taylorseer':
    case 'taylorseer-2':
      return createTaylorSeerPolicy({
        order: kind === 'taylorseer' ? 1 : 2, budget: options.uniformBudget,
        ...(options.interval === undefined ? {} : { interval: options.interval }),
      });
    case 'ertacache-schedule':
    case 'ertacache-paper':
    case 'ertacache-schedule+dt':
    case 'ertacache':
    case 'ertacache-forecast':
    case 'ertacache-forecast+rect': {
      const plan = planFor(kind, 'ertacache', options) as ErtaCachePlan;
      return createErtaCachePolicy({ plan, variant: kind, steps: options.steps });
    }
  }
}
