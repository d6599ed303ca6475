// Full-compute trajectories over the calibration batch (ertacache.md (a).1), recording what
// the fits need: the guided velocity at every step (φ's reference), the final samples (the
// error reference), TeaCache's indicator/output changes and MagCache's residual norm ratios.

import { advanceClock, redistributedDt, START_CLOCK } from '../core/schedules.ts';
import type { ChannelLayout } from '../core/types.ts';
import type { HostModel } from './batch.ts';
import { axpy, guideRows, relL1PerSample, sub } from './host-math.ts';

export interface Profile {
  sigmas: Float64Array;
  steps: number;
  /** Guided velocity v_ref,i per step, N × sampleSize. */
  vRef: Float32Array[];
  /** Full-compute final samples, N × sampleSize. */
  final: Float32Array;
  /** [step][sample] mean|F_i − F_{i−1}| / mean|F_{i−1}| of block 0's modulated input (step 0: NaN). */
  indicatorRel: Float64Array[];
  /** [step][sample] the same for the raw model output of both branches (step 0: NaN). */
  outputRel: Float64Array[];
  /** [step] mean over rows and tokens of ‖r_i‖₂ / ‖r_{i−1}‖₂ over the hidden dim (step 0: 1). */
  residualNormRatio: number[];
}

/** ‖·‖₂ over the channel axis for every token: token of element k = ⌊k/(C·inner)⌋·inner + k % inner. */
export function tokenNorms(r: Float32Array, layout: ChannelLayout): Float64Array {
  const { channels, inner } = layout;
  const out = new Float64Array(r.length / channels);
  for (let k = 0; k < r.length; k++) {
    const token = Math.floor(k / (channels * inner)) * inner + (k % inner);
    out[token]! += r[k]! * r[k]!;
  }
  return out.map(Math.sqrt);
}

function meanRatio(num: Float64Array, den: Float64Array): number {
  let s = 0;
  for (let k = 0; k < num.length; k++) s += den[k]! > 0 ? num[k]! / den[k]! : 1;
  return s / num.length;
}

/** Run every step computed (Δ = Δnom, so actual and nominal time coincide). */
export async function profileTrajectories(model: HostModel, sigmas: Float64Array): Promise<Profile> {
  const { batch } = model;
  const steps = sigmas.length - 1;
  const rows = batch.samples; // per-sample statistics span both branch rows of a sample
  const p: Profile = { sigmas, steps, vRef: [], final: batch.noise, indicatorRel: [], outputRel: [], residualNormRatio: [] };
  let x = batch.noise;
  let clock = START_CLOCK;
  let prev: { mod0: Float32Array; out: Float32Array; norms: Float64Array } | null = null;
  for (let i = 0; i < steps; i++) {
    const e = await model.embed(x, sigmas[i]!);
    const z = await model.blocks(e);
    const out = await model.head(z, e);
    const norms = tokenNorms(sub(z, e.h), model.hiddenLayout);
    const v = guideRows(out, batch, model.guidance);
    p.vRef.push(v);
    p.indicatorRel.push(prev ? relL1PerSample(e.mod0, prev.mod0, rows) : new Float64Array(rows).fill(NaN));
    p.outputRel.push(prev ? relL1PerSample(out, prev.out, rows) : new Float64Array(rows).fill(NaN));
    p.residualNormRatio.push(prev ? meanRatio(norms, prev.norms) : 1);
    prev = { mod0: e.mod0, out, norms };
    const dt = redistributedDt(sigmas, i, clock); // = Δnom_i here; the sampler's exact arithmetic
    x = axpy(x, v, -dt);
    clock = advanceClock(sigmas, i, clock, dt);
  }
  p.final = x;
  return p;
}
