import { describe, expect, it } from 'vitest';
import { qualitySpeedSvg } from './chart.ts';
import { headline, rowsMarkdown, type BenchRow } from './report.ts';

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
});
