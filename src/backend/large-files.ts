// The browser backend's large-file path (external-data shards): check the storage estimate for
// everything still to download, then download each file in resumable chunks (src/storage), or,
// with cache: false, fetch it whole into memory and verify it (nothing stored).

import { manifestError } from '../manifest/errors.ts';
import { sha256Hex } from '../manifest/hash.ts';
import { defaultChunkStore, type ChunkStore } from '../storage/chunk-store.ts';
import { bytesToDownload, checkStorage, downloadFile, registerDownloads, type DownloadDeps, type DownloadSpec } from '../storage/download.ts';
import { idbRecordStore, memoryRecordStore, type RecordStore } from '../storage/records.ts';
import { fetchBytes, type FetchFn } from './http.ts';
import type { LargeFile, LargeFileOptions } from './runtime-backend.ts';

export interface LargeFileDeps {
  fetch?: FetchFn | undefined;
  store?: ChunkStore;
  records?: RecordStore;
  estimate?: DownloadDeps['estimate'];
  /** Broken connections retried per file within one load (default 3). */
  retries?: number;
}

async function inMemory(spec: DownloadSpec, k: number, opts: LargeFileOptions, fetchFn?: FetchFn): Promise<LargeFile> {
  const bytes = await fetchBytes(spec.url, 'model file', (l, t) => opts.onProgress?.(k, l, t), spec.bytes, fetchFn, spec.bytes);
  if (bytes.byteLength !== spec.bytes || (await sha256Hex(bytes)) !== spec.sha256) {
    throw manifestError('MODEL_FILE_HASH_MISMATCH', `${spec.url}: the downloaded bytes are not the ones the manifest declares`,
      'the file and manifest.json come from different exports; deploy the model directory as the tool wrote it');
  }
  return { data: bytes, fromCache: false, downloaded: bytes.byteLength, warnings: [] };
}

let storePromise: Promise<ChunkStore> | null = null;

export async function loadLargeFiles(specs: DownloadSpec[], opts: LargeFileOptions, deps: LargeFileDeps): Promise<LargeFile[]> {
  const out: LargeFile[] = [];
  if (opts.cache === false) {
    for (const [k, spec] of specs.entries()) out.push(await inMemory(spec, k, opts, deps.fetch));
    return out;
  }
  const store = deps.store ?? (await (storePromise ??= defaultChunkStore()));
  let records = deps.records ?? idbRecordStore();
  const warnings: string[] = [];
  try {
    await records.all();
  } catch (e) {
    // Private browsing and some embedded browsers refuse IndexedDB: download anyway, without resuming.
    records = memoryRecordStore();
    warnings.push(`IndexedDB is unavailable (${e instanceof Error ? e.message : String(e)}): large files download `
      + 'in chunks but an interrupted download starts over after a reload');
  }
  await checkStorage(await bytesToDownload(specs, { store, records }), deps.estimate);
  await registerDownloads(specs, { store, records, ...(opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {}) });
  for (const [k, spec] of specs.entries()) {
    const d = await downloadFile(spec, {
      store, records,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {}),
      ...(deps.retries !== undefined ? { retries: deps.retries } : {}),
      onProgress: (l, t) => opts.onProgress?.(k, l, t),
      ...(opts.onWarning ? { onWarning: (m: string) => opts.onWarning!(k, m) } : {}),
    });
    out.push({ data: d.blob, fromCache: d.fromCache, downloaded: d.downloaded, warnings: k === 0 ? warnings : [] });
  }
  return out;
}
