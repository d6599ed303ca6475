// Failures a user can meet reach the page as distinct typed codes with a hint, intact across
// the worker boundary (RuntimeError instances, not bare Errors).

import { createHash } from 'node:crypto';
import { expect, generate, load, MODEL_URL, ok, test } from './fixtures.ts';

test('a 404 model URL is MODEL_NOT_FOUND', async ({ harness }) => {
  const r = await load(harness, { provider: 'wasm' }, '/models/no-such-model/manifest.json');
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('MODEL_NOT_FOUND');
  expect(r.error.isRuntimeError).toBe(true);
  expect(r.error.message).toContain('404');
  expect(r.error.hint.length).toBeGreaterThan(0);
});

test('a manifest with a wrong hash is MODEL_FILE_HASH_MISMATCH', async ({ harness }) => {
  await harness.route(`**${MODEL_URL}`, async (route) => {
    const manifest = await (await route.fetch()).json();
    manifest.graphs.blocks.sha256 = '0'.repeat(64);
    // Keep modelHash consistent with the listed hashes (else MODEL_HASH_MISMATCH comes first).
    manifest.modelHash = createHash('sha256')
      .update(Object.keys(manifest.graphs).sort().map((k) => manifest.graphs[k].sha256).join('')).digest('hex');
    await route.fulfill({ json: manifest });
  });
  const r = await load(harness, { provider: 'wasm' });
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('MODEL_FILE_HASH_MISMATCH');
  expect(r.error.message).toContain('blocks.onnx');
  expect(r.error.isRuntimeError).toBe(true);
});

test('generate before load is NOT_LOADED; a bad request is BAD_INPUT', async ({ harness }) => {
  const early = await generate(harness, { label: 1, seed: 1, steps: 2 });
  expect(!early.ok && early.error.code).toBe('NOT_LOADED');
  ok(await load(harness, { provider: 'wasm' }));
  const bad = await generate(harness, { label: 42, seed: 1, steps: 2 });
  expect(!bad.ok && bad.error.code).toBe('BAD_INPUT');
});
