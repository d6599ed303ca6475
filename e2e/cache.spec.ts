// Model files are kept in IndexedDB: a reload loads them with no request to the model files
// (even fully offline, the manifest then coming from its cached copy), and a corrupt entry is
// detected, dropped and fetched again. Provider-independent: runs in the wasm project only.

import { expect, generate, load, MODEL_URL, ok, readManifest, test } from './fixtures.ts';
import type { Page } from '@playwright/test';

const graphFiles = () => ['embed', 'blocks', 'head'].map((g) => readManifest().graphs[g]!);

async function reloadHarness(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => 'harness' in globalThis);
}

test('a reload loads from IndexedDB with the model URLs blocked', async ({ harness }) => {
  const first = ok(await load(harness, { provider: 'wasm' }));
  expect(first.downloadedBytes).toBe(graphFiles().reduce((s, f) => s + f.bytes, 0));
  expect(first.cachedFiles).toEqual([]);

  await reloadHarness(harness);
  const onnxRequests: string[] = [];
  harness.on('request', (r) => { if (r.url().endsWith('.onnx')) onnxRequests.push(r.url()); });
  await harness.route('**/*.onnx', (route) => route.abort());
  const second = ok(await load(harness, { provider: 'wasm' }));
  expect(second.downloadedBytes).toBe(0);
  expect(second.cachedFiles.sort()).toEqual(graphFiles().map((f) => f.file).sort());
  expect(onnxRequests).toEqual([]);

  // Fully offline: even the manifest request fails; its cached copy is used, with a warning.
  await harness.route('**/models/**', (route) => route.abort());
  await reloadHarness(harness);
  const offline = ok(await load(harness, { provider: 'wasm' }));
  expect(offline.downloadedBytes).toBe(0);
  expect(offline.warnings.join('\n')).toContain('cached manifest');
  ok(await generate(harness, { label: 4, seed: 1, steps: 2, guidance: 1 }));
});

test('a corrupt cache entry is detected and fetched again', async ({ harness }) => {
  ok(await load(harness, { provider: 'wasm' }));
  const blocks = readManifest().graphs['blocks']!;
  const url = new URL(MODEL_URL.replace('manifest.json', blocks.file), harness.url()).href;
  // Truncate the stored file, as an interrupted write or a disk error would.
  await harness.evaluate(async (key) => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('erta-diffusion');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    await new Promise<void>((res, rej) => {
      const tx = db.transaction('model-files', 'readwrite');
      tx.objectStore('model-files').put(new ArrayBuffer(1000), key);
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
    });
    db.close();
  }, `${url}#sha256=${blocks.sha256}`);

  await reloadHarness(harness);
  const repaired = ok(await load(harness, { provider: 'wasm' }));
  expect(repaired.downloadedBytes).toBe(blocks.bytes);
  expect(repaired.cachedFiles).not.toContain(blocks.file);
  expect(repaired.warnings.join('\n')).toContain('corrupt or partial');

  await reloadHarness(harness);
  const after = ok(await load(harness, { provider: 'wasm' }));
  expect(after.downloadedBytes).toBe(0); // the re-fetched file was stored again
});
