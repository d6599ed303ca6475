// The browser backend's large-file path in Node: the storage check comes before any request, an
// IndexedDB that refuses to open still downloads (with a warning), and cache: false verifies in
// memory. The server is a fetch function answering Range requests from memory.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChunkStore } from '../storage/chunk-store.ts';
import { memoryRecordStore, type RecordStore } from '../storage/records.ts';
import { loadLargeFiles } from './large-files.ts';

const FILE = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) % 253);
const SHA = createHash('sha256').update(FILE).digest('hex');
const spec = { url: 'https://models.test/m/w.bin', sha256: SHA, bytes: FILE.byteLength, model: 'https://models.test/m/manifest.json' };

function server() {
  const ranges: (string | null)[] = [];
  const fetch = async (_url: string, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range');
    ranges.push(range);
    const start = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0);
    return new Response(FILE.slice(start), { status: range ? 206 : 200,
      headers: range ? { 'content-range': `bytes ${start}-${FILE.byteLength - 1}/${FILE.byteLength}` } : {} });
  };
  return { fetch, ranges };
}

function memoryStore(): ChunkStore {
  const chunks = new Map<string, Uint8Array>();
  return {
    kind: 'idb',
    write: async (key, index, _o, bytes) => void chunks.set(`${key}#${index}`, bytes.slice()),
    read: async (key, size, n) => {
      const parts = Array.from({ length: n }, (_, k) => chunks.get(`${key}#${k}`));
      return parts.every(Boolean) ? new Blob(parts as Uint8Array<ArrayBuffer>[]).slice(0, size) : null;
    },
    remove: async () => {},
  };
}

describe('loadLargeFiles', () => {
  it('checks the storage estimate before any request', async () => {
    const s = server();
    await expect(loadLargeFiles([spec], {}, { fetch: s.fetch, store: memoryStore(), records: memoryRecordStore(),
      estimate: async () => ({ quota: 100_000, usage: 0 }) })).rejects.toMatchObject({ code: 'STORAGE_QUOTA' });
    expect(s.ranges).toEqual([]);
  });

  it('downloads without resuming (and says so) when IndexedDB refuses to open', async () => {
    const s = server();
    const broken: RecordStore = { ...memoryRecordStore(), all: async () => { throw new Error('InvalidStateError'); } };
    const [f] = await loadLargeFiles([spec], { chunkBytes: 65536 }, { fetch: s.fetch, store: memoryStore(), records: broken });
    expect(f!.warnings.join()).toMatch(/IndexedDB is unavailable.*starts over/);
    expect(f!.downloaded).toBe(FILE.byteLength);
    expect(new Uint8Array(await (f!.data as Blob).arrayBuffer())).toEqual(FILE);
  });

  it('cache: false fetches into memory, verified, storing nothing', async () => {
    const s = server();
    const [f] = await loadLargeFiles([spec], { cache: false }, { fetch: s.fetch });
    expect(f!.data).toEqual(FILE);
    expect(s.ranges).toEqual([null]);
    await expect(loadLargeFiles([{ ...spec, sha256: '0'.repeat(64) }], { cache: false }, { fetch: s.fetch }))
      .rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH' });
  });
});
