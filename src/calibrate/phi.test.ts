import { describe, expect, it } from 'vitest';
import { phiForStep, phiLeastSquares } from './fit.ts';

describe('φ fits', () => {
  const v = Float32Array.of(1, -2, 3, 0.5);

  it('lsq: the scalar that maps ṽ onto v, clipped to [0, 1], averaged over samples', () => {
    expect(phiLeastSquares(v, v, 1)).toBeCloseTo(1, 12);
    expect(phiLeastSquares(v.map((x) => 2 * x), v, 1)).toBeCloseTo(0.5, 6); // overshoot ×2 → half step
    expect(phiLeastSquares(v.map((x) => -x), v, 1)).toBe(0); // opposite direction → no step
    expect(phiLeastSquares(v.map((x) => 0.5 * x), v, 1)).toBe(1); // would ask for 2: clipped
    const two = Float32Array.of(...v, ...v.map((x) => 2 * x));
    expect(phiLeastSquares(two, Float32Array.of(...v, ...v), 2)).toBeCloseTo(0.75, 6);
  });

  it('paper: 1 − ‖ṽ − v‖₁ / ‖v_i − v_{i+1}‖₁, so an error as large as the step-to-step change gives 0', () => {
    const next = v.map((x) => x + 0.1);
    expect(phiForStep(v, v, v, next, 1)).toBe(1);
    expect(phiForStep(next, v, v, next, 1)).toBeCloseTo(0, 6);
    expect(phiForStep(v.map((x) => x + 0.05), v, v, next, 1)).toBeCloseTo(0.5, 5);
  });
});
