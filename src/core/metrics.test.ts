import { describe, expect, it } from 'vitest';
import { covariance, symmetricEigen } from './linalg.ts';
import { argmaxRows, classAccuracy, frechetDistance, psnr, ssim, toUnitRange } from './metrics.ts';

const grid = (w: number, h: number, f: (x: number, y: number) => number) =>
  Float64Array.from({ length: w * h }, (_, k) => f(k % w, Math.floor(k / w)));

describe('metrics', () => {
  it('psnr: MSE .01 on [0,1] is 20 dB; identical is Infinity', () => {
    expect(psnr([0, 0.2], [0.1, 0.1])).toBeCloseTo(20, 12);
    expect(psnr([0.3], [0.3])).toBe(Infinity);
    expect(Array.from(toUnitRange([-1, 0, 1, 3]))).toEqual([0, 0.5, 1, 1]);
  });

  it('ssim matches a scipy reference (Gaussian 11×11, σ 1.5, valid windows) to 1e-12', () => {
    // reference: scipy.signal.correlate2d(…, mode='valid') with the same window → 0.966386721879765
    const a = grid(16, 16, (x, y) => (Math.sin(0.7 * x + 0.3 * y) + 1) / 2);
    const b = grid(16, 16, (x, y) => Math.min(1, Math.max(0,
      ((Math.sin(0.7 * x + 0.3 * y) + 1) / 2) * 0.8 + 0.1 + 0.05 * Math.cos(1.3 * x * y))));
    expect(ssim(a, b, 16, 16)).toBeCloseTo(0.966386721879765, 12);
    expect(ssim(a, a, 16, 16)).toBeCloseTo(1, 14);
    expect(() => ssim(a, b, 8, 32)).toThrow(/sides ≥ 11/);
  });

  it('Jacobi reconstructs a symmetric matrix from its eigenpairs', () => {
    const f = 6;
    const x = Float64Array.from({ length: 20 * f }, (_, k) => Math.sin(k * 1.7) + (k % f) * 0.1);
    const a = covariance(x, 20, f);
    const { values, vectors } = symmetricEigen(a, f);
    for (let j = 0; j < f; j++) {
      for (let k = 0; k < f; k++) {
        let s = 0;
        for (let e = 0; e < f; e++) s += vectors[j * f + e]! * values[e]! * vectors[k * f + e]!;
        expect(s).toBeCloseTo(a[j * f + k]!, 12);
      }
    }
  });

  it('Fréchet distance matches scipy.linalg.sqrtm (0.5120774861727568); zero against itself', () => {
    const F = 5;
    const fract = (v: number) => v - Math.floor(v);
    const A = Float64Array.from({ length: 40 * F }, (_, k) => {
      const i = Math.floor(k / F), j = k % F;
      return fract(Math.sin(i * 12.9898 + j * 78.233) * 43758.5453) + 0.1 * j;
    });
    const B = Float64Array.from({ length: 30 * F }, (_, k) => {
      const i = Math.floor(k / F), j = k % F;
      return fract(Math.sin(i * 4.898 + j * 7.23) * 23421.631) * (1 + 0.2 * j) + 0.3;
    });
    expect(frechetDistance(A, B, F)).toBeCloseTo(0.5120774861727568, 10);
    expect(frechetDistance(A, A, F)).toBeCloseTo(0, 10);
  });

  it('classAccuracy over argmax of logits', () => {
    const pred = argmaxRows([0.1, 0.9, 0.8, 0.2, 0.3, 0.7], 2);
    expect(Array.from(pred)).toEqual([1, 0, 1]);
    expect(classAccuracy(pred, [1, 1, 1])).toBeCloseTo(2 / 3, 15);
  });
});
