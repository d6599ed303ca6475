// The WGSL step arithmetic equals the Float32Array reference ops, counts its read-backs, and
// reuses its buffers (no growth when a generation's shapes come round again).

import { expect, test } from './fixtures.ts';
import type { OpsReport } from './ops-check.ts';

test('WGSL ops match the CPU reference ops', async ({ page, provider }) => {
  test.skip(provider !== 'webgpu', 'WebGPU only');
  await page.goto('/e2e/ops-check.html');
  await page.waitForFunction(() => 'checkOps' in globalThis);
  const report = await page.evaluate(() => (globalThis as unknown as { checkOps(): Promise<OpsReport> }).checkOps());
  expect(report.checks.map((c) => c.op)).toEqual(['fromHost/read', 'add', 'sub', 'tile', 'guidance', 'axpy',
    'rectify hidden', 'rectify output']);
  for (const c of report.checks) {
    expect(c.length, c.op).toBeGreaterThan(0);
    // f32 on both sides; the reference rounds once from f64, WGSL per operation: a few ulps.
    expect(c.maxDiff, c.op).toBeLessThan(1e-5);
  }
  expect(Math.abs(report.relL1[0] - report.relL1[1])).toBeLessThan(1e-5 * report.relL1[1]);
  // Each of the 6 rounds: 8 reads of compared results + 1 relL1 scalar; nothing else reads back.
  expect(report.readbacks).toBe(6 * 9);
  expect(report.pooledAfter).toBe(report.pooledBefore);
});
