// Offline policy calibration (ertacache.md (a).2–3): simulate caching closed-loop over the
// whole batch in lockstep, reusing at step i iff ℓ1rel = mean_p ‖r_cache[p] − r_true[p]‖₁ /
// ‖r_true[p]‖₁ < λ, then bisect λ for a target number of computed steps.

import { forecastWeights } from '../cache/ertacache.ts';
import { evalSigma, redistributedDt, advanceClock, START_CLOCK } from '../core/schedules.ts';
import type { Clock, TimeMode } from '../core/schedules.ts';
import type { HostModel } from './batch.ts';
import { axpy, guideRows, mean, relL1PerSample, sub } from './host-math.ts';

/** The simulated state before step i, and what the step measured and decided. */
export interface SimStep {
  x: Float32Array;
  rCache: Float32Array | null; // rows × hidden, the stale residual (null before step 0)
  rPrev: Float32Array | null; // the residual of the computed step before (the forecast's r_j)
  sigmaCache: number[]; // σ of those computed steps, most recent first
  clock: Clock;
  l1rel: number; // NaN at the forced steps (first, last)
  decision: 'compute' | 'reuse';
}

export interface ScheduleTrace {
  lambda: number;
  steps: SimStep[];
  reuse: number[]; // S
  computed: number;
  final: Float32Array;
}

export interface SimSetup {
  model: HostModel;
  sigmas: Float64Array;
  timeMode: TimeMode;
  /** Forecast gain g: reuse (and ℓ1rel) use r̃ = forecast of the last two residuals; null = stale r. */
  gain?: number | null;
}

type SimState = Omit<SimStep, 'l1rel' | 'decision'>;

/**
 * h + Σ w_k r_k with the runtime's float32 arithmetic (sampler-steps forecastInput): add for
 * stale reuse, one axpy per weight for a forecast.
 */
export function forecastHostInput(h: Float32Array, residuals: Float32Array[], weights: readonly number[]): Float32Array {
  if (weights.length === 1 && weights[0] === 1) return axpy(h, residuals[0]!, 1);
  let t = h;
  weights.forEach((w, k) => { t = axpy(t, residuals[k]!, w); });
  return t;
}

/** The reuse weights at state s, step σ: the forecast's when the setup has a gain, else stale. */
function weightsAt(setup: SimSetup, s: SimState, sigma: number): number[] {
  return setup.gain === undefined || setup.gain === null ? [1] : forecastWeights(setup.gain, sigma, s.sigmaCache);
}

/** One closed-loop step at state s: the true residual, ℓ1rel, the decision and the next state. */
async function simulateStep(setup: SimSetup, i: number, s: SimState, lambda: number) {
  const { model, sigmas } = setup;
  const steps = sigmas.length - 1;
  const sigma = evalSigma(sigmas, i, s.clock, setup.timeMode);
  const e = await model.embed(s.x, sigma);
  const z = await model.blocks(e);
  const rTrue = sub(z, e.h);
  const forced = i === 0 || i === steps - 1 || s.rCache === null;
  const weights = weightsAt(setup, s, sigma);
  const cached = [s.rCache!, s.rPrev!];
  const hr = forced ? null : forecastHostInput(e.h, cached, weights);
  const rEst = forced ? null : weights.length === 1 ? s.rCache! : axpy(new Float32Array(rTrue.length), s.rCache!, weights[0]!);
  if (rEst !== null && weights.length > 1) for (let k = 0; k < rEst.length; k++) rEst[k] += weights[1]! * s.rPrev![k]!;
  const l1rel = forced ? NaN : mean(relL1PerSample(rEst!, rTrue, model.batch.samples));
  const decision: SimStep['decision'] = !forced && l1rel < lambda ? 'reuse' : 'compute';
  const out = await model.head(decision === 'reuse' ? hr! : z, e);
  const v = guideRows(out, model.batch, model.guidance);
  const dt = redistributedDt(sigmas, i, s.clock); // no φ in this pass: the schedule alone
  const computed = decision === 'compute';
  const next: SimState = {
    x: axpy(s.x, v, -dt), rCache: computed ? rTrue : s.rCache, rPrev: computed ? s.rCache : s.rPrev,
    sigmaCache: computed ? [sigma, ...s.sigmaCache].slice(0, 2) : s.sigmaCache, clock: advanceClock(sigmas, i, s.clock, dt),
  };
  return { record: { ...s, l1rel, decision }, next };
}

/** The decision the recorded ℓ1rel implies under another λ (forced steps always compute). */
function replayDecision(step: SimStep, lambda: number): SimStep['decision'] {
  return Number.isNaN(step.l1rel) || !(step.l1rel < lambda) ? 'compute' : 'reuse';
}

/**
 * Closed-loop simulation for one λ. With `prior`, steps whose decision does not change under
 * the new λ are replayed from the record (same state ⇒ same ℓ1rel), so a bisection only pays
 * for the steps after the first decision that differs.
 */
export async function simulateSchedule(setup: SimSetup, lambda: number, prior?: ScheduleTrace): Promise<ScheduleTrace> {
  const steps = setup.sigmas.length - 1;
  const records: SimStep[] = [];
  let state: SimState = { x: setup.model.batch.noise, rCache: null, rPrev: null, sigmaCache: [], clock: START_CLOCK };
  let final = prior?.final ?? state.x;
  if (prior !== undefined) {
    while (records.length < steps && replayDecision(prior.steps[records.length]!, lambda) === prior.steps[records.length]!.decision) {
      records.push(prior.steps[records.length]!);
    }
    if (records.length < steps) state = prior.steps[records.length]!; // first divergence: resume here
  }
  for (let i = records.length; i < steps; i++) {
    const { record, next } = await simulateStep(setup, i, state, lambda);
    records.push(record);
    state = next;
    final = next.x;
  }
  const reuse = records.flatMap((r, i) => (r.decision === 'reuse' ? [i] : []));
  return { lambda, steps: records, reuse, computed: steps - reuse.length, final };
}

export interface ThresholdResult<R> {
  threshold: number;
  count: number;
  result: R;
}

/**
 * Find a threshold whose count of computed steps is `target` (count falls as the threshold
 * rises). Bisection; when no threshold hits the target exactly (a jump over it), returns the
 * closest count found, preferring one within the budget (count ≤ target).
 */
export async function bisectThreshold<R>(evaluate: (t: number) => Promise<{ count: number; result: R }>,
  target: number, options: { start?: number; maxIter?: number; tolerance?: number } = {}): Promise<ThresholdResult<R>> {
  const found: { best: ThresholdResult<R> | null } = { best: null };
  const consider = async (t: number) => {
    const { count, result } = await evaluate(t);
    const b = found.best;
    const gap = Math.abs(count - target);
    if (b === null || gap < Math.abs(b.count - target) || (gap === Math.abs(b.count - target) && count < b.count)) {
      found.best = { threshold: t, count, result };
    }
    return count;
  };
  let lo = 0;
  let hi = options.start ?? 1;
  if ((await consider(lo)) > target) {
    while ((await consider(hi)) > target && hi < 1e9) { lo = hi; hi *= 4; }
    const tol = options.tolerance ?? 0;
    for (let k = 0; k < (options.maxIter ?? 40) && Math.abs(found.best!.count - target) > tol; k++) {
      const mid = (lo + hi) / 2;
      if ((await consider(mid)) > target) lo = mid;
      else hi = mid;
    }
  }
  return found.best!;
}

/** λ bisection for `target` computed steps (ertacache.md (a).3). */
export async function searchLambda(setup: SimSetup, target: number, maxIter = 40): Promise<ScheduleTrace> {
  let last: ScheduleTrace | undefined;
  const found = await bisectThreshold(async (lambda) => {
    last = await simulateSchedule(setup, lambda, last);
    return { count: last.computed, result: last };
  }, target, { start: 0.1, maxIter });
  return found.result;
}
