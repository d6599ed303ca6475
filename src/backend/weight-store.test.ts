// The model-file store with injected fetch and key-value store: hits make no request, corrupt
// entries are re-fetched, quota errors degrade to an uncached load with a warning, and HTTP /
// network / hash failures are distinct codes.

import { describe, expect, it } from 'vitest';
import { cacheKey, loadJsonDocument, loadModelFile, sha256Hex, type KeyValueStore } from './weight-store.ts';

const BYTES = new Uint8Array(40_000).map((_, k) => (k * 7) % 251);

function memoryStore(failSet?: Error): KeyValueStore & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async (k) => map.get(k),
    set: async (k, v) => { if (failSet) throw failSet; map.set(k, v); },
    del: async (k) => { map.delete(k); },
  };
}

function fakeFetch(body: Uint8Array | string | Error, status = 200) {
  const calls: string[] = [];
  const fn = async (url: string) => {
    calls.push(url);
    if (body instanceof Error) throw body;
    return new Response(typeof body === 'string' ? body : (body as Uint8Array<ArrayBuffer>), { status });
  };
  return { calls, fn };
}

async function spec() {
  return { url: 'https://x.test/m/blocks.onnx', sha256: await sha256Hex(BYTES), bytes: BYTES.byteLength };
}

describe('loadModelFile', () => {
  it('fetches with progress and verifies, then serves the stored copy without a request', async () => {
    const s = await spec();
    const store = memoryStore();
    const net = fakeFetch(BYTES);
    const progress: number[] = [];
    const first = await loadModelFile(s, { onProgress: (l) => progress.push(l) }, net.fn, store);
    expect(first.fromCache).toBe(false);
    expect(progress.at(-1)).toBe(BYTES.byteLength);
    const second = await loadModelFile(s, {}, net.fn, store);
    expect(second.fromCache).toBe(true);
    expect(second.bytes).toEqual(BYTES);
    expect(net.calls.length).toBe(1);
  });

  it('drops a corrupt or partial entry and fetches again', async () => {
    const s = await spec();
    const store = memoryStore();
    store.map.set(cacheKey(s), BYTES.slice(0, 1000).buffer);
    const net = fakeFetch(BYTES);
    const r = await loadModelFile(s, {}, net.fn, store);
    expect(r.fromCache).toBe(false);
    expect(r.warnings.join()).toContain('corrupt or partial');
    expect(new Uint8Array(store.map.get(cacheKey(s)) as ArrayBuffer)).toEqual(BYTES);
  });

  it('loads without caching, with a warning, when the quota is exceeded', async () => {
    const quota = Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    const r = await loadModelFile(await spec(), {}, fakeFetch(BYTES).fn, memoryStore(quota));
    expect(r.bytes).toEqual(BYTES);
    expect(r.warnings.join()).toContain('storage quota exceeded');
  });

  it('gives distinct codes for a wrong hash, an HTTP error and a failed network', async () => {
    const s = { ...(await spec()), sha256: '0'.repeat(64) };
    await expect(loadModelFile(s, {}, fakeFetch(BYTES).fn, memoryStore()))
      .rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH' });
    await expect(loadModelFile(s, {}, fakeFetch('nope', 404).fn, memoryStore()))
      .rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
    await expect(loadModelFile(s, {}, fakeFetch(new TypeError('Failed to fetch')).fn, memoryStore()))
      .rejects.toMatchObject({ code: 'NETWORK' });
  });
});

describe('loadJsonDocument', () => {
  it('is network-first, falls back to the stored copy only when offline, never on a 404', async () => {
    const store = memoryStore();
    const url = 'https://x.test/m/manifest.json';
    expect((await loadJsonDocument(url, 'manifest', {}, fakeFetch('{"a":1}').fn, store)).fromCache).toBe(false);
    const offline = await loadJsonDocument(url, 'manifest', {}, fakeFetch(new TypeError('offline')).fn, store);
    expect(offline).toMatchObject({ json: { a: 1 }, fromCache: true });
    await expect(loadJsonDocument(url, 'manifest', {}, fakeFetch('gone', 404).fn, store))
      .rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});

describe('bounded and corrupt inputs', () => {
  it('a corrupt cached manifest while offline is NETWORK (typed), and the entry is dropped', async () => {
    const store = memoryStore();
    const url = 'https://x.test/m/manifest.json';
    store.map.set(`json:${url}`, '{"format": "erta-diff');
    const e = await loadJsonDocument(url, 'manifest', {}, fakeFetch(new TypeError('offline')).fn, store).catch((x) => x);
    expect(e).toMatchObject({ code: 'NETWORK' });
    expect(e.message).toMatch(/cached copy of the manifest was corrupt/);
    expect(store.map.has(`json:${url}`)).toBe(false);
    store.map.set(`json:${url}`, 42); // not even a string
    await expect(loadJsonDocument(url, 'manifest', {}, fakeFetch(new TypeError('offline')).fn, store))
      .rejects.toMatchObject({ code: 'NETWORK' });
  });

  it('an absurdly large JSON document is MANIFEST_TOO_LARGE; a model file longer than declared stops early', async () => {
    const big = `{"pad":"${'x'.repeat(5 * 2 ** 20)}"}`;
    await expect(loadJsonDocument('https://x.test/m/manifest.json', 'manifest', { cache: false }, fakeFetch(big).fn))
      .rejects.toMatchObject({ code: 'MANIFEST_TOO_LARGE' });
    const s = { ...(await spec()), bytes: 1000 };
    await expect(loadModelFile(s, { cache: false }, fakeFetch(BYTES).fn))
      .rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH' });
  });
});
