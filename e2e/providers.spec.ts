// Execution-provider choice as the user sees it: forced WebGPU without WebGPU is a typed error,
// 'auto' falls back to WASM and says why, and WASM threads depend on cross-origin isolation.

import type { Browser } from '@playwright/test';
import { CHROMIUM, chromiumArgs } from './browser.ts';
import { expect, generate, load, maxAbsDiff, ok, test } from './fixtures.ts';

test.describe('without WebGPU', () => {
  let browser: Browser;
  test.beforeAll(async ({ playwright }) => {
    // Debian's Chromium has no WebGPU adapter on Linux unless started with the WebGPU flags.
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) });
  });
  test.afterAll(() => browser.close());

  test('forced WebGPU is WEBGPU_UNAVAILABLE; auto falls back to WASM with the reason', async ({ baseURL }) => {
    const page = await browser.newPage({ baseURL });
    await page.goto('/e2e/harness.html');
    await page.waitForFunction(() => 'harness' in globalThis);
    const forced = await load(page, { provider: 'webgpu' });
    expect(forced.ok).toBe(false);
    if (forced.ok) return;
    expect(forced.error.code).toBe('WEBGPU_UNAVAILABLE');
    expect(forced.error.isRuntimeError).toBe(true);
    expect(forced.error.hint).toContain('wasm');

    const auto = ok(await load(page, { provider: 'auto' }));
    expect(auto.provider.used).toBe('wasm');
    expect(auto.provider.reason).toMatch(/^fallback to WASM/);
  });
});

test('WASM threads follow cross-origin isolation, and say so', async ({ harness }) => {
  const isolated = ok(await load(harness, { provider: 'wasm' }));
  expect(isolated.provider.crossOriginIsolated).toBe(true);
  expect(isolated.provider.threads).toBeGreaterThan(1);

  // The same page served without COOP/COEP: no SharedArrayBuffer, so one thread and a note.
  await harness.route('**/e2e/harness.html', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await harness.reload();
  await harness.waitForFunction(() => 'harness' in globalThis);
  expect(await harness.evaluate(() => crossOriginIsolated)).toBe(false);
  const single = ok(await load(harness, { provider: 'wasm' }));
  expect(single.provider.crossOriginIsolated).toBe(false);
  expect(single.provider.threads).toBe(1);
  expect(single.warnings.join('\n')).toContain('not cross-origin isolated');
});

test("ONNX Runtime's JSPI build where Chromium has JSPI; the asyncify build where JSPI's files are missing, with a note; the same image", async ({ harness }) => {
  const request = { label: 3, seed: 5, steps: 4, guidance: 1, policy: { kind: 'none' as const } };
  expect(await harness.evaluate(() => typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending)).toBe('function');
  const jspi = ok(await load(harness, { provider: 'wasm' }));
  expect(jspi.provider.ortBuild).toBe('jspi');
  expect(jspi.provider.notes.join('\n')).not.toContain('JSPI');
  const a = ok(await generate(harness, request));

  // A deployment whose ort/ holds only the asyncify pair (copied before the JSPI build was used).
  // (Forcing the asyncify build, the client's ortBuild option, takes the same path: ort-files.test.ts.)
  await harness.route('**/ort/ort-wasm-simd-threaded.jspi.*', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await harness.goto('/e2e/harness.html');
  await harness.waitForFunction(() => 'harness' in globalThis);
  const fallback = ok(await load(harness, { provider: 'wasm' }));
  expect(fallback.provider.ortBuild).toBe('asyncify');
  expect(fallback.provider.notes.join('\n')).toMatch(/JSPI build is not deployed .*ort-wasm-simd-threaded\.jspi\.mjs answered HTTP 404/);
  expect(maxAbsDiff(ok(await generate(harness, request)).image, a.image)).toBeLessThan(1e-5);
});
