// Listing and deleting what the browser holds for each model: every stored file has a record
// naming its model (manifest URL); chunked files (shards) live in the chunk store, whole small
// files in the model-file cache (weight-store.ts), whose records say so with store 'kv'.

import { chunkStoreOf } from './chunk-store.ts';
import { chunkCount, storedBytes, type FileRecord, type RecordStore } from './records.ts';

/** One model as stored in this browser. */
export interface CachedModel {
  /** The manifest URL it was loaded from. */
  model: string;
  files: number;
  /** Bytes of all its files (what a complete copy holds). */
  bytes: number;
  /** Bytes actually stored (less while a download is unfinished). */
  storedBytes: number;
  /** Every file downloaded and verified: the next load makes no model request. */
  complete: boolean;
  /** Last write, ms since the epoch. */
  updated: number;
}

export function summarize(records: readonly FileRecord[]): CachedModel[] {
  const byModel = new Map<string, CachedModel>();
  for (const r of records) {
    const m = byModel.get(r.model) ?? { model: r.model, files: 0, bytes: 0, storedBytes: 0, complete: true, updated: 0 };
    m.files += 1;
    m.bytes += r.bytes;
    m.storedBytes += r.verified ? r.bytes : storedBytes(r);
    m.complete &&= r.verified;
    m.updated = Math.max(m.updated, r.updated);
    byModel.set(r.model, m);
  }
  return [...byModel.values()].sort((a, b) => b.updated - a.updated);
}

export async function listCachedModels(records: RecordStore): Promise<CachedModel[]> {
  return summarize(await records.all());
}

/**
 * Removes every stored file of the model (chunks, whole files and records). `removeWhole` drops
 * a whole-file cache entry. Returns the number of files removed.
 */
export async function deleteCachedModel(model: string, records: RecordStore,
  removeWhole: (key: string) => Promise<void>): Promise<number> {
  const mine = (await records.all()).filter((r) => r.model === model);
  for (const r of mine) {
    if (r.store === 'kv') await removeWhole(r.key).catch(() => {});
    else await chunkStoreOf(r.store).remove(r.key, chunkCount(r.bytes, r.chunkBytes)).catch(() => {});
    await records.remove(r.key);
  }
  return mine.length;
}
