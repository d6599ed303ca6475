import { describe, expect, it } from 'vitest';
import { bestPeer, CACHE_PEERS, ertacacheVerdicts, summarisePhi } from './analysis.ts';
import type { BenchRow } from './report.ts';

const row = (policy: string, budget: number, psnr: number): BenchRow => ({
  policy, provider: 'onnxruntime-node', steps: 50, budget, computedSteps: budget, speedup: 1.5,
  idealSpeedup: 1.6, psnr, ssim: 0.99, classAccuracy: 0.9, fd: 10,
});

describe('ertacacheVerdicts', () => {
  const rows = [row('uniform', 25, 39.6), row('magcache', 25, 41.9), row('easycache', 25, 40.1), row('taylorseer', 25, 47),
    row('taylorseer-2', 25, 44), row('ertacache-schedule', 25, 40.5), row('ertacache-paper', 25, 38.2),
    row('ertacache-schedule+dt', 25, 44.3), row('ertacache', 25, 44.4), row('ertacache-forecast', 25, 48.0),
    row('ertacache-forecast+rect', 25, 47.5)];

  it('compares ertacache with the best non-forecasting peer and the forecast with every peer, against the 2 dB target', () => {
    const [v] = ertacacheVerdicts(rows, [summarisePhi(25, [1, 0.5, 0.25, 1], [1, 2], { phiPaper: [1, 0, 0.01, 1], timeRule: 'carry' })]);
    expect(v).toContain('ertacache 44.40 dB against the best non-forecasting peer, magcache, at 41.90 dB (+2.50 dB): the ≥ 2 dB target is met.');
    expect(v).toContain('ertacache-forecast 48.00 dB against the best peer, taylorseer, at 47.00 dB (+1.00 dB): it wins, but the ≥ 2 dB target is **not met**.');
    expect(v).toContain('Ablation ladder: uniform 39.60 dB → the calibrated schedule +0.90 dB → + calibrated φ +3.80 dB → '
      + '+ forecast +3.70 dB → + rectification −0.50 dB.');
    expect(v).toContain("The paper's φ formula gets 38.20 dB, the searched φ 44.30 dB (+6.10 dB): the formula is below 0.05 on 2 of 2 "
      + 'reused steps (mean 0.01), the search chose mean 0.38 with the carry time rule.');
  });

  it('says plainly when a method loses', () => {
    const [v] = ertacacheVerdicts([row('teacache', 17, 38), row('ertacache', 17, 37)]);
    expect(v).toBe('**Budget 17.** ertacache 37.00 dB against the best non-forecasting peer, teacache, at 38.00 dB (−1.00 dB): '
      + 'it **loses**; the target is not met.');
  });

  it('bestPeer picks among the peers asked for', () => {
    expect(bestPeer(rows, 25)?.policy).toBe('taylorseer');
    expect(bestPeer(rows, 25, CACHE_PEERS)?.policy).toBe('magcache');
  });

  it('skips budgets without an ertacache row or a peer', () => {
    expect(ertacacheVerdicts([row('uniform', 34, 40)])).toEqual([]);
  });
});
