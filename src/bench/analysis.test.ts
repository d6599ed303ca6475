import { describe, expect, it } from 'vitest';
import { ertacacheVerdicts, summarisePhi } from './analysis.ts';
import type { BenchRow } from './report.ts';

const row = (policy: string, budget: number, psnr: number): BenchRow => ({
  policy, provider: 'onnxruntime-node', steps: 50, budget, computedSteps: budget, speedup: 1.5,
  idealSpeedup: 1.6, psnr, ssim: 0.99, classAccuracy: 0.9, fd: 10,
});

describe('ertacacheVerdicts', () => {
  it('says where ertacache wins, with the ablation chain', () => {
    const [v] = ertacacheVerdicts([row('uniform', 25, 39.6), row('magcache', 25, 41.9), row('ertacache-schedule', 25, 40.5),
      row('ertacache-schedule+dt', 25, 42.3), row('ertacache', 25, 42.4)]);
    expect(v).toContain('**Budget 25: ertacache wins** with 42.40 dB against the best peer, magcache, at 41.90 dB.');
    expect(v).toContain('the calibrated schedule +0.90 dB over uniform, the timestep adjustment +1.80 dB, rectification +0.10 dB');
  });

  it('says where it loses and blames the component that lost, with φ', () => {
    const rows = [row('uniform', 17, 32.3), row('teacache', 17, 34.3), row('ertacache-schedule', 17, 35.4),
      row('ertacache-schedule+dt', 17, 33.3), row('ertacache', 17, 33.3)];
    const [v] = ertacacheVerdicts(rows, [summarisePhi(17, [1, 0, 0.01, 0.5, 1], [1, 2, 3])]);
    expect(v).toContain('**Budget 17: ertacache does not win.** teacache gets 34.30 dB, ertacache 33.30 dB (−1.00 dB).');
    expect(v).toContain('the schedule alone gets 35.40 dB, more than every peer, and adding Δt′ costs 2.10 dB');
    expect(v).toContain('φ is below 0.05 on 2 of 3 reused steps (mean 0.17)');
  });

  it('skips budgets without an ertacache row or a peer', () => {
    expect(ertacacheVerdicts([row('uniform', 34, 40)])).toEqual([]);
  });
});
