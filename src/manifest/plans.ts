// Binding calibrated plans to the model and run they were fitted for (ertacache.md: "Loading a
// plan whose model hash or step count does not match must fail with a clear message").

import { BadInputError } from '../core/errors.ts';
import { manifestError } from './errors.ts';
import type { ModelManifest, PlanEntry, RectificationSpace } from './types.ts';

/** Policies whose decisions come from an offline-calibrated plan file. */
export const PLAN_KINDS: readonly string[] = ['ertacache', 'teacache', 'magcache', 'easycache'];

/**
 * Rectification space used when a run does not ask for one. 'output' is the calibrator's
 * default; the ablation (ertacache.md (c), open question) may change it.
 */
export const DEFAULT_RECTIFICATION_SPACE: RectificationSpace = 'output';

/** True for 'ertacache' and its ablation variants ('ertacache-schedule', ...), teacache, magcache. */
export function policyNeedsPlan(kind: string): boolean {
  return PLAN_KINDS.some((k) => kind === k || kind.startsWith(`${k}-`));
}

/** The plan kind a policy reads: ERTACache ablation variants share the full ertacache plan. */
export function planKindFor(policy: string): string {
  return PLAN_KINDS.find((k) => policy === k || policy.startsWith(`${k}-`)) ?? policy;
}

/** The command that produces a missing or stale plan; quoted in every plan error. */
export function calibrateCommand(modelDir: string, steps: number, budget?: number): string {
  const b = budget === undefined ? '' : ` --budget ${budget}`;
  return `npm run calibrate -- --model ${modelDir} --steps ${steps}${b}`;
}

export interface PlanQuery {
  /** Computed-step budget; required when the manifest lists several for the kind and steps. */
  budget?: number;
  /** ERTACache rectification space; default DEFAULT_RECTIFICATION_SPACE. */
  space?: RectificationSpace;
  /** ERTACache φ fit; default 'paper'. */
  phi?: 'paper' | 'lsq';
}

const label = (p: PlanEntry) =>
  `${p.kind}/${p.steps}${p.budget === undefined ? '' : `/b${p.budget}`}${p.space === 'hidden' ? '/hidden' : ''}`;

/** The manifest's plan for a policy kind and step count (budget and space select among several). */
export function findPlan(m: ModelManifest, kind: string, steps: number, query: PlanQuery = {}): PlanEntry {
  const planKind = planKindFor(kind);
  const space = query.space ?? DEFAULT_RECTIFICATION_SPACE;
  const candidates = m.plans.filter(
    (p) => p.kind === planKind && p.steps === steps
      && (planKind !== 'ertacache' || ((p.space ?? 'output') === space && (p.phi ?? 'paper') === (query.phi ?? 'paper'))),
  );
  const budgets = [...new Set(candidates.map((p) => p.budget).filter((b) => b !== undefined))];
  if (query.budget === undefined && budgets.length > 1) {
    throw new BadInputError(
      `${m.name} has ${planKind} plans for ${steps} steps with budgets ${budgets.join(', ')}`,
      'Choose one with --budget (the number of computed steps).',
    );
  }
  const match = candidates.find((p) => query.budget === undefined || p.budget === undefined || p.budget === query.budget);
  if (match) return match;
  const have = m.plans.map(label);
  const wanted = `${planKind} plan for ${steps} steps${query.budget === undefined ? '' : ` and budget ${query.budget}`}`;
  throw manifestError(
    'PLAN_NOT_FOUND',
    `${m.name}: no ${wanted}${planKind === 'ertacache' ? ` (${space} space)` : ''}` +
      ` (manifest lists: ${have.length ? have.join(', ') : 'none'})`,
    `Run \`${calibrateCommand(m.baseUrl, steps, query.budget)}\` to fit one.`,
  );
}

/** The part of a plan file that binds it to a model and a run. */
export interface PlanBinding {
  modelHash: string;
  steps: number;
}

/** Throws PLAN_MISMATCH unless the plan was fitted for this model and this step count. */
export function checkPlanMatches(plan: PlanBinding, m: ModelManifest, steps: number): void {
  const fix = `Run \`${calibrateCommand(m.baseUrl, steps)}\` to fit a plan for this model and step count.`;
  if (plan.modelHash !== m.modelHash) {
    throw manifestError(
      'PLAN_MISMATCH',
      `plan was fitted for model ${plan.modelHash.slice(0, 12)}…, but ${m.name} is ${m.modelHash.slice(0, 12)}…`,
      fix,
    );
  }
  if (plan.steps !== steps) {
    throw manifestError('PLAN_MISMATCH', `plan was fitted for ${plan.steps} steps, but this run uses ${steps}`, fix);
  }
}

/**
 * A plan that passed its schema can still disagree with the model it is bound to: its
 * rectification must have one (a, b) pair per channel of the space it was fitted in.
 */
export function checkPlanFitsModel(plan: unknown, m: ModelManifest): void {
  const r = (plan as { rectification?: { space?: unknown; channels?: unknown } | null } | null)?.rectification;
  if (!r) return;
  const expected = r.space === 'hidden' ? m.hidden.dim : m.latent.channels;
  if (r.channels === expected) return;
  throw manifestError(
    'PLAN_MISMATCH',
    `plan rectification has ${String(r.channels)} channels, but ${m.name}'s ${String(r.space)} space has ${expected}`,
    `Run \`${calibrateCommand(m.baseUrl, m.scheduler.defaultSteps)}\` to fit a plan for this model.`,
  );
}
