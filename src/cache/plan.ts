// Calibrated plans: versioned data files fitted for one (model, steps, shift, guidance, budget)
// (ertacache.md "The calibrated plan"). validatePlan is the boundary check: everything past it
// may trust the shape. Errors list every problem found and say how to get a good plan.

import { DiffusionError } from '../core/errors.ts';
import type { TimeMode } from '../core/schedules.ts';
import { MAX_DT_SCALE } from '../core/types.ts';
import type { TimeRule } from '../core/types.ts';

/** 2: φ by direct search, the time rule, the paper's φ as a diagnostic, the residual forecast. */
export const PLAN_VERSION = 2;

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

/**
 * How φ was chosen: 'search' (default: direct search on the calibration seeds, one φ per plan,
 * then per step by coordinate descent), 'paper' (ertacache.md (b)'s formula), 'lsq' (experiment).
 */
export type PhiMode = 'search' | 'paper' | 'lsq';

/** The residual forecast (ertacache.md "What the first release measured"): its own reuse set. */
export interface ForecastPlan {
  lambda: number; // ℓ1rel threshold of the reuse-set search run with the forecast in the loop
  reuse: number[]; // S_f, ascending; never step 0 or the last step
  gain: number; // g in r̃ = r_k + g·(r_k − r_j)·(σ_k − σ_i)/(σ_j − σ_k)
  phi: number[]; // φ_i per step (1 where the step computes)
  timeRule: TimeRule;
  rectification: RectificationPlan | null; // fitted on the forecast's trajectory
  rectify: boolean; // true iff calibration measured the rectification helping
}

export interface ErtaCachePlan extends PlanHeader {
  kind: 'ertacache';
  lambda: number; // the ℓ1rel threshold the search settled on
  reuse: number[]; // S, ascending; never step 0 or the last step
  phi: number[]; // φ_i for every step (1 where the step computes), in [0, MAX_DT_SCALE]
  phiMode?: PhiMode; // absent = 'search'
  /** The paper's φ formula on the schedule's trajectory: a diagnostic and the 'ertacache-paper' row. */
  phiPaper: number[];
  timeRule: TimeRule; // picked by calibration
  rectification: RectificationPlan | null;
  rectify: boolean; // true iff calibration measured the rectification helping ('ertacache' applies it)
  forecast: ForecastPlan | null;
}

/** An EasyCache plan: its threshold tuned to the budget on the calibration seeds (baselines.md). */
export interface EasyCachePlan extends PlanHeader {
  kind: 'easycache';
  delta: number; // thresh
  retSteps: number; // first steps that always compute
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

export type CachePlan = ErtaCachePlan | TeaCachePlan | MagCachePlan | EasyCachePlan;

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
  const stale = isInt(p.version) && (p.version as number) < PLAN_VERSION;
  is.check(p.version === PLAN_VERSION, 'version', `is ${JSON.stringify(p.version)}, this build reads ${PLAN_VERSION}`
    + (stale ? `; plans of version ${String(p.version)} predate the calibrated φ and forecast: run npm run calibrate `
      + `-- --steps ${String(p.steps)} --budget ${String(p.budget)} to write a new one` : ''));
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

const TIME_RULES: readonly unknown[] = ['proportional', 'carry'];

/** The fields a reuse schedule carries (the plan's own, and its forecast's under `at`). */
function checkSchedule(p: Obj, steps: number, is: Issues, at = ''): void {
  is.check(isNum(p.lambda) && (p.lambda as number) >= 0, `${at}lambda`, 'must be a number ≥ 0');
  const s = p.reuse;
  if (is.check(isNumArray(s) && s.every(isInt), `${at}reuse`, 'must be an array of step indices')) {
    const r = s as number[];
    is.check(r.every((i, k) => k === 0 || i > r[k - 1]!), `${at}reuse`, 'must be strictly ascending');
    is.check(r.every((i) => i >= 1 && i <= steps - 2), `${at}reuse`,
      `steps must lie in [1, ${steps - 2}]: step 0 and the last step always compute`);
  }
  is.check(isNumArray(p.phi) && p.phi.length === steps && p.phi.every((v) => v >= 0 && v <= MAX_DT_SCALE),
    `${at}phi`, `must be ${steps} numbers in [0, ${MAX_DT_SCALE}]`);
  is.check(TIME_RULES.includes(p.timeRule), `${at}timeRule`, "must be 'proportional' or 'carry'");
  is.check(typeof p.rectify === 'boolean', `${at}rectify`, 'must be true or false');
  checkRectification(p.rectification, new Set(isNumArray(s) ? s : []), is, at);
}

function checkRectification(rect: unknown, reuseSet: Set<number>, is: Issues, at: string): void {
  if (rect === null) return;
  if (!is.check(isObj(rect), `${at}rectification`, 'must be an object or null')) return;
  const r = rect as Obj;
  is.check(r.space === 'output' || r.space === 'hidden', `${at}rectification.space`, "must be 'output' or 'hidden'");
  const ch = r.channels;
  is.check(isInt(ch) && (ch as number) >= 1, `${at}rectification.channels`, 'must be an integer ≥ 1');
  if (!is.check(Array.isArray(r.steps), `${at}rectification.steps`, 'must be an array')) return;
  (r.steps as unknown[]).forEach((e, k) => {
    const ok = isObj(e) && isInt(e.step) && reuseSet.has(e.step as number)
      && isNumArray(e.a) && isNumArray(e.b) && e.a.length === ch && e.b.length === ch;
    is.check(ok, `${at}rectification.steps[${k}]`, `must be {step ∈ reuse, a, b: ${String(ch)} numbers each}`);
  });
}

function checkErta(p: Obj, is: Issues): void {
  const steps = isInt(p.steps) ? (p.steps as number) : 0;
  checkSchedule(p, steps, is);
  is.check(isNumArray(p.phiPaper) && p.phiPaper.length === steps, 'phiPaper', `must be ${steps} numbers`);
  is.check(p.phiMode === undefined || p.phiMode === 'search' || p.phiMode === 'paper' || p.phiMode === 'lsq',
    'phiMode', "must be 'search', 'paper' or 'lsq' (or absent)");
  if (p.forecast === null) return;
  if (!is.check(isObj(p.forecast), 'forecast', 'must be an object or null')) return;
  const f = p.forecast as Obj;
  checkSchedule(f, steps, is, 'forecast.');
  is.check(isNum(f.gain), 'forecast.gain', 'must be a number');
}

function checkKind(p: Obj, is: Issues): void {
  if (p.kind === 'ertacache') return checkErta(p, is);
  if (p.kind === 'teacache') {
    is.check(isNumArray(p.coefficients) && p.coefficients.length >= 1, 'coefficients', 'must be a non-empty number array');
    is.check(isNum(p.delta) && (p.delta as number) >= 0, 'delta', 'must be a number ≥ 0');
    return;
  }
  if (p.kind === 'easycache') {
    is.check(isNum(p.delta) && (p.delta as number) >= 0, 'delta', 'must be a number ≥ 0');
    is.check(isInt(p.retSteps) && (p.retSteps as number) >= 1, 'retSteps', 'must be an integer ≥ 1');
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
  is.check(false, 'kind', `is ${JSON.stringify(p.kind)}; expected 'ertacache', 'teacache', 'magcache' or 'easycache'`);
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
