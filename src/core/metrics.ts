// Fidelity and sample-quality metrics (shared/design/evaluation.md). Images are planar
// [C, H, W] Float32Arrays mapped to [0, 1] (toUnitRange) before psnr / ssim.

import { BadInputError } from './errors.ts';
import { columnMeans, covariance, matmul, sqrtSymmetric, symmetricEigen } from './linalg.ts';

/** Map model pixels in [lo, hi] (default [−1, 1]) to [0, 1], clipping outliers. */
export function toUnitRange(x: ArrayLike<number>, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = Math.min(1, Math.max(0, (x[k]! - lo) / (hi - lo)));
  return out;
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length || a.length === 0) {
    throw new BadInputError(`${what}: inputs have ${a.length} and ${b.length} elements`, 'compare images of one size');
  }
}

/** PSNR in dB = 10·log10(range² / MSE); Infinity for identical inputs. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, range = 1): number {
  sameLength(a, b, 'psnr');
  let se = 0;
  for (let k = 0; k < a.length; k++) se += (a[k]! - b[k]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((range * range) / mse);
}

/** Normalised 2-D Gaussian window, size×size, as in Wang et al. 2004 (11, σ = 1.5). */
function gaussianWindow(size: number, sd: number): Float64Array {
  const w = new Float64Array(size * size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = Math.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * sd * sd));
      w[y * size + x] = v;
      sum += v;
    }
  }
  for (let k = 0; k < w.length; k++) w[k]! /= sum;
  return w;
}

export interface SsimOptions {
  channels?: number; // planar channels (default 1); SSIM is averaged over them
  range?: number; // dynamic range L (default 1 for [0, 1] images)
}

/**
 * Mean SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): 11×11 Gaussian window with σ = 1.5,
 * K1 = 0.01, K2 = 0.03, over 'valid' window positions only (as the reference MATLAB code;
 * skimage's default instead uses a 7×7 uniform window). Needs width, height ≥ 11.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number,
  options: SsimOptions = {}): number {
  const channels = options.channels ?? 1;
  const range = options.range ?? 1;
  sameLength(a, b, 'ssim');
  if (a.length !== channels * width * height || width < 11 || height < 11) {
    throw new BadInputError(`ssim needs ${channels}×${height}×${width} images with sides ≥ 11, got ${a.length} values`,
      'pass planar [C, H, W] data and its width and height');
  }
  const win = gaussianWindow(11, 1.5);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  let total = 0;
  let count = 0;
  for (let ch = 0; ch < channels; ch++) {
    const off = ch * width * height;
    for (let y = 0; y + 11 <= height; y++) {
      for (let x = 0; x + 11 <= width; x++) {
        total += windowSsim(a, b, off, width, x, y, win, c1, c2);
        count++;
      }
    }
  }
  return total / count;
}

/** SSIM of one window (Wang et al. eq. 13) with Gaussian-weighted statistics. */
function windowSsim(a: ArrayLike<number>, b: ArrayLike<number>, off: number, width: number,
  x0: number, y0: number, win: Float64Array, c1: number, c2: number): number {
  let ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
  for (let y = 0; y < 11; y++) {
    for (let x = 0; x < 11; x++) {
      const w = win[y * 11 + x]!;
      const k = off + (y0 + y) * width + x0 + x;
      const va = a[k]!;
      const vb = b[k]!;
      ma += w * va; mb += w * vb;
      saa += w * va * va; sbb += w * vb * vb; sab += w * va * vb;
    }
  }
  const va = saa - ma * ma;
  const vb = sbb - mb * mb;
  const cov = sab - ma * mb;
  return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
}

/**
 * Fréchet distance between Gaussians fitted to two feature sets (n×f and m×f row-major):
 * ‖μa − μb‖² + Tr(Σa + Σb − 2·(Σa·Σb)^½)   (Heusel et al. 2017, as FID).
 * Tr((Σa·Σb)^½) = Σ √λ(√Σa·Σb·√Σa): that matrix is symmetric PSD, so Jacobi applies.
 */
export function frechetDistance(a: ArrayLike<number>, b: ArrayLike<number>, f: number): number {
  if (f < 1 || a.length % f !== 0 || b.length % f !== 0 || a.length < 2 * f || b.length < 2 * f) {
    throw new BadInputError(`frechetDistance needs ≥ 2 rows of ${f} features in each set`, 'pass n×f row-major features');
  }
  const n = a.length / f;
  const m = b.length / f;
  const muA = columnMeans(a, n, f);
  const muB = columnMeans(b, m, f);
  const covA = covariance(a, n, f);
  const covB = covariance(b, m, f);
  const rootA = sqrtSymmetric(covA, f);
  const inner = matmul(matmul(rootA, covB, f), rootA, f);
  for (let j = 0; j < f; j++) { // symmetrise away rounding before the eigen-solver
    for (let k = j + 1; k < f; k++) {
      const s = (inner[j * f + k]! + inner[k * f + j]!) / 2;
      inner[j * f + k] = s;
      inner[k * f + j] = s;
    }
  }
  let traceRoot = 0;
  for (const lam of symmetricEigen(inner, f).values) traceRoot += Math.sqrt(Math.max(lam, 0));
  let dist = 0;
  let trace = 0;
  for (let j = 0; j < f; j++) {
    dist += (muA[j]! - muB[j]!) ** 2;
    trace += covA[j * f + j]! + covB[j * f + j]!;
  }
  return Math.max(0, dist + trace - 2 * traceRoot);
}

/** Index of the largest logit in each row of an n×classes matrix. */
export function argmaxRows(logits: ArrayLike<number>, classes: number): Int32Array {
  const n = Math.floor(logits.length / classes);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[r * classes + k]! > logits[r * classes + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/** Fraction of predictions equal to their labels. */
export function classAccuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  sameLength(predicted, labels, 'classAccuracy');
  let hits = 0;
  for (let k = 0; k < labels.length; k++) if (predicted[k] === labels[k]) hits++;
  return hits / labels.length;
}
