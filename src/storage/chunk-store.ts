// Where downloaded model bytes live while and after they arrive: chunk by chunk, so a 1 GB shard
// is never one JS buffer and a broken download keeps what it already has. Two stores behind one
// interface: the Origin Private File System (one file per model file, chunks written at their
// offsets through a sync access handle: the default where it exists, see README "Large models"
// for the measurements) and IndexedDB (one Blob value per chunk, bounded by the chunk size).
// Reading gives a Blob backed by disk: nothing is copied into memory until someone reads it.

import { createStore, delMany, get, set, type UseStore } from 'idb-keyval';
import { describe, WebBackendError } from '../backend/web-errors.ts';

export interface ChunkStore {
  readonly kind: 'opfs' | 'idb';
  /** Stores chunk `index` (its bytes start at `offset` in the file); STORAGE_QUOTA / STORAGE_IO when it cannot. */
  write(key: string, index: number, offset: number, bytes: Uint8Array): Promise<void>;
  /**
   * The stored file (all `chunks` chunks), as a disk-backed Blob; null when it is not there (never
   * stored, removed, evicted, or shorter than `size`). A file that is there but cannot be read
   * throws STORAGE_IO (naming the file and the browser's cause): it is not "missing".
   */
  read(key: string, size: number, chunks: number): Promise<Blob | null>;
  remove(key: string, chunks: number): Promise<void>;
}

/** File name of a key inside the store's folder: keys are URLs, names must be plain. */
async function nameOf(key: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return Array.from(new Uint8Array(d).slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

const OPFS_DIR = 'erta-diffusion-models';

interface SyncHandle {
  write(buffer: BufferSource, options?: { at?: number }): number;
  flush(): void;
  close(): void;
}
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncHandle> };

/**
 * True where OPFS can take chunk writes at an offset without rewriting the file (dedicated workers).
 * Nothing is written to find out: a probe file that cannot be created (a full disk) must not make
 * this tab choose IndexedDB and drop the chunks OPFS already holds.
 */
export async function opfsAvailable(): Promise<boolean> {
  try {
    if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return false;
    const proto = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle?.prototype;
    if (!proto || !('createSyncAccessHandle' in proto || 'createWritable' in proto)) return false;
    await navigator.storage.getDirectory(); // refused where OPFS is blocked (some private modes)
    return true;
  } catch {
    return false;
  }
}

/** The URL part of a store key (`url#sha256=…`), for messages. */
const urlOf = (key: string) => key.replace(/#sha256=[0-9a-f]*$/, '');

const errorName = (e: unknown) => (e as { name?: unknown } | null)?.name;

/**
 * Chromium's base::File::Error values. FileSystemSyncAccessHandle.write() is specified to return
 * the bytes written (a short count when the disk or quota is full), but a failed write has been
 * seen to return one of these, negative, cast to an unsigned number: 4294967288 = 2^32 − 8 is
 * FILE_ERROR_NO_SPACE (README "Large models").
 */
const FILE_ERRORS: Record<number, string> = {
  [-1]: 'FILE_ERROR_FAILED', [-2]: 'FILE_ERROR_IN_USE', [-3]: 'FILE_ERROR_EXISTS', [-4]: 'FILE_ERROR_NOT_FOUND',
  [-5]: 'FILE_ERROR_ACCESS_DENIED', [-6]: 'FILE_ERROR_TOO_MANY_OPENED', [-7]: 'FILE_ERROR_NO_MEMORY',
  [-8]: 'FILE_ERROR_NO_SPACE', [-9]: 'FILE_ERROR_NOT_A_DIRECTORY', [-10]: 'FILE_ERROR_INVALID_OPERATION',
  [-11]: 'FILE_ERROR_SECURITY', [-12]: 'FILE_ERROR_ABORT', [-13]: 'FILE_ERROR_NOT_A_FILE', [-14]: 'FILE_ERROR_NOT_EMPTY',
  [-15]: 'FILE_ERROR_INVALID_URL', [-16]: 'FILE_ERROR_IO',
};

const FREE_SPACE_HINT = 'free space: delete stored models (cachedModels() / deleteCachedModel(), or the demo\'s "Stored models" '
  + 'list) or other site data, and if the device itself is full, free disk space on it; then load again (the download '
  + 'resumes from the chunks already stored); or load with { cache: false } (nothing is stored)';

/**
 * The typed error for a sync-access-handle write that reports `written` of `requested` bytes.
 * Fewer bytes is a write the quota or the disk cut short (STORAGE_QUOTA). More than asked is not a
 * byte count at all: read as a 32- or 64-bit two's-complement number it is an error code (above);
 * FILE_ERROR_NO_SPACE is STORAGE_QUOTA (the disk is full), the others STORAGE_IO.
 */
export function writeCountError(written: number, requested: number, what: string): WebBackendError {
  if (written >= 0 && written < requested) {
    return new WebBackendError('STORAGE_QUOTA',
      `${what}: the browser wrote ${written} of ${requested} bytes (storage quota or disk full)`, FREE_SPACE_HINT);
  }
  // An error code cast to uint32. (A uint64 one would arrive as a double near 2^64, its low bits lost.)
  const code = written <= 0xffffffff ? written | 0 : Number.NaN;
  const name = FILE_ERRORS[code];
  const read = name ? `${written} = 2^32 − ${-code}, Chromium's ${name}` : `${written}`;
  if (name === 'FILE_ERROR_NO_SPACE') {
    return new WebBackendError('STORAGE_QUOTA',
      `${what}: the disk is full (the browser's write of ${requested} bytes returned ${read}, not a byte count)`, FREE_SPACE_HINT);
  }
  return new WebBackendError('STORAGE_IO',
    `${what}: the browser's write of ${requested} bytes failed (it returned ${read}, not a byte count); nothing of this chunk counts as stored`,
    'load again (the download resumes from the chunks already stored); if it keeps failing, delete the stored model '
      + '(deleteCachedModel(), or the demo\'s "Stored models" list) and check that the device\'s disk is healthy and not full');
}

/** A chunk write the browser refused by throwing: quota errors stay recognisable, others are STORAGE_IO. */
function writeFailure(e: unknown, what: string): unknown {
  if (e instanceof WebBackendError) return e;
  const n = errorName(e);
  if (n === 'QuotaExceededError') return new WebBackendError('STORAGE_QUOTA', `${what}: ${describe(e)}`, FREE_SPACE_HINT, { cause: e });
  const busy = n === 'NoModificationAllowedError' || n === 'InvalidStateError';
  return new WebBackendError('STORAGE_IO', `${what}: ${String(n ?? 'Error')}: ${describe(e)}`,
    busy
      ? 'the file is open elsewhere: another tab or worker of this site is probably loading the same model; close it or '
        + 'wait until it has finished, then load again (the download resumes from the chunks already stored)'
      : 'load again (the download resumes from the chunks already stored); if it keeps failing, delete the stored model '
        + '(deleteCachedModel(), or the demo\'s "Stored models" list) and load again', { cause: e });
}

/** A stored file that is there but cannot be read: never taken for a missing one (that would re-download it). */
function readFailure(e: unknown, what: string): WebBackendError {
  const n = String(errorName(e) ?? 'Error');
  return new WebBackendError('STORAGE_IO',
    `${what} is stored but the browser could not open it (${n}: ${describe(e)}); nothing was downloaded again`,
    'close other tabs of this site that use this model and load again; if the device\'s disk is full, free space first; '
      + 'if it keeps failing, delete the stored model (deleteCachedModel(), or the demo\'s "Stored models" list) and load '
      + 'again (it downloads again), or load with { cache: false }', { cause: e });
}

export function opfsChunkStore(): ChunkStore {
  let dir: Promise<FileSystemDirectoryHandle> | null = null;
  const folder = () => {
    dir ??= navigator.storage.getDirectory().then((r) => r.getDirectoryHandle(OPFS_DIR, { create: true }));
    dir.catch(() => { dir = null; }); // a failure is not remembered: the next call tries again
    return dir;
  };
  return {
    kind: 'opfs',
    async write(key, index, offset, bytes) {
      const name = await nameOf(key);
      const what = `storing chunk ${index} of ${urlOf(key)} (OPFS file ${OPFS_DIR}/${name})`;
      let handle: SyncFileHandle;
      try {
        handle = (await (await folder()).getFileHandle(name, { create: true })) as SyncFileHandle;
      } catch (e) {
        throw writeFailure(e, what);
      }
      if (handle.createSyncAccessHandle) {
        let sync: SyncHandle;
        try {
          sync = await handle.createSyncAccessHandle();
        } catch (e) {
          throw writeFailure(e, what);
        }
        try {
          let written: number;
          try {
            written = sync.write(bytes as Uint8Array<ArrayBuffer>, { at: offset });
            // A full disk or quota writes short (or returns an error code) instead of throwing.
            if (written === bytes.byteLength) sync.flush();
          } catch (e) {
            throw writeFailure(e, what);
          }
          if (written !== bytes.byteLength) throw writeCountError(written, bytes.byteLength, what);
        } finally {
          try {
            sync.close();
          } catch { /* the write's own error (if any) is the one to report */ }
        }
        return;
      }
      // Window contexts (no sync handles): a writable keeping the existing data, seeked.
      try {
        const w = await handle.createWritable({ keepExistingData: true });
        await w.seek(offset);
        await w.write(bytes as Uint8Array<ArrayBuffer>);
        await w.close();
      } catch (e) {
        throw writeFailure(e, what);
      }
    },
    async read(key, size) {
      const name = await nameOf(key);
      let file: File;
      try {
        file = await (await (await folder()).getFileHandle(name)).getFile();
      } catch (e) {
        if (errorName(e) === 'NotFoundError') return null;
        throw readFailure(e, `${urlOf(key)} (OPFS file ${OPFS_DIR}/${name})`);
      }
      return file.size >= size ? file.slice(0, size) : null;
    },
    async remove(key) {
      await (await folder()).removeEntry(await nameOf(key)).catch(() => {});
    },
  };
}

let idbHandle: UseStore | null = null;
export function idbChunkStore(): ChunkStore {
  const store = () => (idbHandle ??= createStore('erta-diffusion-chunks', 'chunks'));
  const chunkKey = (key: string, index: number) => `${key}#${index}`;
  return {
    kind: 'idb',
    async write(key, index, _offset, bytes) {
      try {
        await set(chunkKey(key, index), new Blob([bytes as Uint8Array<ArrayBuffer>]), store());
      } catch (e) {
        throw writeFailure(e, `storing chunk ${index} of ${urlOf(key)} (IndexedDB)`);
      }
    },
    async read(key, size, chunks) {
      const parts: Blob[] = [];
      for (let k = 0; k < chunks; k++) {
        let b: Blob | undefined;
        try {
          b = await get<Blob>(chunkKey(key, k), store());
        } catch (e) {
          throw readFailure(e, `${urlOf(key)} (IndexedDB, chunk ${k})`);
        }
        if (!(b instanceof Blob)) return null;
        parts.push(b);
      }
      const blob = new Blob(parts);
      return blob.size === size ? blob : null;
    },
    async remove(key, chunks) {
      await delMany(Array.from({ length: chunks }, (_, k) => chunkKey(key, k)), store());
    },
  };
}

/** The store to use here: OPFS where it works, else IndexedDB. */
export async function defaultChunkStore(): Promise<ChunkStore> {
  return (await opfsAvailable()) ? opfsChunkStore() : idbChunkStore();
}

export function chunkStoreOf(kind: ChunkStore['kind']): ChunkStore {
  return kind === 'opfs' ? opfsChunkStore() : idbChunkStore();
}
