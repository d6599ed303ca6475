// What is stored for each model file: its identity (URL + sha256), size, chunk size, which chunks
// have arrived, whether the whole was verified, and the model (manifest URL) it belongs to. Kept
// in IndexedDB (idb-keyval), one small record per file, written after every chunk: a reload or
// a dropped connection resumes from exactly the chunks recorded.

import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';

export interface FileRecord {
  key: string;
  url: string;
  sha256: string;
  bytes: number;
  chunkBytes: number;
  /** Indices of chunks that are stored. */
  done: number[];
  verified: boolean;
  /** The manifest URL of the model the file belongs to. */
  model: string;
  /** Where the bytes are: the chunk stores, or 'kv' (a small file kept whole, weight-store.ts). */
  store: 'opfs' | 'idb' | 'kv';
  updated: number;
}

export interface RecordStore {
  get(key: string): Promise<FileRecord | undefined>;
  put(r: FileRecord): Promise<void>;
  remove(key: string): Promise<void>;
  all(): Promise<FileRecord[]>;
}

let handle: UseStore | null = null;
export function idbRecordStore(): RecordStore {
  const store = () => (handle ??= createStore('erta-diffusion-downloads', 'files'));
  return {
    get: (key) => get<FileRecord>(key, store()),
    put: (r) => set(r.key, r, store()),
    remove: (key) => del(key, store()),
    all: async () => (await entries<string, FileRecord>(store())).map(([, r]) => r),
  };
}

/** A Map-backed RecordStore (tests, and where IndexedDB is unavailable: nothing survives). */
export function memoryRecordStore(): RecordStore {
  const map = new Map<string, FileRecord>();
  return {
    get: async (key) => (map.has(key) ? structuredClone(map.get(key)!) : undefined),
    put: async (r) => void map.set(r.key, structuredClone(r)),
    remove: async (key) => void map.delete(key),
    all: async () => [...map.values()].map((r) => structuredClone(r)),
  };
}

export function chunkCount(bytes: number, chunkBytes: number): number {
  return Math.ceil(bytes / chunkBytes);
}

/** Bytes of the chunks a record has. */
export function storedBytes(r: Pick<FileRecord, 'bytes' | 'chunkBytes' | 'done'>): number {
  const last = chunkCount(r.bytes, r.chunkBytes) - 1;
  return r.done.reduce((s, k) => s + (k === last ? r.bytes - k * r.chunkBytes : r.chunkBytes), 0);
}
