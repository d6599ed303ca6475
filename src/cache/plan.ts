// Calibrated plans: versioned data files fitted for one (model, steps, shift, guidance, budget)
// (ertacache.md "The calibrated plan"). validatePlan is the boundary check: everything past it
// may trust the shape. Errors list every problem found and say how to get a good plan.

import { DiffusionError } from '../core/errors.ts';
import type { TimeMode } from '../core/schedules.ts';

export const PLAN_VERSION = 1;

/** Fidelity of one policy variant on the calibration batch, vs the full-compute samples. */
export interface VariantError {
  computedSteps: number; // mean over the batch
  l1: number; // mean |x − x_ref| in model pixel units
  psnr: number | null; // dB on [0, 1]-mapped images; null = identical (infinite)
}

export interface CalibrationInfo {
  seeds: number[];
  labels: number[];
  samples: number;
  timeMode: TimeMode;
  description: string;
  /** Keyed by policy kind, e.g. 'ertacache-schedule', 'ertacache-schedule+dt', 'ertacache'. */
  error: Record<string, VariantError>;
}

/** Fields every plan kind carries. */
export interface PlanHeader {
  version: typeof PLAN_VERSION;
  modelHash: string;
  steps: number;
  shift: number;
  guidance: number;
  budget: number; // target number of computed steps
  computedSteps: number; // the number reached (mean over the calibration batch for TeaCache)
  calibration: CalibrationInfo;
}

/** a, b of ε̂ = a⊙x + b for one reused step (ertacache.md (c)). */
export interface AffineStep {
  step: number;
  a: number[];
  b: number[];
}

export interface RectificationPlan {
  space: 'output' | 'hidden';
  channels: number;
  steps: AffineStep[];
}

export interface ErtaCachePlan extends PlanHeader {
  kind: 'ertacache';
  lambda: number; // the ℓ1rel threshold the search settled on
  reuse: number[]; // S, ascending; never step 0 or the last step
  phi: number[]; // φ_i for every step (1 where the step computes)
  phiMode?: 'paper' | 'lsq'; // how φ was fitted (src/calibrate/fit.ts); absent = 'paper'
  rectification: RectificationPlan | null;
}

export interface TeaCachePlan extends PlanHeader {
  kind: 'teacache';
  coefficients: number[]; // polynomial f, highest degree first (numpy.polyfit order)
  delta: number;
}

export interface MagCachePlan extends PlanHeader {
  kind: 'magcache';
  gamma: number[]; // γ_i per step (γ_0 unused, 1)
  delta: number;
  K: number;
  retention: number;
}

export type CachePlan = ErtaCachePlan | TeaCachePlan | MagCachePlan;

const RECALIBRATE = 'run the calibration tool (npm run calibrate) for this model and step count, '
  + 'or point the runtime at a plan made for it';

export class PlanInvalidError extends DiffusionError {
  readonly issues: readonly string[];
  constructor(issues: string[]) {
    super('PLAN_INVALID', `invalid cache plan: ${issues.join('; ')}`, `fix the listed fields or ${RECALIBRATE}`);
    this.issues = issues;
  }
}

export class PlanMismatchError extends DiffusionError {
  constructor(message: string) {
    super('PLAN_MISMATCH', message, RECALIBRATE);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);

/** Collects "field: problem" lines. */
class Issues {
  readonly list: string[] = [];
  check(ok: boolean, field: string, problem: string): boolean {
    if (!ok) this.list.push(`${field}: ${problem}`);
    return ok;
  }
}

function checkHeader(p: Obj, is: Issues): void {
  is.check(p.version === PLAN_VERSION, 'version', `is ${JSON.stringify(p.version)}, this build reads ${PLAN_VERSION}`);
  is.check(typeof p.modelHash === 'string' && p.modelHash.length > 0, 'modelHash', 'must be a non-empty string');
  is.check(isInt(p.steps) && (p.steps as number) >= 1, 'steps', 'must be an integer ≥ 1');
  is.check(isNum(p.shift) && (p.shift as number) > 0, 'shift', 'must be a number > 0');
  is.check(isNum(p.guidance), 'guidance', 'must be a number');
  is.check(isNum(p.budget) && (p.budget as number) >= 0, 'budget', 'must be a number ≥ 0');
  is.check(isNum(p.computedSteps) && (p.computedSteps as number) >= 0, 'computedSteps', 'must be a number ≥ 0');
  const c = p.calibration;
  if (!is.check(isObj(c), 'calibration', 'must be an object')) return;
  const cal = c as Obj;
  is.check(isNumArray(cal.seeds) && cal.seeds.every(isInt), 'calibration.seeds', 'must be an array of integers');
  is.check(isNumArray(cal.labels), 'calibration.labels', 'must be an array of numbers');
  is.check(isInt(cal.samples), 'calibration.samples', 'must be an integer');
  is.check(cal.timeMode === 'actual' || cal.timeMode === 'nominal', 'calibration.timeMode', "must be 'actual' or 'nominal'");
  is.check(typeof cal.description === 'string', 'calibration.description', 'must be a string');
  if (!is.check(isObj(cal.error), 'calibration.error', 'must be an object')) return;
  for (const [k, e] of Object.entries(cal.error as Obj)) {
    is.check(isObj(e) && isNum(e.computedSteps) && isNum(e.l1) && (e.psnr === null || isNum(e.psnr)),
      `calibration.error.${k}`, 'must be {computedSteps, l1, psnr (number or null)}');
  }
}

function checkErta(p: Obj, is: Issues): void {
  const steps = isInt(p.steps) ? (p.steps as number) : 0;
  is.check(isNum(p.lambda) && (p.lambda as number) >= 0, 'lambda', 'must be a number ≥ 0');
  const s = p.reuse;
  if (is.check(isNumArray(s) && s.every(isInt), 'reuse', 'must be an array of step indices')) {
    const r = s as number[];
    is.check(r.every((i, k) => k === 0 || i > r[k - 1]!), 'reuse', 'must be strictly ascending');
    is.check(r.every((i) => i >= 1 && i <= steps - 2), 'reuse',
      `steps must lie in [1, ${steps - 2}]: step 0 and the last step always compute`);
  }
  is.check(isNumArray(p.phi) && p.phi.length === steps && p.phi.every((v) => v >= 0 && v <= 1),
    'phi', `must be ${steps} numbers in [0, 1]`);
  if (p.rectification === null) return;
  if (!is.check(isObj(p.rectification), 'rectification', 'must be an object or null')) return;
  const r = p.rectification as Obj;
  is.check(r.space === 'output' || r.space === 'hidden', 'rectification.space', "must be 'output' or 'hidden'");
  const ch = r.channels;
  is.check(isInt(ch) && (ch as number) >= 1, 'rectification.channels', 'must be an integer ≥ 1');
  if (!is.check(Array.isArray(r.steps), 'rectification.steps', 'must be an array')) return;
  const reuseSet = new Set(isNumArray(s) ? s : []);
  (r.steps as unknown[]).forEach((e, k) => {
    const ok = isObj(e) && isInt(e.step) && reuseSet.has(e.step as number)
      && isNumArray(e.a) && isNumArray(e.b) && e.a.length === ch && e.b.length === ch;
    is.check(ok, `rectification.steps[${k}]`, `must be {step ∈ reuse, a, b: ${String(ch)} numbers each}`);
  });
}

function checkKind(p: Obj, is: Issues): void {
  if (p.kind === 'ertacache') return checkErta(p, is);
  if (p.kind === 'teacache') {
    is.check(isNumArray(p.coefficients) && p.coefficients.length >= 1, 'coefficients', 'must be a non-empty number array');
    is.check(isNum(p.delta) && (p.delta as number) >= 0, 'delta', 'must be a number ≥ 0');
    return;
  }
  if (p.kind === 'magcache') {
    is.check(isNumArray(p.gamma) && p.gamma.length === p.steps && p.gamma.every((g) => g > 0),
      'gamma', `must be ${String(p.steps)} numbers > 0`);
    is.check(isNum(p.delta) && (p.delta as number) >= 0, 'delta', 'must be a number ≥ 0');
    is.check(isInt(p.K) && (p.K as number) >= 1, 'K', 'must be an integer ≥ 1');
    is.check(isNum(p.retention) && (p.retention as number) >= 0 && (p.retention as number) <= 1,
      'retention', 'must be a number in [0, 1]');
    return;
  }
  is.check(false, 'kind', `is ${JSON.stringify(p.kind)}; expected 'ertacache', 'teacache' or 'magcache'`);
}

/** Check parsed JSON against the plan schema; returns it typed or throws PlanInvalidError. */
export function validatePlan(json: unknown): CachePlan {
  const is = new Issues();
  if (!is.check(isObj(json), 'plan', 'must be a JSON object')) throw new PlanInvalidError(is.list);
  const p = json as Obj;
  checkHeader(p, is);
  checkKind(p, is);
  if (is.list.length > 0) throw new PlanInvalidError(is.list);
  return p as unknown as CachePlan;
}

/** What a run is; fields left out are not checked. */
export interface RunFacts {
  steps: number;
  modelHash?: string;
}

/** Throws PlanMismatchError when the plan was fitted for another model or step count. */
export function checkPlanMatches(plan: CachePlan, run: RunFacts): void {
  if (plan.steps !== run.steps) {
    throw new PlanMismatchError(`the ${plan.kind} plan was calibrated for ${plan.steps} steps, `
      + `this run has ${run.steps}; calibrate for ${run.steps} steps or run with ${plan.steps}`);
  }
  if (run.modelHash !== undefined && plan.modelHash !== run.modelHash) {
    throw new PlanMismatchError(`the ${plan.kind} plan was calibrated for model ${plan.modelHash}, `
      + `this model is ${run.modelHash}`);
  }
}
