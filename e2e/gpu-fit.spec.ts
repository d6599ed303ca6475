// What the WebGPU adapter can hold, checked before any session: a model whose largest tensor is
// beyond the adapter's buffer limits gets ADAPTER_LIMITS naming the limit and both numbers (auto
// falls back to WASM and says why); an fp16 model on an adapter without shader-f16 (SwiftShader
// has none) gets SHADER_F16_UNAVAILABLE; and the fp16 model matches its fp32 twin on WASM within
// the stated tolerance (and on WebGPU where the adapter has shader-f16).

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { expect, generate, load, maxAbsDiff, MODEL_DIR, MODEL_URL, ok, test } from './fixtures.ts';

test.skip(({ provider }) => provider !== 'wasm', 'runs once: it uses WebGPU and WASM itself');

const { beforeAll, afterAll } = test;
/** fp16 vs fp32 twin, final image in model space ([-1, 1]): max |difference|. */
const FP16_TOLERANCE = 1e-2;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'erta-fit-'));
  // 'overflow': fp16 weights so large that the fp16 products overflow to Inf (then NaN).
  for (const [name, flag] of [['fp16', ['--fp16']], ['fp32', []], ['overflow', ['--fp16', '--gain', '1e6']]] as const) {
    await promisify(execFile)(join('node_modules', '.bin', 'tsx'), ['src/model-tool/main.ts', 'random', '--out', join(dir, name),
      '--layers', '2', '--mlp', '256', '--seed', '5', ...flag], { timeout: 120_000 });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Serves the generated models at /generated/<name>/… from disk (same origin as the page). */
async function serveGenerated(page: Page): Promise<void> {
  await page.route('**/generated/**', (route) => {
    const rel = new URL(route.request().url()).pathname.replace(/^\/generated\//, '');
    try {
      return route.fulfill({ status: 200, body: readFileSync(join(dir, rel.replace(/\.\./g, ''))) });
    } catch {
      return route.fulfill({ status: 404 });
    }
  });
}

async function adapterInfo(page: Page) {
  return page.evaluate(async () => {
    const a = await navigator.gpu.requestAdapter();
    return { f16: a!.features.has('shader-f16'), binding: a!.limits.maxStorageBufferBindingSize, buffer: a!.limits.maxBufferSize };
  });
}

test('a model needing a larger GPU buffer than the adapter allows: ADAPTER_LIMITS names the limit; auto falls back', async ({ harness }) => {
  const { binding, buffer } = await adapterInfo(harness);
  const huge = Math.max(binding, buffer) + 2 ** 20;
  const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8'));
  manifest.graphs.blocks.largestTensorBytes = huge; // what the model tool declares for a tensor this size
  await harness.route(`**${MODEL_URL}`, (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify(manifest) }));

  const forced = await load(harness, { provider: 'webgpu' });
  expect(forced.ok).toBe(false);
  if (forced.ok) return;
  expect(forced.error.code).toBe('ADAPTER_LIMITS');
  const limit = binding < huge ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  expect(forced.error.message).toContain(`a GPU buffer of ${huge} bytes`);
  expect(forced.error.message).toContain(`${limit} is ${limit === 'maxBufferSize' ? buffer : binding} bytes`);
  expect(forced.error.hint).toMatch(/wasm/);

  const auto = ok(await load(harness, { provider: 'auto' }));
  expect(auto.provider.used).toBe('wasm');
  expect(auto.provider.reason).toContain(limit);
});

test(`fp16 weights: SHADER_F16_UNAVAILABLE without shader-f16; within ${FP16_TOLERANCE} of the fp32 twin`, async ({ harness }) => {
  await serveGenerated(harness);
  const { f16 } = await adapterInfo(harness);
  const request = { label: 2, seed: 4, steps: 2, guidance: 2 };
  const run = async (name: string, provider: 'wasm' | 'webgpu') => {
    ok(await load(harness, { provider, cache: false }, `/generated/${name}/manifest.json`));
    return ok(await generate(harness, request)).image;
  };
  if (!f16) {
    const forced = await load(harness, { provider: 'webgpu', cache: false }, '/generated/fp16/manifest.json');
    expect(forced.ok ? 'loaded' : forced.error.code).toBe('SHADER_F16_UNAVAILABLE');
    const auto = ok(await load(harness, { provider: 'auto', cache: false }, '/generated/fp16/manifest.json'));
    expect(auto.provider.used).toBe('wasm');
    expect(auto.provider.reason).toContain('shader-f16');
  }
  const [half, full] = [await run('fp16', 'wasm'), await run('fp32', 'wasm')];
  const diff = maxAbsDiff(half, full);
  expect(diff).toBeGreaterThan(0); // the fp16 graph really ran in fp16
  expect(diff).toBeLessThan(FP16_TOLERANCE);
  if (f16) expect(maxAbsDiff(await run('fp16', 'webgpu'), await run('fp32', 'webgpu'))).toBeLessThan(FP16_TOLERANCE);
});

test('an fp16 model that overflows: NON_FINITE names the provider that produced it', async ({ harness }) => {
  await serveGenerated(harness);
  ok(await load(harness, { provider: 'wasm', cache: false }, '/generated/overflow/manifest.json'));
  const bad = await generate(harness, { label: 1, seed: 1, steps: 2, guidance: 1 });
  expect(bad.ok ? 'finished' : bad.error.code).toBe('NON_FINITE');
  if (!bad.ok) expect(bad.error.message).toMatch(/NaN at pixel \d+ on the wasm provider/);
});
