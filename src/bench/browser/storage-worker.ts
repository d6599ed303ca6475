// Worker half of the storage measurement (src/cli/bench-storage.ts): writes `mib` MiB in chunks
// into each chunk store (OPFS with sync access handles, IndexedDB Blob values), then reads the
// file back as the loader does (a Blob, hashed in 8 MiB slices). Times per store.

import { idbChunkStore, opfsChunkStore, type ChunkStore } from '../../storage/chunk-store.ts';
import { sha256OfBlob } from '../../storage/download.ts';

async function measure(store: ChunkStore, mib: number, chunkMiB: number) {
  const chunk = chunkMiB * 2 ** 20;
  const n = Math.ceil((mib * 2 ** 20) / chunk);
  const key = `bench-${store.kind}-${Date.now()}`;
  const bytes = new Uint8Array(chunk);
  for (let k = 0; k < bytes.length; k += 4096) bytes[k] = k & 255;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.write(key, i, i * chunk, bytes);
  const t1 = performance.now();
  const blob = await store.read(key, n * chunk, n);
  const t2 = performance.now();
  let sum = 0;
  for (let at = 0; at < blob!.size; at += 8 * 2 ** 20) sum += (await blob!.slice(at, at + 8 * 2 ** 20).arrayBuffer()).byteLength;
  const t3 = performance.now();
  await sha256OfBlob(blob!);
  const t4 = performance.now();
  await store.remove(key, n);
  return { store: store.kind, mib, chunkMiB, writeMs: Math.round(t1 - t0), openMs: Math.round(t2 - t1),
    readMs: Math.round(t3 - t2), hashMs: Math.round(t4 - t3), writeMiBps: Math.round(mib / ((t1 - t0) / 1000)),
    readMiBps: Math.round(mib / ((t3 - t2) / 1000)), readBytes: sum };
}

self.onmessage = async (e: MessageEvent<{ mib: number; chunkMiB: number }>) => {
  const { mib, chunkMiB } = e.data;
  try {
    const out = [];
    for (const store of [opfsChunkStore(), idbChunkStore()]) out.push(await measure(store, mib, chunkMiB));
    self.postMessage({ ok: true, out });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err) });
  }
};
