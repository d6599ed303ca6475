// The families bench's pure parts: flags, the timed requests (never calibration or evaluation
// seeds; prompts for text models), and the report table. The bench itself (export, import,
// calibrate, time) runs only by hand: `npm run bench:families`.

import { describe, expect, it } from 'vitest';
import type { SpeedRow } from './speed.ts';
import { parseFamiliesArgs } from '../cli/families-args.ts';
import { BENCH_PROMPTS, familiesMarkdown, timedRequest } from './families.ts';

describe('parseFamiliesArgs', () => {
  it('defaults: every family, medium, 20 steps, budget 10, 3 pairs, 1 thread, Node and Chromium', () => {
    expect(parseFamiliesArgs([])).toEqual({
      families: ['dit', 'pixart', 'sd3', 'flux', 'wan'], size: 'medium', steps: 20, budget: 10, repeats: 3, threads: 1,
      node: true, browser: true, out: 'bench/families',
    });
    expect(parseFamiliesArgs(['--families', 'dit,flux', '--steps', '8', '--no-browser'])).toMatchObject({ families: ['dit', 'flux'], steps: 8, budget: 4, browser: false });
  });
  it('refuses unknown families, sizes and budgets above the steps, naming the flag', () => {
    expect(() => parseFamiliesArgs(['--families', 'dit,wan2'])).toThrow(/--families: unknown wan2/);
    expect(() => parseFamiliesArgs(['--size', 'large'])).toThrow(/--size/);
    expect(() => parseFamiliesArgs(['--steps', '6', '--budget', '7'])).toThrow(/--budget 7 is more than --steps 6/);
    expect(() => parseFamiliesArgs(['--repeats', '0'])).toThrow(/--repeats/);
  });
});

describe('timedRequest', () => {
  it('uses seeds from 2000 (outside calibration 0… and evaluation 1000–1009), labels or prompts', () => {
    expect(timedRequest(0, 'class', 1000)).toEqual({ seed: 2000, label: 0 });
    expect(timedRequest(13, 'class', 1000)).toEqual({ seed: 2013, label: 3 });
    expect(timedRequest(5, 'text', 0)).toEqual({ seed: 2005, prompt: BENCH_PROMPTS[1] });
  });
});

describe('familiesMarkdown', () => {
  it('one row per family and engine with step and reuse cost, measured and ideal speedup', () => {
    const speed: SpeedRow = { policy: 'ertacache', budget: 10, computedSteps: 10, msNone: 2000, msPolicy: 1250, speedup: 1.6,
      reuseCost: 0.05, reuseCostMedian: 0.05, idealSpeedup: 1.9, efficiency: 0.842 };
    const md = familiesMarkdown({
      date: '2026-12-02', command: 'npm run bench:families', machine: '2 × CPU',
      rows: [{ family: 'dit', size: 'medium', engine: 'node', threads: 1, steps: 20, budget: 10, params: null, stepMs: 100, reuseMs: 5, speed }],
      prepare: [{ family: 'dit', exportMs: null, importMs: 21_000, calibrateMs: 95_000, reuse: [3, 5] }], skipped: ['flux: no PyTorch'],
    });
    expect(md).toContain('| dit-medium | node | 1 | 20 | 10 | 100.0 | 5.0 | 0.05 | 2000 | 1250 | 1.60× | 1.90× | 84 % |');
    expect(md).toContain('| dit | cached | 21 | 95 | [3, 5] |');
    expect(md).toContain('- skipped: flux: no PyTorch');
  });
});
