// The second closed-loop pass with S fixed: at every reused step fit φ_i (ertacache.md (b))
// and the per-channel affine a, b (ertacache.md (c)), then advance the batch the way the full
// policy will (Δ = Δc·φ_i, rectified velocity), so later fits see the states it visits.

import { rectifyAffineData } from '../core/ops.ts';
import { advanceClock, evalSigma, START_CLOCK, stepDt } from '../core/schedules.ts';
import type { ChannelLayout, TimeRule } from '../core/types.ts';
import type { AffineStep } from '../cache/plan.ts';
import type { Embedded } from './batch.ts';
import { add, axpy, guideRows, l1PerSample, mean, sub } from './host-math.ts';
import type { Profile } from './profile.ts';
import type { SimSetup } from './search.ts';

/** Guards φ's denominator where the reference velocity does not change. */
export const PHI_EPS = 1e-8;

/**
 * How φ is fitted. 'paper' is ertacache.md (b). 'lsq' is this project's experiment: the scalar
 * that best maps the reused step onto the true one, argmin_φ ‖φ·ṽ − v‖₂ = ⟨ṽ, v⟩ / ‖ṽ‖₂²
 * (clipped to [0, 1]); measured side by side in the bench, never the default.
 */
export type PhiMode = 'paper' | 'lsq';  // 'search' (direct-search.ts) is the default of calibrate

/** φ_i = clip(⟨ṽ, v⟩ / ⟨ṽ, ṽ⟩, 0, 1) per sample, averaged over the batch. */
export function phiLeastSquares(vTilde: Float32Array, vTrue: Float32Array, samples: number): number {
  const n = vTilde.length / samples;
  let total = 0;
  for (let p = 0; p < samples; p++) {
    let dot = 0;
    let norm = 0;
    for (let k = p * n; k < (p + 1) * n; k++) {
      dot += vTilde[k]! * vTrue[k]!;
      norm += vTilde[k]! * vTilde[k]!;
    }
    total += norm > 0 ? Math.min(1, Math.max(0, dot / norm)) : 1;
  }
  return total / samples;
}

export interface Affine {
  a: Float32Array;
  b: Float32Array;
}

/**
 * Closed-form least squares of ε ≈ a·x + b per channel (ertacache.md (c)):
 * a = Cov(x, ε) / Var(x), b = mean(ε) − a·mean(x); a = 0 where x is constant.
 */
export function fitAffine(x: Float32Array, eps: Float32Array, layout: ChannelLayout): Affine {
  const { channels, inner } = layout;
  const n = new Float64Array(channels);
  const sx = new Float64Array(channels);
  const se = new Float64Array(channels);
  for (let k = 0; k < x.length; k++) {
    const ch = Math.floor(k / inner) % channels;
    n[ch]! += 1;
    sx[ch]! += x[k]!;
    se[ch]! += eps[k]!;
  }
  const mx = sx.map((v, ch) => v / n[ch]!);
  const me = se.map((v, ch) => v / n[ch]!);
  const cov = new Float64Array(channels);
  const vx = new Float64Array(channels);
  for (let k = 0; k < x.length; k++) { // centred second pass: no cancellation
    const ch = Math.floor(k / inner) % channels;
    const dx = x[k]! - mx[ch]!;
    cov[ch]! += dx * (eps[k]! - me[ch]!);
    vx[ch]! += dx * dx;
  }
  const a = cov.map((c, ch) => (vx[ch]! > 1e-30 * n[ch]! ? c / vx[ch]! : 0));
  const b = me.map((m, ch) => m - a[ch]! * mx[ch]!);
  return { a: Float32Array.from(a), b: Float32Array.from(b) };
}

/**
 * φ_i = clip(1 − ‖ṽ_i − v_i‖₁ / (‖v_ref,i − v_ref,i+1‖₁ + ε), 0, 1) per sample, averaged over the
 * batch (ertacache.md (b)); ṽ the unrectified reuse velocity, v the true one at the same state.
 */
export function phiForStep(vTilde: Float32Array, vTrue: Float32Array, vRefI: Float32Array,
  vRefNext: Float32Array, samples: number): number {
  const err = l1PerSample(vTilde, vTrue, samples);
  const change = l1PerSample(vRefI, vRefNext, samples);
  return mean(err.map((e, p) => Math.min(1, Math.max(0, 1 - e / (change[p]! + PHI_EPS)))));
}

export interface ReuseFit {
  phi: number[]; // per step, 1 where the step computes
  rectification: AffineStep[];
  final: Float32Array; // the batch's final samples under the full policy (simulated)
}

/**
 * Pass 2 over the batch with S fixed, fitting in `space`. With `fixed`, φ is not fitted: the
 * batch advances with the given φ and time rule (the calibrated step adjustment), and only the
 * rectification is fitted, on the trajectory the policy will follow.
 */
export async function fitReusedSteps(setup: SimSetup, reuse: number[], space: 'output' | 'hidden',
  profile: Profile, phiMode: PhiMode = 'paper', fixed?: { phi: number[]; timeRule: TimeRule }): Promise<ReuseFit> {
  const { model, sigmas } = setup;
  const steps = sigmas.length - 1;
  const S = new Set(reuse);
  const phi = fixed ? [...fixed.phi] : new Array<number>(steps).fill(1);
  const rectification: AffineStep[] = [];
  let x = model.batch.noise;
  let rCache: Float32Array | null = null;
  let clock = START_CLOCK;
  for (let i = 0; i < steps; i++) {
    const e = await model.embed(x, evalSigma(sigmas, i, clock, setup.timeMode));
    const z = await model.blocks(e);
    const rTrue = sub(z, e.h);
    const vTrue = guideRows(await model.head(z, e), model.batch, model.guidance);
    let v = vTrue;
    if (S.has(i) && rCache !== null) {
      const step = await fitStep(setup, e, rCache, rTrue, vTrue, space);
      if (!fixed) {
        phi[i] = phiMode === 'lsq'
          ? phiLeastSquares(step.vTilde, vTrue, model.batch.samples)
          : phiForStep(step.vTilde, vTrue, profile.vRef[i]!, profile.vRef[i + 1]!, model.batch.samples);
      }
      rectification.push({ step: i, a: Array.from(step.fit.a), b: Array.from(step.fit.b) });
      v = step.vRect;
    } else {
      rCache = rTrue;
    }
    const dt = stepDt(sigmas, i, clock, fixed?.timeRule ?? 'proportional', S.has(i) && rCache !== null ? phi[i]! : null);
    x = axpy(x, v, -dt);
    clock = advanceClock(sigmas, i, clock, dt);
  }
  return { phi, rectification, final: x };
}

/** ṽ, the affine fit and the rectified velocity at one reused step. */
async function fitStep(setup: SimSetup, e: Embedded,
  rCache: Float32Array, rTrue: Float32Array, vTrue: Float32Array, space: 'output' | 'hidden') {
  const { model } = setup;
  const guided = async (r: Float32Array) => guideRows(await model.head(add(e.h, r), e), model.batch, model.guidance);
  const vTilde = await guided(rCache);
  if (space === 'output') { // x = ṽ, ε = ṽ − v on the guided velocity
    const fit = fitAffine(vTilde, sub(vTilde, vTrue), model.outputLayout);
    return { vTilde, fit, vRect: rectifyAffineData(vTilde, fit.a, fit.b, model.outputLayout) };
  }
  // hidden: x = r_cache, ε = r_cache − r_true per hidden channel; ṽ from the rectified residual
  const fit = fitAffine(rCache, sub(rCache, rTrue), model.hiddenLayout);
  return { vTilde, fit, vRect: await guided(rectifyAffineData(rCache, fit.a, fit.b, model.hiddenLayout)) };
}
