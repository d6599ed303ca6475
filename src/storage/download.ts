// Downloads that survive: a model file fetched with HTTP Range requests from the first chunk not
// yet stored, each chunk stored as soon as it is complete (one chunk in memory at a time), its
// index recorded, byte progress reported as it streams; a dropped connection is retried from the
// next missing chunk, and a reload (a new load()) resumes the same way. The whole file is then
// checked against the manifest's sha256, read back in slices (never one buffer). A verified file
// loads the next time from storage with no request at all.

import { sha256 } from '@noble/hashes/sha2.js';
import { manifestError } from '../manifest/errors.ts';
import type { FetchFn } from '../backend/http.ts';
import { describe, WebBackendError } from '../backend/web-errors.ts';
import { chunkStoreOf, type ChunkStore } from './chunk-store.ts';
import { chunkCount, storedBytes, type FileRecord, type RecordStore } from './records.ts';

export interface DownloadSpec {
  url: string;
  sha256: string;
  bytes: number;
  /** The manifest URL of the model the file belongs to (for listing and deleting). */
  model: string;
}

export interface DownloadDeps {
  store: ChunkStore;
  records: RecordStore;
  fetch?: FetchFn;
  /** Chunk size of new downloads (default 8 MiB); a resumed download keeps its own. */
  chunkBytes?: number;
  /** Broken connections retried within one call (default 3); after that a NETWORK error. */
  retries?: number;
  onProgress?: (loaded: number, total: number) => void;
  /** Told at once (before any bytes move) when stored data is gone and will be downloaded again. */
  onWarning?: (message: string) => void;
  /** Storage estimate (default navigator.storage.estimate). */
  estimate?: () => Promise<{ quota?: number; usage?: number }>;
}

export interface Downloaded {
  blob: Blob;
  fromCache: boolean;
  /** Bytes fetched over the network by this call. */
  downloaded: number;
}

export const DEFAULT_CHUNK_BYTES = 8 * 2 ** 20;
const HASH_SLICE = 8 * 2 ** 20;

export const recordKey = (spec: Pick<DownloadSpec, 'url' | 'sha256'>) => `${spec.url}#sha256=${spec.sha256}`;

function freshRecord(spec: DownloadSpec, chunkBytes: number, store: ChunkStore): FileRecord {
  return { key: recordKey(spec), url: spec.url, sha256: spec.sha256, bytes: spec.bytes, chunkBytes, done: [],
    verified: false, model: spec.model, store: store.kind, updated: Date.now() };
}

/** The record to continue from (a stale or foreign one is dropped with its chunks, and said so if it held any). */
async function currentRecord(spec: DownloadSpec, deps: DownloadDeps): Promise<FileRecord> {
  const chunkBytes = deps.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const r = await deps.records.get(recordKey(spec));
  if (r && r.bytes === spec.bytes && r.store === deps.store.kind && r.chunkBytes > 0) return r;
  if (r) {
    if (r.done.length > 0) {
      deps.onWarning?.(`${spec.url}: ${r.verified ? 'the stored copy' : `${mb(storedBytes(r))} already stored`} `
        + `(${r.store === deps.store.kind ? `${r.bytes} bytes, not the ${spec.bytes} the manifest declares` : `in ${storeName(r.store)}, which this page uses no longer: it stores in ${storeName(deps.store.kind)}`}) `
        + `is dropped; downloading ${mb(spec.bytes)} again`);
    }
    await forget(r, deps);
  }
  return freshRecord(spec, chunkBytes, deps.store);
}

const storeName = (kind: FileRecord['store']) => (kind === 'opfs' ? 'OPFS' : kind === 'idb' ? 'IndexedDB' : 'the small-file cache');

async function forget(r: FileRecord, deps: Pick<DownloadDeps, 'store' | 'records'>): Promise<void> {
  // The chunks go from the store that holds them (a record of another store's kind: that store).
  const holder = r.store === deps.store.kind ? deps.store : r.store === 'kv' ? null : chunkStoreOf(r.store);
  await holder?.remove(r.key, chunkCount(r.bytes, r.chunkBytes)).catch(() => {});
  await deps.records.remove(r.key).catch(() => {});
}

/**
 * A record (no chunks yet) for each file that has none, before any download starts: the stored
 * models list then knows every file of the model and cannot call a model whose later shards never
 * arrived "complete".
 */
export async function registerDownloads(specs: readonly DownloadSpec[], deps: Pick<DownloadDeps, 'records' | 'store' | 'chunkBytes'>): Promise<void> {
  for (const spec of specs) {
    // Best effort (it only serves the list): a records store that refuses writes fails the download itself, typed.
    if (!(await deps.records.get(recordKey(spec)))) await deps.records.put(freshRecord(spec, deps.chunkBytes ?? DEFAULT_CHUNK_BYTES, deps.store)).catch(() => {});
  }
}

/** Bytes still to download for these files (what storage must hold beyond what it has). */
export async function bytesToDownload(specs: readonly DownloadSpec[], deps: Pick<DownloadDeps, 'records' | 'store'>): Promise<number> {
  let need = 0;
  for (const spec of specs) {
    const r = await deps.records.get(recordKey(spec));
    const usable = r && r.bytes === spec.bytes && r.store === deps.store.kind;
    need += usable ? (r.verified ? 0 : spec.bytes - storedBytes(r)) : spec.bytes;
  }
  return need;
}

/**
 * The record saved, or a typed error: IndexedDB refuses writes on a full disk ("Internal error
 * opening backing store", QuotaExceededError). A chunk whose record was not saved does not count.
 */
async function saveRecord(deps: Pick<DownloadDeps, 'records'>, r: FileRecord): Promise<void> {
  try {
    await deps.records.put(r);
  } catch (e) {
    const quota = isQuotaError(e);
    throw new WebBackendError(quota ? 'STORAGE_QUOTA' : 'STORAGE_IO',
      `the download record of ${r.url} could not be saved in IndexedDB (${describe(e)}); ${storedBytes(r)} of ${r.bytes} bytes were stored`,
      'free disk space on this device (IndexedDB fails this way when the disk is full) or delete stored models '
        + '(deleteCachedModel(), or the demo\'s "Stored models" list), then load again; or load with { cache: false }', { cause: e });
  }
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** STORAGE_QUOTA unless the origin's storage can take `needed` more bytes. */
export async function checkStorage(needed: number, estimate?: DownloadDeps['estimate']): Promise<void> {
  if (needed <= 0) return;
  const get = estimate ?? (typeof navigator !== 'undefined' && navigator.storage?.estimate ? () => navigator.storage.estimate() : null);
  if (!get) return;
  const { quota, usage } = await get().catch(() => ({} as { quota?: number; usage?: number }));
  if (quota === undefined || usage === undefined) return;
  const free = quota - usage;
  if (needed <= free) return;
  throw new WebBackendError('STORAGE_QUOTA',
    `this model needs ${needed} bytes (${mb(needed)}) more storage, but the browser grants this site ${Math.max(0, free)} `
      + `bytes (${mb(Math.max(0, free))}: quota ${mb(quota)}, used ${mb(usage)})`,
    `free at least ${mb(needed - free)}: delete cached models (cachedModels() / deleteCachedModel(), or the demo's `
      + `"Stored models" list) or other site data, then load again; or load with { cache: false } (nothing is stored)`);
}

function rangeStart(res: Response, asked: number): number {
  if (res.status === 200) return 0; // the server ignored Range: the whole file comes
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : asked;
}

function isQuotaError(e: unknown): boolean {
  const r = e as { name?: unknown; code?: unknown } | null;
  return r?.code === 'STORAGE_QUOTA' || r?.name === 'QuotaExceededError' || (!(e instanceof WebBackendError) && /quota/i.test(describe(e)));
}

/**
 * A chunk into the store; a full quota or disk (which the estimate did not foresee) is
 * STORAGE_QUOTA, any other refusal STORAGE_IO. A chunk is recorded as stored only after this
 * returns, so a failed write leaves nothing that counts as complete.
 */
async function writeChunk(store: ChunkStore, r: FileRecord, index: number, buf: Uint8Array): Promise<void> {
  try {
    await store.write(r.key, index, index * r.chunkBytes, buf);
  } catch (e) {
    if (!isQuotaError(e)) {
      if (e instanceof WebBackendError) throw e;
      throw new WebBackendError('STORAGE_IO', `storing chunk ${index} of ${r.url} failed: ${describe(e)}`,
        'load again (the download resumes from the chunks already stored); if it keeps failing, delete the stored model '
          + '(deleteCachedModel(), or the demo\'s "Stored models" list) and load again', { cause: e });
    }
    const rest = r.bytes - storedBytes(r);
    const device = /disk is full/.test(describe(e));
    throw new WebBackendError('STORAGE_QUOTA',
      `storage is full: ${r.url} needs ${rest} bytes (${mb(rest)}) more, and the browser refused the next ${buf.byteLength} (${describe(e)})`,
      `free at least ${mb(rest)}: delete cached models (cachedModels() / deleteCachedModel(), or the demo's "Stored models" list) `
        + `or other site data${device ? ', and free disk space on this device (its disk is full)' : ', or disk space if this device\'s disk is full'}, `
        + 'then load again (the download resumes); '
        + 'or load with { cache: false }', { cause: e });
  }
}

/** One request from the first missing chunk; stores complete chunks; returns bytes received. */
async function fetchRest(spec: DownloadSpec, r: FileRecord, deps: DownloadDeps, progress: (loaded: number) => void): Promise<number> {
  const n = chunkCount(r.bytes, r.chunkBytes);
  const done = new Set(r.done);
  const first = [...Array(n).keys()].find((k) => !done.has(k))!;
  const asked = first * r.chunkBytes;
  const fetchFn = deps.fetch ?? ((u, i) => fetch(u, i));
  let res: Response;
  try {
    res = await fetchFn(spec.url, { headers: { Range: `bytes=${asked}-` } });
  } catch (e) {
    throw Object.assign(new Error(describe(e)), { retriable: true, cause: e });
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel().catch(() => {});
    throw manifestError('MODEL_FILE_MISSING', `model file ${spec.url} answered HTTP ${res.status}`,
      'every file manifest.json lists (shards too) must be served beside it; re-deploy the whole model directory');
  }
  let offset = rangeStart(res, asked);
  if (offset % r.chunkBytes !== 0 || offset > asked) {
    await res.body?.cancel().catch(() => {});
    throw new WebBackendError('NETWORK', `${spec.url}: the server answered a range from byte ${offset}, not ${asked}`,
      'serve the model from a server that honours HTTP Range requests (any static file server does)');
  }
  const reader = res.body!.getReader();
  let index = offset / r.chunkBytes;
  const size = (k: number) => Math.min(r.chunkBytes, r.bytes - k * r.chunkBytes);
  let buf = new Uint8Array(size(index));
  let fill = 0;
  let received = 0;
  for (;;) {
    let part: ReadableStreamReadResult<Uint8Array>;
    try {
      part = await reader.read();
    } catch (e) {
      throw Object.assign(new Error(describe(e)), { retriable: true, cause: e, received });
    }
    if (part.done) break;
    let v = part.value;
    received += v.byteLength;
    while (v.byteLength > 0) {
      if (index >= n) {
        await reader.cancel().catch(() => {});
        throw manifestError('MODEL_FILE_HASH_MISMATCH', `${spec.url} is larger than the ${r.bytes} bytes the manifest declares`,
          'the file and manifest.json come from different exports; deploy the model directory as the tool wrote it');
      }
      const take = Math.min(v.byteLength, buf.byteLength - fill);
      buf.set(v.subarray(0, take), fill);
      fill += take;
      v = v.subarray(take);
      if (fill === buf.byteLength) {
        if (!done.has(index)) {
          await writeChunk(deps.store, r, index, buf);
          r.done.push(index);
          r.updated = Date.now();
          try {
            await saveRecord(deps, r);
          } catch (e) {
            r.done.pop();
            throw e;
          }
          done.add(index);
          progress(storedBytes(r)); // per stored chunk too: one read may bring many chunks
        }
        index += 1;
        fill = 0;
        if (index < n) buf = new Uint8Array(size(index));
      }
    }
    progress(Math.min(r.bytes, storedBytes(r) + fill));
  }
  return received;
}

/** sha256 of a Blob, read in 8 MiB slices. */
export async function sha256OfBlob(blob: Blob): Promise<string> {
  const h = sha256.create();
  for (let at = 0; at < blob.size; at += HASH_SLICE) {
    h.update(new Uint8Array(await blob.slice(at, at + HASH_SLICE).arrayBuffer()));
  }
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The verified file as a disk-backed Blob: from storage if complete, else downloaded (resuming). */
export async function downloadFile(spec: DownloadSpec, deps: DownloadDeps): Promise<Downloaded> {
  const r = await currentRecord(spec, deps);
  const n = chunkCount(r.bytes, r.chunkBytes);
  if (r.verified) {
    // A stored file that cannot be read throws STORAGE_IO here (record and chunks kept): only a
    // file that is not there (evicted, removed, truncated) is downloaded again, and said so first.
    const blob = await deps.store.read(r.key, r.bytes, n);
    if (blob) return { blob, fromCache: true, downloaded: 0 };
    deps.onWarning?.(`${spec.url}: the stored copy (${mb(r.bytes)}, verified ${new Date(r.updated).toISOString()}) is no longer in `
      + `this browser's storage (${storeName(r.store)}: cleared, evicted or truncated); downloading it again`);
    await forget(r, deps);
    r.done = [];
    r.verified = false;
  }
  // Byte progress never goes back: the part of a chunk received before a dropped connection is
  // fetched again, and the count holds at its mark until the new bytes pass it.
  let mark = -1;
  const progress = (loaded: number) => {
    if (loaded <= mark) return;
    mark = loaded;
    deps.onProgress?.(loaded, r.bytes);
  };
  let downloaded = 0;
  let failures = 0;
  const retries = deps.retries ?? 3;
  while (r.done.length < n) {
    try {
      downloaded += await fetchRest(spec, r, deps, progress);
    } catch (e) {
      const retriable = (e as { retriable?: boolean }).retriable === true;
      downloaded += (e as { received?: number }).received ?? 0;
      if (!retriable) throw e;
      failures += 1;
      if (failures > retries) {
        throw new WebBackendError('NETWORK',
          `the download of ${spec.url} broke off ${failures} times (last: ${describe(e)}); ${storedBytes(r)} of ${r.bytes} bytes are stored`,
          'check the connection and load again: the download resumes from the stored chunks', { cause: e });
      }
    }
  }
  deps.onProgress?.(r.bytes, r.bytes);
  const blob = await deps.store.read(r.key, r.bytes, n);
  if (!blob) {
    await forget(r, deps);
    throw new WebBackendError('STORAGE_IO',
      `${spec.url}: the ${r.bytes} bytes just stored are no longer in this browser's storage (${storeName(r.store)}: cleared or evicted during the download)`,
      'load again (it downloads again); if this repeats, the browser is evicting this site\'s data: free disk space, '
        + 'or load with { cache: false } (nothing is stored)');
  }
  const actual = await sha256OfBlob(blob);
  if (actual !== spec.sha256) {
    await forget(r, deps);
    throw manifestError('MODEL_FILE_HASH_MISMATCH',
      `${spec.url}: the downloaded ${r.bytes} bytes have sha256 ${actual.slice(0, 16)}…, but the manifest declares ${spec.sha256.slice(0, 16)}…`,
      'the file and manifest.json come from different exports (or the download was altered); the stored chunks were '
        + 'dropped: deploy the model directory as the tool wrote it and load again');
  }
  r.verified = true;
  r.updated = Date.now();
  await saveRecord(deps, r);
  return { blob, fromCache: false, downloaded };
}
