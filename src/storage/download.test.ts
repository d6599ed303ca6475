// Resumable chunked downloads against a real HTTP server (node:http) that honours Range requests
// and can drop the connection mid-body: finished chunks are never fetched again, a new call (a
// reload) resumes from the stored chunks, the whole is verified by sha256, a verified file is
// served from storage with no request, and a storage estimate too small is a typed error.
// The chunk store here keeps chunks in memory (OPFS and IndexedDB run in the browser test,
// e2e/large-model.spec.ts).

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkStore } from './chunk-store.ts';
import { deleteCachedModel, listCachedModels } from './cached-models.ts';
import { bytesToDownload, checkStorage, downloadFile, recordKey, sha256OfBlob, type DownloadSpec } from './download.ts';
import { memoryRecordStore } from './records.ts';

function memoryChunkStore(): ChunkStore & { chunks: Map<string, Uint8Array> } {
  const chunks = new Map<string, Uint8Array>();
  return {
    kind: 'idb', chunks,
    async write(key, index, _o, bytes) { chunks.set(`${key}#${index}`, bytes.slice()); },
    async read(key, size, n) {
      const parts: Uint8Array[] = [];
      for (let k = 0; k < n; k++) {
        const c = chunks.get(`${key}#${k}`);
        if (!c) return null;
        parts.push(c);
      }
      const b = new Blob(parts as Uint8Array<ArrayBuffer>[]);
      return b.size === size ? b : null;
    },
    async remove(key, n) { for (let k = 0; k < n; k++) chunks.delete(`${key}#${k}`); },
  };
}

const FILE = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 251);
const SHA = createHash('sha256').update(FILE).digest('hex');
const CHUNK = 64 * 1024;

interface Log { ranges: (string | undefined)[]; sent: number }
let server: Server;
let base = '';
/** Per-path behaviour: drop the connection after `dropAfter` bytes on the first `drops` requests. */
const behaviour: Record<string, { drops: number; dropAfter: number; ignoreRange?: boolean; body?: Uint8Array; status?: number }> = {};
const logs: Record<string, Log> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url!;
    const b = behaviour[path] ?? { drops: 0, dropAfter: 0 };
    const body = b.body ?? FILE;
    const log = (logs[path] ??= { ranges: [], sent: 0 });
    log.ranges.push(req.headers.range);
    if (b.status) {
      res.writeHead(b.status).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !b.ignoreRange ? Number(m[1]) : 0;
    const part = body.subarray(start);
    res.writeHead(m && !b.ignoreRange ? 206 : 200, {
      'content-length': part.byteLength,
      ...(m && !b.ignoreRange ? { 'content-range': `bytes ${start}-${body.byteLength - 1}/${body.byteLength}` } : {}),
    });
    if (b.drops > 0) {
      b.drops -= 1;
      log.sent += b.dropAfter;
      res.write(part.subarray(0, b.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    log.sent += part.byteLength;
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const spec = (path: string, sha256 = SHA): DownloadSpec => ({ url: `${base}${path}`, sha256, bytes: FILE.byteLength, model: `${base}/m/manifest.json` });

describe('downloadFile', () => {
  it('survives dropped connections without fetching a finished chunk twice, and verifies the whole', async () => {
    behaviour['/a.bin'] = { drops: 2, dropAfter: 300_000 };
    const store = memoryChunkStore();
    const records = memoryRecordStore();
    const progress: number[] = [];
    const d = await downloadFile(spec('/a.bin'), { store, records, chunkBytes: CHUNK, onProgress: (l) => progress.push(l) });
    expect(d.fromCache).toBe(false);
    expect(await sha256OfBlob(d.blob)).toBe(SHA);
    // 3 requests: from 0, then from the first chunk not stored after each drop (chunk-aligned).
    expect(logs['/a.bin']!.ranges).toEqual(['bytes=0-', `bytes=${4 * CHUNK}-`, `bytes=${8 * CHUNK}-`]);
    // Re-fetched only the partial chunk of each drop: less than one chunk per drop.
    expect(logs['/a.bin']!.sent - FILE.byteLength).toBeLessThan(2 * CHUNK);
    expect(progress.at(-1)).toBe(FILE.byteLength);
    // Never backwards (the partial chunk lost with a drop holds the count until passed again), and
    // at least one event per stored chunk, however the bytes were split into reads.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBeGreaterThanOrEqual(Math.ceil(FILE.byteLength / CHUNK));
    expect((await records.get(recordKey(spec('/a.bin'))))!.verified).toBe(true);
  });

  it('byte progress never goes back across a drop, and comes per stored chunk even when one read brings many', async () => {
    // A fetch whose bodies arrive as the test says: the first response as one 300 KB piece, then
    // the connection fails; the retry in 10 KB pieces. Then a whole file as one piece.
    const fetchFn = (pieces: (start: number) => number[] | 'drop') => async (_u: string, init?: RequestInit) => {
      const start = Number(/bytes=(\d+)-/.exec(new Headers(init?.headers).get('range') ?? '')?.[1] ?? 0);
      const plan = pieces(start);
      const body = new ReadableStream<Uint8Array>({ start(c) {
        if (plan === 'drop') {
          c.enqueue(FILE.slice(start, start + 300_000));
          c.error(new TypeError('network error'));
          return;
        }
        let at = start;
        for (const n of plan) { c.enqueue(FILE.slice(at, at + n)); at += n; }
        c.close();
      } });
      return new Response(body, { status: 206, headers: { 'content-range': `bytes ${start}-${FILE.byteLength - 1}/${FILE.byteLength}` } });
    };
    const tens = (start: number) => Array.from({ length: Math.ceil((FILE.byteLength - start) / 10_000) }, (_, k) => Math.min(10_000, FILE.byteLength - start - k * 10_000));
    const progress: number[] = [];
    let first = true;
    await downloadFile(spec('/p.bin'), { store: memoryChunkStore(), records: memoryRecordStore(), chunkBytes: CHUNK, onProgress: (l) => progress.push(l),
      fetch: fetchFn((start) => (first ? ((first = false), 'drop') : tens(start))) });
    expect(progress).toContain(300_000);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const whole: number[] = [];
    await downloadFile(spec('/q.bin'), { store: memoryChunkStore(), records: memoryRecordStore(), chunkBytes: CHUNK, onProgress: (l) => whole.push(l),
      fetch: fetchFn((start) => [FILE.byteLength - start]) });
    expect(new Set(whole).size).toBe(Math.ceil(FILE.byteLength / CHUNK));
  });

  it('resumes after a "reload" (a new call over the same storage) from the stored chunks; the third load makes no request', async () => {
    behaviour['/b.bin'] = { drops: 1, dropAfter: 500_000 };
    const store = memoryChunkStore();
    const records = memoryRecordStore();
    await expect(downloadFile(spec('/b.bin'), { store, records, chunkBytes: CHUNK, retries: 0 }))
      .rejects.toMatchObject({ code: 'NETWORK', message: expect.stringMatching(/458752 of 1000000 bytes are stored/) });
    expect(await bytesToDownload([spec('/b.bin')], { store, records })).toBe(FILE.byteLength - 7 * CHUNK);
    const d = await downloadFile(spec('/b.bin'), { store, records, chunkBytes: 1024 }); // the record's chunk size wins
    expect(logs['/b.bin']!.ranges).toEqual(['bytes=0-', `bytes=${7 * CHUNK}-`]);
    expect(d.downloaded).toBe(FILE.byteLength - 7 * CHUNK);
    const again = await downloadFile(spec('/b.bin'), { store, records });
    expect(again.fromCache).toBe(true);
    expect(logs['/b.bin']!.ranges).toHaveLength(2);
    expect(await sha256OfBlob(again.blob)).toBe(SHA);
  });

  it('takes a whole-file answer from a server that ignores Range', async () => {
    behaviour['/c.bin'] = { drops: 1, dropAfter: 200_000, ignoreRange: true };
    const store = memoryChunkStore();
    const d = await downloadFile(spec('/c.bin'), { store, records: memoryRecordStore(), chunkBytes: CHUNK });
    expect(await sha256OfBlob(d.blob)).toBe(SHA);
    expect(logs['/c.bin']!.ranges).toHaveLength(2);
  });

  it('drops the stored chunks of a file whose sha256 is not the declared one', async () => {
    const store = memoryChunkStore();
    const records = memoryRecordStore();
    await expect(downloadFile(spec('/d.bin', 'ab'.repeat(32)), { store, records, chunkBytes: CHUNK }))
      .rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH' });
    expect(store.chunks.size).toBe(0);
    expect(await records.all()).toHaveLength(0);
  });

  it('refuses a body longer than declared; a 404 is MODEL_FILE_MISSING, no connection NETWORK', async () => {
    behaviour['/e.bin'] = { drops: 0, dropAfter: 0, body: new Uint8Array(FILE.byteLength + 10) };
    await expect(downloadFile(spec('/e.bin'), { store: memoryChunkStore(), records: memoryRecordStore(), chunkBytes: CHUNK }))
      .rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH', message: expect.stringMatching(/larger than/) });
    behaviour['/404.bin'] = { drops: 0, dropAfter: 0, status: 404 };
    await expect(downloadFile(spec('/404.bin'), { store: memoryChunkStore(), records: memoryRecordStore() }))
      .rejects.toMatchObject({ code: 'MODEL_FILE_MISSING', message: expect.stringMatching(/HTTP 404/) });
    const offline = { ...spec('/x.bin'), url: 'http://127.0.0.1:9/x' };
    await expect(downloadFile(offline, { store: memoryChunkStore(), records: memoryRecordStore(), retries: 0 }))
      .rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringMatching(/resumes/) });
  });
});

describe('storage estimate and cached models', () => {
  it('STORAGE_QUOTA names the bytes needed and available', async () => {
    const estimate = async () => ({ quota: 10 * 2 ** 20, usage: 9 * 2 ** 20 });
    await expect(checkStorage(3 * 2 ** 20, estimate)).rejects.toMatchObject({
      code: 'STORAGE_QUOTA', message: expect.stringMatching(/needs 3145728 bytes \(3\.0 MiB\).*grants this site 1048576 bytes/),
      hint: expect.stringMatching(/free at least 2\.0 MiB/),
    });
    await expect(checkStorage(2 ** 20, estimate)).resolves.toBeUndefined();
  });

  it('lists stored models with their completeness, and deletes one model\'s chunks and records', async () => {
    behaviour['/f.bin'] = { drops: 1, dropAfter: 200_000 };
    const store = memoryChunkStore();
    const records = memoryRecordStore();
    await downloadFile(spec('/g.bin'), { store, records, chunkBytes: CHUNK });
    await downloadFile({ ...spec('/f.bin'), model: 'other' }, { store, records, chunkBytes: CHUNK, retries: 0 }).catch(() => {});
    const list = await listCachedModels(records);
    expect(list.map((m) => [m.model, m.files, m.complete, m.storedBytes])).toEqual(expect.arrayContaining([
      [`${base}/m/manifest.json`, 1, true, FILE.byteLength], ['other', 1, false, 3 * CHUNK],
    ]));
    // deleteCachedModel goes through the real store of the record's kind; records alone here.
    const removed = await deleteCachedModel('other', records, async () => {});
    expect(removed).toBe(1);
    expect((await listCachedModels(records)).map((m) => m.model)).toEqual([`${base}/m/manifest.json`]);
  });
});
