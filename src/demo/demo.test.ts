// The demo's pure parts: bench results validated at the boundary, compare-mode numbers derived
// from the two runs' own stats and images, the heat-map colour scale, and the step summary.

import { describe, expect, it } from 'vitest';
import type { GenerateResult } from '../runtime/api.ts';
import { loadBenchResults, parseBenchResults, parseBenchRow, pickBenchResults } from './bench-data.ts';
import { compareResults } from './compare.ts';
import { errorTitle } from './errors.ts';
import { heatColor } from './heatmap.ts';
import { summarizeSteps } from './timeline.ts';

function result(totalMs: number, computed: number, image: Float32Array): GenerateResult {
  return { image, stats: { totalMs, computedSteps: computed, steps: 8 } } as unknown as GenerateResult;
}

describe('compareResults', () => {
  it('takes speedup and computed steps from the stats, PSNR/SSIM from the images in [0, 1]', () => {
    const ref = new Float32Array(28 * 28).map((_, k) => Math.sin(k) * 0.9);
    const cached = ref.map((v, k) => (k === 0 ? v + 0.2 : v)); // one pixel off by 0.1 in [0, 1]
    const c = compareResults(result(800, 8, ref), result(400, 4, cached), 28, 28);
    expect(c.speedup).toBe(2);
    expect([c.refComputed, c.cachedComputed, c.steps]).toEqual([8, 4, 8]);
    // MSE = 0.1² / 784 → PSNR = 10·log10(784 / 0.01)
    expect(c.psnr).toBeCloseTo(10 * Math.log10(784 / 0.01), 3);
    expect(c.ssim).toBeLessThan(1);
    expect(c.diff.maxAbs).toBeCloseTo(0.1, 5);
  });

  it('reports identical images as PSNR ∞ and SSIM 1', () => {
    const img = new Float32Array(28 * 28).map((_, k) => Math.cos(k));
    const c = compareResults(result(1, 8, img), result(1, 8, img), 28, 28);
    expect(c.psnr).toBe(Infinity);
    expect(c.ssim).toBeCloseTo(1, 6);
  });
});

describe('bench results', () => {
  it('keeps well-formed rows and accepts a lossless PSNR written as "Infinity"', () => {
    const load = parseBenchResults({ rows: [
      { policy: 'ertacache', provider: 'node', steps: 50, budget: 25, computedSteps: 25, speedup: 1.9, psnr: 31.2 },
      { policy: 'none', provider: 'node', speedup: 1, psnr: 'Infinity' },
      { provider: 'node', speedup: 2 }, // no policy: dropped
    ] });
    expect(load.state).toBe('ok');
    if (load.state !== 'ok') return;
    expect(load.rows.map((r) => [r.policy, r.psnr])).toEqual([['ertacache', 31.2], ['none', Infinity]]);
  });

  it('explains a file without rows instead of drawing nothing', () => {
    expect(parseBenchResults({})).toEqual({ state: 'invalid', reason: 'bench/results.json has no "rows" array' });
    expect(parseBenchRow({ policy: 'x', speedup: 'fast' })).toBeNull();
  });

  it('picks the results of the loaded model, and says when a model has none', () => {
    const row = { policy: 'none', provider: 'node', speedup: 1, psnr: null };
    const files = [{ model: 'mnist-dit', command: 'npm run bench', rows: [row] }, { model: 'emoji-dit', rows: [row, row] }];
    expect(pickBenchResults(files, 'emoji-dit')).toMatchObject({ state: 'ok', model: 'emoji-dit', rows: [{}, {}] });
    expect(pickBenchResults(files, 'mnist-dit')).toMatchObject({ state: 'ok', model: 'mnist-dit', command: 'npm run bench' });
    expect(pickBenchResults(files, 'wan-tiny')).toEqual({ state: 'missing', model: 'wan-tiny', bundled: ['mnist-dit', 'emoji-dit'] });
    expect(pickBenchResults([], 'mnist-dit')).toEqual({ state: 'missing', model: 'mnist-dit', bundled: [] });
  });

  it('bundles the committed results of both shipped models', () => {
    for (const model of ['mnist-dit', 'emoji-dit']) {
      const load = loadBenchResults(model);
      expect(load, model).toMatchObject({ state: 'ok', model });
      if (load.state === 'ok') expect(new Set(load.rows.map((r) => r.policy))).toContain('ertacache');
    }
  });
});

describe('small helpers', () => {
  it('heat colours run from black at 0 to pale yellow at full scale, clamped outside', () => {
    expect(heatColor(0)).toEqual([0, 0, 4]);
    expect(heatColor(1)).toEqual([252, 255, 164]);
    expect(heatColor(-1)).toEqual(heatColor(0));
    expect(heatColor(7)).toEqual(heatColor(1));
  });

  it('summarises steps with per-decision mean times', () => {
    const text = summarizeSteps([
      { i: 0, decision: 'compute', ms: 10 }, { i: 1, decision: 'reuse', ms: 2 }, { i: 2, decision: 'compute', ms: 30 },
    ]);
    expect(text).toBe('3 steps: 2 computed, 1 reused · total 42.0 ms · compute ≈ 20.0 ms/step · reuse ≈ 2.0 ms/step');
  });

  it('has a title for runtime codes and a generic one for codes it does not know', () => {
    expect(errorTitle('WEBGPU_UNAVAILABLE')).toBe('WebGPU is not available here');
    expect(errorTitle('SOMETHING_NEW')).toBe('Generation failed');
  });
});
