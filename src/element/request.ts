// Element options + the loaded model → a GenerateRequest. The one default that depends on the
// model lives here: with several calibrated budgets for the chosen steps and no `budget`
// attribute, the element picks the one closest to half the steps (≈ 2× fewer computed steps).

import type { CalibrateRequest, CalibrationPolicy, ModelInfo, PolicyRequest } from '../runtime/api.ts';
import type { ElementOptions } from './options.ts';
import type { JobRequest } from './session.ts';

/** Plan kinds that ablation variants share ('ertacache-schedule' reads the 'ertacache' plan). */
const PLAN_FAMILIES = ['ertacache', 'teacache', 'magcache', 'easycache'];

function planKind(policy: string): string | null {
  return PLAN_FAMILIES.find((k) => policy === k || policy.startsWith(`${k}-`)) ?? null;
}

/** Budgets the model ships plans for, for a policy and step count (ascending). */
export function availableBudgets(model: ModelInfo, policy: string, steps: number): number[] {
  const kind = planKind(policy);
  if (kind === null) return [];
  const budgets = model.plans.filter((p) => p.kind === kind && p.steps === steps).map((p) => p.budget);
  return [...new Set(budgets.filter((b): b is number => b !== undefined))].sort((a, b) => a - b);
}

export function defaultBudget(budgets: readonly number[], steps: number): number | undefined {
  if (budgets.length === 0) return undefined;
  return budgets.reduce((best, b) => (Math.abs(b - steps / 2) < Math.abs(best - steps / 2) ? b : best));
}

/** What a text model draws when the element names no prompt: its manifest's first example prompt (null: none, or a class model). */
export function defaultPrompt(model: ModelInfo): string | null {
  return model.conditioning === 'text' ? model.examplePrompts?.[0] ?? null : null;
}

/** The prompt a request sends: the attribute's, else (with no label either) the model's first example prompt. */
export function requestPrompt(o: Pick<ElementOptions, 'prompt' | 'label'>, model: ModelInfo): string | null {
  return o.prompt ?? (o.label === null ? defaultPrompt(model) : null);
}

export function toRequest(o: ElementOptions, model: ModelInfo): JobRequest {
  const steps = o.steps ?? model.defaultSteps;
  const budget = o.budget ?? defaultBudget(availableBudgets(model, o.policy, steps), steps);
  const policy: PolicyRequest = { kind: o.policy, ...(budget !== undefined ? { budget } : {}) };
  // Conditioning passes through as set; the runtime rejects a prompt on a class model and a
  // label on a text model (CONDITIONING_MISMATCH). A class model without a label draws class 0,
  // a text model without a prompt (or a label) its manifest's first example prompt.
  const label = o.label ?? (model.conditioning === 'class' ? 0 : null);
  const prompt = requestPrompt(o, model);
  return {
    ...(label !== null ? { label } : {}),
    ...(prompt !== null ? { prompt } : {}),
    ...(o.negativePrompt !== null ? { negativePrompt: o.negativePrompt } : {}),
    seed: o.seed,
    steps,
    guidance: o.guidance ?? model.defaultGuidance,
    ...(o.embeddedGuidance !== null ? { embeddedGuidance: o.embeddedGuidance } : {}),
    policy,
    previewEvery: o.previewEvery,
  };
}

/** What element.calibrate() accepts: any calibrate() field (the attributes fill the rest), and an AbortSignal. */
export type ElementCalibrateOptions = Partial<Omit<CalibrateRequest, 'jobId'>> & { signal?: AbortSignal };

/**
 * Element options + the loaded model → a CalibrateRequest for the plan the element's next
 * generate() would look for: its steps, its policy's plan kind (ertacache when the policy needs
 * no plan) and its budget (default: half the steps, rounded, at least 2).
 */
export function toCalibrateRequest(o: ElementOptions, model: ModelInfo, given: ElementCalibrateOptions): Omit<CalibrateRequest, 'jobId'> {
  const { signal: _signal, ...fields } = given;
  const steps = given.steps ?? o.steps ?? model.defaultSteps;
  const policy = given.policy ?? ((planKind(o.policy) as CalibrationPolicy | null) ?? 'ertacache');
  const budget = given.budget ?? o.budget ?? Math.max(2, Math.round(steps / 2));
  const guidance = given.guidance ?? o.guidance ?? undefined;
  return { ...fields, steps, policy, budget, ...(guidance !== undefined ? { guidance } : {}) };
}
