// Elementwise and per-sample arithmetic on host arrays, with the runtime's float32 rounding
// (each result stored in a Float32Array, as the CPU ops do), so simulated trajectories match
// the sampler's.

import type { CalibBatch } from './batch.ts';

export function sub(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k]! - b[k]!;
  return out;
}

export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k]! + b[k]!;
  return out;
}

/** x + s·v (the Euler step with s = −Δ). */
export function axpy(x: Float32Array, v: Float32Array, s: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = x[k]! + s * v[k]!;
  return out;
}

/** CFG per sample on interleaved rows [c_0, u_0, c_1, u_1, …]: vU + w·(vC − vU). */
export function guideRows(v2: Float32Array, batch: CalibBatch, w: number): Float32Array {
  if (batch.branches === 1) return v2;
  const n = batch.sampleSize;
  const out = new Float32Array(batch.samples * n);
  for (let p = 0; p < batch.samples; p++) {
    for (let k = 0; k < n; k++) {
      const vc = v2[2 * p * n + k]!;
      const vu = v2[(2 * p + 1) * n + k]!;
      out[p * n + k] = vu + w * (vc - vu);
    }
  }
  return out;
}

/** ‖a_p − b_p‖₁ per sample p (b = null: ‖a_p‖₁), for arrays laid out sample after sample. */
export function l1PerSample(a: Float32Array, b: Float32Array | null, samples: number): Float64Array {
  const per = a.length / samples;
  const out = new Float64Array(samples);
  for (let p = 0; p < samples; p++) {
    let s = 0;
    for (let k = p * per; k < (p + 1) * per; k++) s += Math.abs(a[k]! - (b === null ? 0 : b[k]!));
    out[p] = s;
  }
  return out;
}

/** ‖a_p − b_p‖₁ / ‖b_p‖₁ per sample (0/0 = 0). */
export function relL1PerSample(a: Float32Array, b: Float32Array, samples: number): Float64Array {
  const num = l1PerSample(a, b, samples);
  const den = l1PerSample(b, null, samples);
  return num.map((v, p) => (den[p]! > 0 ? v / den[p]! : v > 0 ? Infinity : 0));
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < xs.length; k++) s += xs[k]!;
  return xs.length > 0 ? s / xs.length : NaN;
}
