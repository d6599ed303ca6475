// ε-prediction models (DiT, SD1/2-style VP diffusion) on the flow-matching sampler: DDIM is Euler
// in the variables of flow matching. With ᾱ_t the training schedule, α = √ᾱ, s = √(1−ᾱ):
//
//   σ = s / (α + s)          x_flow = x_vp / (α + s) = x_vp · √((1−σ)² + σ²)
//   v = ε − x̂₀ = (1 + r)·ε − x_vp / α,   r = s / α = σ / (1 − σ)
//
// An Euler step on x_flow with this v keeps x̂₀ and ε fixed across the step, exactly as DDIM (η = 0)
// does, so every cache policy, the σ-based time rules and the previews work unchanged: the
// adapter below converts x and σ on the way in (x_vp, the timestep t(σ) the model was trained on)
// and ε on the way out. The σ grid is the DDIM timesteps' σ ("trailing" spacing: 999 first), then 0.

import { BadInputError } from './errors.ts';
import type { Denoiser, SplitDenoiser, TensorOps } from './types.ts';
import { flowMatchSigmas } from './schedules.ts';

export interface DdimConfig {
  /** Training timesteps (1000 for DiT / SD). */
  trainTimesteps: number;
  betaSchedule: 'linear' | 'scaled_linear';
  betaStart: number;
  betaEnd: number;
}

export const DIT_DDIM: DdimConfig = { trainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 };

/** ᾱ_t for t = 0 … T−1 (diffusers' DDPMScheduler / DiT's gaussian_diffusion, float64). */
export function alphasCumprod(c: DdimConfig): Float64Array {
  const T = c.trainTimesteps;
  const out = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    const u = T === 1 ? 0 : t / (T - 1);
    const beta = c.betaSchedule === 'linear'
      ? c.betaStart + u * (c.betaEnd - c.betaStart)
      : (Math.sqrt(c.betaStart) + u * (Math.sqrt(c.betaEnd) - Math.sqrt(c.betaStart))) ** 2;
    prod *= 1 - beta;
    out[t] = prod;
  }
  return out;
}

const sigmaOf = (abar: number) => {
  const a = Math.sqrt(abar);
  const s = Math.sqrt(1 - abar);
  return s / (a + s);
};

/** The DDIM timesteps for `steps` steps ("trailing": round(T − i·T/steps) − 1, i = 0 … steps−1). */
export function ddimTimesteps(steps: number, c: DdimConfig): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > c.trainTimesteps) {
    throw new BadInputError(`DDIM steps must be an integer in [1, ${c.trainTimesteps}], got ${steps}`, 'pick fewer steps');
  }
  return Array.from({ length: steps }, (_, i) => Math.round(c.trainTimesteps - (i * c.trainTimesteps) / steps) - 1);
}

/** σ grid (steps + 1 values, last 0) for the sampler: the flow σ of each DDIM timestep. */
export function ddimSigmas(steps: number, c: DdimConfig): Float64Array {
  const abar = alphasCumprod(c);
  const out = new Float64Array(steps + 1);
  ddimTimesteps(steps, c).forEach((t, i) => {
    out[i] = sigmaOf(abar[t]!);
  });
  out[steps] = 0;
  return out;
}

/** The continuous training timestep whose σ is `sigma` (log-ᾱ interpolated between integers; clamped to [0, T−1]). */
export function timestepOf(sigma: number, abar: Float64Array): number {
  const T = abar.length;
  if (sigma >= sigmaOf(abar[T - 1]!)) return T - 1;
  if (sigma <= sigmaOf(abar[0]!)) return 0;
  const r = sigma / (1 - sigma);
  const target = Math.log(1 / (1 + r * r)); // log ᾱ, decreasing in t
  let lo = 0;
  let hi = T - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Math.log(abar[mid]!) >= target) lo = mid;
    else hi = mid;
  }
  const a = Math.log(abar[lo]!);
  const b = Math.log(abar[hi]!);
  return lo + (a === b ? 0 : (a - target) / (a - b));
}

/** The per-σ scalars of the conversion (see the top of this file). */
export function ddimScalars(sigma: number, abar: Float64Array): { t: number; k: number; r: number; alpha: number } {
  const t = timestepOf(sigma, abar);
  // σ past the schedule's end is read as its end: the model has never seen noisier inputs.
  const sMax = sigmaOf(abar[abar.length - 1]!);
  const sg = Math.min(sigma, sMax);
  const r = sg / (1 - sg);
  const alpha = 1 / Math.sqrt(1 + r * r);
  return { t, k: 1 / Math.sqrt((1 - sg) ** 2 + sg * sg), r, alpha };
}

/**
 * The model's ε output as flow velocity: the denoiser the sampler sees feeds the graphs x_vp and t
 * and returns v. `eps(x)` is the model's raw output tensor → ε (identity when the head already
 * returns ε only).
 */
export function epsilonAsVelocity<T>(den: Denoiser<T>, ops: TensorOps<T>, c: DdimConfig): Denoiser<T> {
  const abar = alphasCumprod(c);
  // v = (1 + r)·ε − x_vp/α as two axpys: w = x_vp − (1 + r)α·ε, v = −w/α.
  const velocity = (xv: T, eps: T, q: { r: number; alpha: number }): T => {
    const w = ops.axpy(xv, eps, -(1 + q.r) * q.alpha);
    try {
      return ops.axpy(w, w, -1 / q.alpha - 1);
    } finally {
      ops.dispose(w);
    }
  };
  const toVp = (x: T, k: number) => ops.axpy(x, x, k - 1);
  if (den.kind === 'single') {
    return {
      kind: 'single', outputLayout: den.outputLayout,
      async forward(x, sigma, labels) {
        const q = ddimScalars(sigma, abar);
        const xv = toVp(x, q.k);
        try {
          const eps = await den.forward(xv, q.t, labels);
          try {
            return velocity(xv, eps, q);
          } finally {
            ops.dispose(eps);
          }
        } finally {
          ops.dispose(xv);
        }
      },
    };
  }
  // embed sees x; head needs it again (the sampler disposes its x batch right after embed), so
  // the adapter keeps its own x_vp from embed until the next embed.
  let last: { xv: T; r: number; alpha: number } | null = null;
  const split: SplitDenoiser<T> = {
    kind: 'split', hiddenLayout: den.hiddenLayout, outputLayout: den.outputLayout,
    async embed(x, sigma, labels) {
      const q = ddimScalars(sigma, abar);
      if (last) ops.dispose(last.xv);
      last = null;
      const xv = toVp(x, q.k);
      try {
        const out = await den.embed(xv, q.t, labels);
        last = { xv, r: q.r, alpha: q.alpha };
        return out;
      } catch (e) {
        ops.dispose(xv);
        throw e;
      }
    },
    blocks: (h, cc, labels) => den.blocks(h, cc, labels),
    async head(z, cc) {
      if (!last) throw new BadInputError('head() called before embed()', 'run embed for this step first');
      const eps = await den.head(z, cc);
      try {
        return velocity(last.xv, eps, last);
      } finally {
        ops.dispose(eps);
      }
    },
  };
  return split;
}

/** The sampler's σ grid for a manifest's scheduler: DDIM's timesteps, or flow matching's (shifted) grid. */
export function samplerSigmas(s: { type: string; shift: number; ddim?: DdimConfig }, steps: number): Float64Array {
  return s.type === 'ddim' && s.ddim ? ddimSigmas(steps, s.ddim) : flowMatchSigmas(steps, s.shift);
}

/** The denoiser the sampler sees for a manifest's scheduler (ε-models wrapped, flow models as they are). */
export function schedulerDenoiser<T>(den: Denoiser<T>, ops: TensorOps<T>, s: { type: string; ddim?: DdimConfig }): Denoiser<T> {
  return s.type === 'ddim' && s.ddim ? epsilonAsVelocity(den, ops, s.ddim) : den;
}
