import { describe, expect, it } from 'vitest';
import { qualitySpeedSvg } from './chart.ts';
import type { OverheadResult } from './overhead.ts';
import { headline, overheadMarkdown, rowsMarkdown, speedVerdict, type BenchRow } from './report.ts';

const row = (policy: string, budget: number | null, speedup: number, psnr: number): BenchRow => ({
  policy, provider: 'onnxruntime-node', steps: 50, budget, computedSteps: budget ?? 50, speedup,
  idealSpeedup: budget ? 50 / budget : 1, psnr, ssim: 0.9, classAccuracy: 0.9, fd: 10,
});

describe('bench report', () => {
  const rows = [row('none', null, 1, Infinity), row('uniform', 25, 1.9, 30), row('ertacache', 25, 1.8, 40),
    row('uniform', 17, 2.7, 25), row('ertacache', 17, 2.6, 33)];

  it('writes one table per budget, each headed by the full-compute reference', () => {
    const md = rowsMarkdown(rows, 50);
    expect(md.match(/### Budget/g)).toHaveLength(2);
    expect(md.match(/\| none \|/g)).toHaveLength(2);
    expect(md).toContain('| ertacache | 25.0 / 50 | 1.80× | 2.00× | 0.90 | 40.00 |');
  });

  it('draws one line per policy with a point per budget, and leaves out the reference', () => {
    const svg = qualitySpeedSvg(rows, 'test');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(4);
    expect(svg).not.toContain('>none<');
  });

  it('puts ertacache and the best peer at budget 25 in the headline', () => {
    const h = headline([...rows, row('magcache', 25, 1.85, 35), row('teacache', 25, 2.0, 31)]);
    expect(h).toContain('At budget 25 of 50');
    expect(h).toContain('**ertacache** 1.80× (ideal 2.00×), 40.00 dB');
    expect(h).toContain('the best peer, **magcache** 1.85×');
  });

  it('judges the 3 % overhead goal on the shipped models and marks test models', () => {
    const o = (model: string, overhead: number, testModel?: boolean): OverheadResult => ({
      model, steps: 8, pairs: 3, msRuntime: 1 + overhead, msBare: 1, overhead, cpuMsRuntime: null, cpuMsBare: null,
      cpuOverhead: null, ...(testModel ? { testModel } : {}) });
    const ok = overheadMarkdown([o('mnist-dit', 0.01), o('emoji-dit', 0.02), o('tiny-t2i', 0.07, true)]);
    expect(ok).toContain('| tiny-t2i (test model) |');
    expect(ok).toContain('Every shipped model is within 3 % (largest: 2.0 %)');
    const over = overheadMarkdown([o('mnist-dit', 0.01), o('emoji-dit', 0.04)]);
    expect(over).toContain('Over 3 %: emoji-dit (4.0 %)');
    expect(over).not.toContain('Every shipped model');
  });

  it('shows a row\'s 95 % interval beside measured/ideal', () => {
    const md = rowsMarkdown([row('none', null, 1, Infinity), { ...row('ertacache', 25, 1.9, 40), efficiencyCi: [0.93, 0.99] }], 50);
    expect(md).toContain('| ertacache | 25.0 / 50 | 1.90× | 2.00× | 0.95 (0.93–0.99) | 40.00 |');
  });

  it('judges the speed criterion: rows within 5 %, the rows outside with their intervals, and which are outside beyond the noise', () => {
    const r = (policy: string, efficiency: number, ci: [number, number]) => ({ policy, budget: 25, efficiency, efficiencyCi: ci, pairs: 64 });
    const noise = speedVerdict('Node', [r('a', 1.0, [0.98, 1.02]), r('b', 0.94, [0.92, 0.96]), r('c', 1.02, [1.0, 1.04])]);
    expect(noise).toContain('**Node:** 2 of 3 rows within 5 % of the ideal (measured/ideal 0.940–1.020; 64 timed pairs a row).');
    expect(noise).toContain('Outside: b at 25 0.940 (95 % interval 0.920–0.960).');
    expect(noise).toContain('Every row\'s interval reaches into 0.95–1.05.');
    const real = speedVerdict('Node', [r('a', 1.0, [0.98, 1.02]), r('b', 0.9, [0.88, 0.93])]);
    expect(real).toContain('Outside beyond the noise (the whole interval out): b at 25.');
    expect(speedVerdict('Node', [r('a', 1.0, [0.98, 1.02])])).toContain('1 of 1 rows within 5 %');
    expect(speedVerdict('Node', [])).toBe('');
  });
});
