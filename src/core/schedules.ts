// Flow-matching σ schedules and the timestep arithmetic shared by the sampler and calibration.
// σ runs from 1 (noise) to 0 (data); x_σ = (1−σ)·x₀ + σ·ε (ertacache.md "Setting").

import { BadInputError } from './errors.ts';
import type { TimeRule } from './types.ts';

export type { TimeRule } from './types.ts';

/**
 * T+1 sigmas from 1 to 0 for a flow-match Euler sampler with the SD3 shift
 * σ' = s·σ / (1 + (s−1)·σ) applied to the uniform grid σ_i = 1 − i/T.
 * shift > 1 spends more steps at high noise (default 1 = uniform grid).
 */
export function flowMatchSigmas(steps: number, shift = 1): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new BadInputError(`steps must be a positive integer, got ${steps}`, 'pass steps ≥ 1');
  }
  if (!(shift > 0) || !Number.isFinite(shift)) {
    throw new BadInputError(`shift must be a finite number > 0, got ${shift}`, 'use shift 1 for no shift');
  }
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const s = 1 - i / steps;
    sigmas[i] = (shift * s) / (1 + (shift - 1) * s);
  }
  sigmas[0] = 1; // exact endpoints whatever the rounding of the formula
  sigmas[steps] = 0;
  return sigmas;
}

/** Time spent so far: actual (Σ of the Δ taken) and nominal (Σ of the grid's Δnom). */
export interface Clock {
  readonly elapsed: number;
  readonly nomElapsed: number;
}

export const START_CLOCK: Clock = { elapsed: 0, nomElapsed: 0 };

/** 'actual': evaluate the model at σ = σ₀ − elapsed (adopted); 'nominal': at the grid σ_i. */
export type TimeMode = 'actual' | 'nominal';

/** The σ the model is conditioned on at step i. */
export function evalSigma(sigmas: ArrayLike<number>, i: number, clock: Clock, mode: TimeMode): number {
  return mode === 'nominal' ? sigmas[i]! : sigmas[0]! - clock.elapsed;
}

/**
 * Δc(i) = Δnom_i · (1 − elapsed) / (1 − nomElapsed)   (ertacache.md (b)):
 * the nominal step rescaled so the remaining time is spread over the remaining grid.
 * At the last step this is exactly the remaining time, so Σ Δ = σ₀ − σ_T whenever the last
 * step takes a full Δc; computing it as `remaining` avoids a rounding residue.
 */
export function redistributedDt(sigmas: ArrayLike<number>, i: number, clock: Clock): number {
  const steps = sigmas.length - 1;
  const remaining = sigmas[0]! - sigmas[steps]! - clock.elapsed;
  if (i === steps - 1) return remaining;
  const nomRemaining = sigmas[i]! - sigmas[steps]!;
  const dtNom = sigmas[i]! - sigmas[i + 1]!;
  return nomRemaining > 0 ? (dtNom * remaining) / nomRemaining : 0;
}

/** The clock after step i took an actual step dt. */
export function advanceClock(sigmas: ArrayLike<number>, i: number, clock: Clock, dt: number): Clock {
  return {
    elapsed: clock.elapsed + dt,
    nomElapsed: clock.nomElapsed + (sigmas[i]! - sigmas[i + 1]!),
  };
}

/**
 * The actual step Δ of step i under a time rule; `reuseScale` is φ_i at a reused step, null at a
 * computed one. 'proportional' (the paper): Δc·φ, Δc = redistributedDt. 'carry': a reused step
 * takes φ·Δnom_i, a computed step Δnom_i plus the time not yet spent (nomElapsed − elapsed), so
 * it lands on the grid point σ_{i+1}. The last step always takes the remaining time; no step is
 * negative.
 */
export function stepDt(sigmas: ArrayLike<number>, i: number, clock: Clock, rule: TimeRule,
  reuseScale: number | null): number {
  if (rule === 'proportional') {
    const dtc = redistributedDt(sigmas, i, clock);
    return reuseScale === null ? dtc : dtc * reuseScale;
  }
  const steps = sigmas.length - 1;
  const remaining = sigmas[0]! - sigmas[steps]! - clock.elapsed;
  if (i === steps - 1) return Math.max(0, remaining);
  const dtNom = sigmas[i]! - sigmas[i + 1]!;
  const dt = reuseScale === null ? dtNom + (clock.nomElapsed - clock.elapsed) : reuseScale * dtNom;
  return Math.max(0, Math.min(dt, remaining));
}
