// Where downloaded model bytes live while and after they arrive: chunk by chunk, so a 1 GB shard
// is never one JS buffer and a broken download keeps what it already has. Two stores behind one
// interface: the Origin Private File System (one file per model file, chunks written at their
// offsets through a sync access handle: the default where it exists, see README "Large models"
// for the measurements) and IndexedDB (one Blob value per chunk, bounded by the chunk size).
// Reading gives a Blob backed by disk: nothing is copied into memory until someone reads it.

import { createStore, delMany, get, set, type UseStore } from 'idb-keyval';

export interface ChunkStore {
  readonly kind: 'opfs' | 'idb';
  /** Stores chunk `index` (its bytes start at `offset` in the file). */
  write(key: string, index: number, offset: number, bytes: Uint8Array): Promise<void>;
  /** The stored file (all `chunks` chunks), as a disk-backed Blob; null when a chunk is missing. */
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

/** True where OPFS can take chunk writes at an offset without rewriting the file (dedicated workers). */
export async function opfsAvailable(): Promise<boolean> {
  try {
    if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return false;
    const root = await navigator.storage.getDirectory();
    const probe = (await root.getFileHandle('.erta-probe', { create: true })) as SyncFileHandle;
    const ok = typeof probe.createSyncAccessHandle === 'function' || 'createWritable' in probe;
    await root.removeEntry('.erta-probe').catch(() => {});
    return ok;
  } catch {
    return false;
  }
}

export function opfsChunkStore(): ChunkStore {
  let dir: Promise<FileSystemDirectoryHandle> | null = null;
  const folder = () => (dir ??= navigator.storage.getDirectory().then((r) => r.getDirectoryHandle(OPFS_DIR, { create: true })));
  return {
    kind: 'opfs',
    async write(key, _index, offset, bytes) {
      const handle = (await (await folder()).getFileHandle(await nameOf(key), { create: true })) as SyncFileHandle;
      if (handle.createSyncAccessHandle) {
        const sync = await handle.createSyncAccessHandle();
        try {
          const written = sync.write(bytes as Uint8Array<ArrayBuffer>, { at: offset });
          // A full disk or quota writes short instead of throwing.
          if (written !== bytes.byteLength) {
            throw new DOMException(`wrote ${written} of ${bytes.byteLength} bytes: storage quota exceeded`, 'QuotaExceededError');
          }
          sync.flush();
        } finally {
          sync.close();
        }
        return;
      }
      // Window contexts (no sync handles): a writable keeping the existing data, seeked.
      const w = await handle.createWritable({ keepExistingData: true });
      await w.seek(offset);
      await w.write(bytes as Uint8Array<ArrayBuffer>);
      await w.close();
    },
    async read(key, size) {
      try {
        const file = await (await (await folder()).getFileHandle(await nameOf(key))).getFile();
        return file.size >= size ? file.slice(0, size) : null;
      } catch {
        return null;
      }
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
      await set(chunkKey(key, index), new Blob([bytes as Uint8Array<ArrayBuffer>]), store());
    },
    async read(key, size, chunks) {
      const parts: Blob[] = [];
      for (let k = 0; k < chunks; k++) {
        const b = await get<Blob>(chunkKey(key, k), store());
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
