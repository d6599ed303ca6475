// The OPFS chunk store's honesty about failures, against a fake Origin Private File System (Node
// has none): a sync-access-handle write that returns an impossible byte count (2^32 − 8, an error
// code cast to unsigned, as a full disk produced in the 1.2 GB bench) is a typed STORAGE_QUOTA that
// says the disk is full, a real short write stays STORAGE_QUOTA, and neither chunk counts as
// stored; a stored file that cannot be opened is STORAGE_IO naming it, never taken for a missing
// file (which would download hundreds of MB again without a word); a file that is really gone is
// downloaded again with a warning first. The real OPFS failures run in e2e/large-model.spec.ts.

import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { opfsAvailable, opfsChunkStore, writeCountError } from './chunk-store.ts';
import { downloadFile, recordKey } from './download.ts';
import { memoryRecordStore } from './records.ts';

const CHUNK = 64 * 1024;
const FILE = Uint8Array.from({ length: 5 * CHUNK + 1000 }, (_, i) => (i * 131) % 251);
const SHA = createHash('sha256').update(FILE).digest('hex');
const spec = { url: 'https://models.test/m/blocks.weights.0.bin', sha256: SHA, bytes: FILE.byteLength, model: 'https://models.test/m/manifest.json' };

/** What the fake file system does: per call, a value or a DOMException name to throw. */
interface Faults {
  /** The value write() returns for chunk `at / CHUNK` (default: the byte count). */
  written?: (at: number, length: number) => number;
  getFileHandle?: string;
  getFile?: string;
  createFile?: string;
}

function fakeOpfs(faults: Faults) {
  const files = new Map<string, Uint8Array>();
  const throwIf = (name: string | undefined) => {
    if (name) throw new DOMException(`fake ${name}`, name);
  };
  const fileHandle = (name: string) => ({
    kind: 'file',
    async getFile() {
      throwIf(faults.getFile);
      return new File([files.get(name)! as Uint8Array<ArrayBuffer>], name);
    },
    async createSyncAccessHandle() {
      return {
        write(buffer: Uint8Array, options?: { at?: number }) {
          const at = options?.at ?? 0;
          const answer = faults.written?.(at, buffer.byteLength) ?? buffer.byteLength;
          const kept = Math.min(buffer.byteLength, answer); // what a short (or failed) write leaves
          const old = files.get(name)!;
          const next = new Uint8Array(Math.max(old.byteLength, at + kept));
          next.set(old);
          next.set(buffer.subarray(0, kept), at);
          files.set(name, next);
          return answer;
        },
        flush() {},
        close() {},
      };
    },
  });
  const folder = {
    async getFileHandle(name: string, options?: { create?: boolean }) {
      throwIf(faults.getFileHandle);
      if (!files.has(name)) {
        if (!options?.create) throw new DOMException('fake: not found', 'NotFoundError');
        throwIf(faults.createFile);
        files.set(name, new Uint8Array(0));
      }
      return fileHandle(name);
    },
    async removeEntry(name: string) {
      if (!files.delete(name)) throw new DOMException('fake: not found', 'NotFoundError');
    },
  };
  const root = { ...folder, getDirectoryHandle: async () => folder };
  return { files, root };
}

function server() {
  const ranges: string[] = [];
  const fetch = async (_url: string, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range') ?? '';
    ranges.push(range);
    const start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0);
    return new Response(FILE.slice(start), { status: 206,
      headers: { 'content-range': `bytes ${start}-${FILE.byteLength - 1}/${FILE.byteLength}` } });
  };
  return { fetch, ranges };
}

let faults: Faults;
let fs: ReturnType<typeof fakeOpfs>;
beforeEach(() => {
  faults = {};
  fs = fakeOpfs(faults);
  vi.stubGlobal('navigator', { storage: { getDirectory: async () => fs.root } });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('writeCountError', () => {
  it('reads 2^32 − 8 as the disk being full (FILE_ERROR_NO_SPACE), not as a short write', () => {
    const e = writeCountError(4294967288, 8388608, 'storing chunk 47 of x.bin');
    expect(e.code).toBe('STORAGE_QUOTA');
    expect(e.message).toMatch(/disk is full.*4294967288 = 2\^32 − 8, Chromium's FILE_ERROR_NO_SPACE/);
    expect(e.hint).toMatch(/free disk space/);
    expect(e.hint).toMatch(/deleteCachedModel/);
  });

  it('a real short write stays STORAGE_QUOTA; other error codes and impossible counts are STORAGE_IO', () => {
    expect(writeCountError(100, 65536, 'w')).toMatchObject({ code: 'STORAGE_QUOTA', message: expect.stringMatching(/wrote 100 of 65536 bytes/) });
    expect(writeCountError(2 ** 32 - 16, 65536, 'w')).toMatchObject({ code: 'STORAGE_IO', message: expect.stringMatching(/FILE_ERROR_IO/) });
    expect(writeCountError(70000, 65536, 'w')).toMatchObject({ code: 'STORAGE_IO', message: expect.stringMatching(/returned 70000, not a byte count/) });
  });
});

describe('opfsChunkStore', () => {
  it('a write answered with 2^32 − 8 is STORAGE_QUOTA (disk full), and that chunk is not recorded as stored', async () => {
    faults.written = (at, n) => (at === 3 * CHUNK ? 2 ** 32 - 8 : n);
    const records = memoryRecordStore();
    const s = server();
    const err = await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, chunkBytes: CHUNK }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_QUOTA', name: 'WebBackendError' });
    const { message, hint } = err as { message: string; hint: string };
    expect(message).toMatch(/blocks\.weights\.0\.bin needs \d+ bytes .* more/);
    expect(message).toMatch(/the disk is full .*FILE_ERROR_NO_SPACE/);
    expect(message).not.toMatch(/wrote 4294967288/);
    expect(hint).toMatch(/free disk space on this device/);
    const r = (await records.get(recordKey(spec)))!;
    expect(r.done.sort()).toEqual([0, 1, 2]);
    expect(r.verified).toBe(false);
  });

  it('a real short write is STORAGE_QUOTA; the next load rewrites that chunk and the file verifies', async () => {
    let once = true;
    faults.written = (at, n) => (at === 2 * CHUNK && once ? ((once = false), 1000) : n);
    const records = memoryRecordStore();
    const s = server();
    await expect(downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, chunkBytes: CHUNK }))
      .rejects.toMatchObject({ code: 'STORAGE_QUOTA', message: expect.stringMatching(/wrote 1000 of 65536 bytes/) });
    expect((await records.get(recordKey(spec)))!.done).toEqual([0, 1]);
    const d = await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, chunkBytes: CHUNK });
    expect(s.ranges).toEqual(['bytes=0-', `bytes=${2 * CHUNK}-`]);
    expect(new Uint8Array(await d.blob.arrayBuffer())).toEqual(FILE);
  });

  it('read: a file that is not there is null; one that is there but cannot be opened is STORAGE_IO naming it', async () => {
    const store = opfsChunkStore();
    expect(await store.read('https://models.test/a.bin#sha256=ab', 10, 1)).toBeNull();
    await store.write('https://models.test/a.bin#sha256=ab', 0, 0, new Uint8Array(10));
    faults.getFile = 'NotReadableError';
    await expect(store.read('https://models.test/a.bin#sha256=ab', 10, 1)).rejects.toMatchObject({
      code: 'STORAGE_IO', message: expect.stringMatching(/https:\/\/models\.test\/a\.bin \(OPFS file erta-diffusion-models\/[0-9a-f]{32}\) is stored but .*NotReadableError/),
    });
    faults.getFile = undefined;
    faults.getFileHandle = 'TypeMismatchError'; // a directory where the file should be
    await expect(store.read('https://models.test/a.bin#sha256=ab', 10, 1)).rejects.toMatchObject({ code: 'STORAGE_IO' });
  });

  it('a verified file that cannot be opened is STORAGE_IO with no request, and stays stored for the next load', async () => {
    const records = memoryRecordStore();
    const s = server();
    await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, chunkBytes: CHUNK });
    const requests = s.ranges.length;
    faults.getFile = 'NotReadableError';
    const warnings: string[] = [];
    await expect(downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, onWarning: (m) => warnings.push(m) }))
      .rejects.toMatchObject({ code: 'STORAGE_IO', hint: expect.stringMatching(/close other tabs.*deleteCachedModel/) });
    expect(s.ranges.length).toBe(requests);
    expect((await records.get(recordKey(spec)))!.verified).toBe(true);
    faults.getFile = undefined;
    const again = await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch });
    expect(again).toMatchObject({ fromCache: true, downloaded: 0 });
    expect(s.ranges.length).toBe(requests);
    expect(warnings).toEqual([]);
  });

  it('a verified file that is gone is downloaded again, with a warning before the first request', async () => {
    const records = memoryRecordStore();
    const s = server();
    await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch, chunkBytes: CHUNK });
    fs.files.clear();
    const seenAtWarning: number[] = [];
    const warnings: string[] = [];
    const d = await downloadFile(spec, { store: opfsChunkStore(), records, fetch: s.fetch,
      onWarning: (m) => { warnings.push(m); seenAtWarning.push(s.ranges.length); } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/blocks\.weights\.0\.bin: the stored copy .* is no longer in this browser's storage .*downloading it again/);
    expect(seenAtWarning).toEqual([1]);
    expect(d).toMatchObject({ fromCache: false, downloaded: FILE.byteLength });
  });

  it('a download record IndexedDB refuses to save (full disk) is a typed error, and that chunk does not count', async () => {
    const records = memoryRecordStore();
    let puts = 0;
    const refusing = { ...records, put: async (r: Parameters<typeof records.put>[0]) => {
      if (++puts > 2) throw new DOMException('Internal error opening backing store for indexedDB.open.', 'UnknownError');
      return records.put(r);
    } };
    const s = server();
    await expect(downloadFile(spec, { store: opfsChunkStore(), records: refusing, fetch: s.fetch, chunkBytes: CHUNK }))
      .rejects.toMatchObject({ code: 'STORAGE_IO', message: expect.stringMatching(/download record of .*blocks\.weights\.0\.bin could not be saved.*backing store/),
        hint: expect.stringMatching(/free disk space/) });
    expect((await records.get(recordKey(spec)))!.done).toEqual([0, 1]);
  });

  it('opfsAvailable writes nothing: a disk that cannot take a new file still uses the OPFS chunks it has', async () => {
    faults.createFile = 'QuotaExceededError';
    vi.stubGlobal('FileSystemFileHandle', class { createSyncAccessHandle() {} });
    expect(await opfsAvailable()).toBe(true);
    expect(fs.files.size).toBe(0);
  });
});
