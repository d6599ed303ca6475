// The bench page `npm run bench` drives in Chromium (src/bench/browser/): it times the real
// worker with the interleaved A/B protocol and scores the timed pairs. Short runs here; the
// numbers themselves belong to the benchmark, this checks that the page measures what it says.

import { expect, MODEL_URL, test } from './fixtures.ts';
import type { BrowserBenchConfig, BrowserBenchResult } from '../src/bench/browser/page.ts';

test('the bench page times ertacache and a budgeted uniform run against none on the real worker', async ({ page, provider }) => {
  test.skip(provider !== 'wasm', 'one provider is enough for the page logic; WebGPU timing is slow on SwiftShader');
  await page.goto('/src/bench/browser/bench.html');
  await page.waitForFunction(() => 'ertaBench' in globalThis);
  const cfg: BrowserBenchConfig = {
    manifestUrl: MODEL_URL, provider: 'wasm', steps: 8, repeats: 2, warmup: 'first-case', wasmThreads: 1,
    cases: [{ policy: 'ertacache', kind: 'ertacache', budget: 5 }, { policy: 'uniform', kind: 'uniform', budget: 5 }],
  };
  const res = await page.evaluate((c) => (globalThis as unknown as {
    ertaBench: { run: (c: BrowserBenchConfig) => Promise<BrowserBenchResult> };
  }).ertaBench.run(c), cfg);

  expect(res.provider.used).toBe('wasm');
  // the bench's one WASM thread (the client's wasmThreads), though the page is cross-origin isolated
  expect(res.provider).toMatchObject({ threads: 1, crossOriginIsolated: true });
  expect(res.steps).toBe(8);
  expect(res.rows.map((r) => [r.policy, r.budget, r.computedSteps, r.pairs])).toEqual([['ertacache', 5, 5, 2], ['uniform', 5, 5, 2]]);
  for (const r of res.rows) {
    expect(r.msNone).toBeGreaterThan(0);
    expect(r.speedup).toBeGreaterThan(0); // the median of the pairs' ratios (speed.test.ts)
    expect(r.idealSpeedup).toBeGreaterThan(1);
    expect(r.idealSpeedup).toBeLessThanOrEqual(8 / 5 + 1e-9);
    expect(r.reuseCost).toBeGreaterThan(0);
    // cached images are close to, but not the same as, full compute of the same seed
    expect(r.psnr).toBeGreaterThan(15);
    expect(Number.isFinite(r.psnr)).toBe(true);
    expect(r.ssim).toBeGreaterThan(0.5);
    expect(r.ssim).toBeLessThan(1);
  }
});
