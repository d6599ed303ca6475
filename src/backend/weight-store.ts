// Model files: fetched once with byte progress, verified against the manifest's sha256, kept in
// IndexedDB (idb-keyval) under URL + hash. A hit is re-verified before use, so a corrupt or
// partial entry is dropped and re-fetched rather than handed to ONNX Runtime. Storage trouble
// (quota, private mode) never fails a load: the file is used uncached and a warning says so.

import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { manifestError } from '../manifest/errors.ts';
import { sha256Hex } from '../manifest/hash.ts';
import { LIMITS } from '../manifest/limits.ts';
import { fetchBytes, fetchJson, parseJsonText, type ByteProgress, type FetchFn } from './http.ts';
import { describe, WebBackendError } from './web-errors.ts';

/** The three idb-keyval calls the store needs (injectable: a Map-backed fake in tests). */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export interface FileSpec {
  url: string;
  sha256: string; // lower-case hex, from the manifest
  bytes: number;
}

export interface LoadedFile {
  bytes: Uint8Array;
  fromCache: boolean;
  /** Storage problems met on the way (the file itself is fine). */
  warnings: string[];
}

export interface LoadedJson {
  json: unknown;
  fromCache: boolean;
  warnings: string[];
}

export interface LoadFileOptions {
  onProgress?: ByteProgress;
  /** false: neither read nor write IndexedDB (default true). */
  cache?: boolean;
  /** The manifest URL of the model the file belongs to (listed by cachedModels). */
  model?: string;
}

export const DB_NAME = 'erta-diffusion';
export const STORE_NAME = 'model-files';

/** The IndexedDB key of a file: a new export (new hash) never reads an old entry. */
export function cacheKey(spec: FileSpec): string {
  return `${spec.url}#sha256=${spec.sha256}`;
}

let defaultStore: KeyValueStore | null = null;
/** idb-keyval on its own database, opened on first use (never at import time). */
export function idbStore(): KeyValueStore {
  if (defaultStore) return defaultStore;
  const handle: UseStore = createStore(DB_NAME, STORE_NAME);
  defaultStore = { get: (k) => get(k, handle), set: (k, v) => set(k, v, handle), del: (k) => del(k, handle) };
  return defaultStore;
}

export { sha256Hex };

async function matches(bytes: Uint8Array, spec: FileSpec): Promise<boolean> {
  return bytes.byteLength === spec.bytes && (await sha256Hex(bytes)) === spec.sha256;
}

function asBytes(entry: unknown): Uint8Array | null {
  if (entry instanceof ArrayBuffer) return new Uint8Array(entry);
  if (entry instanceof Uint8Array) return entry;
  return null;
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || /quota/i.test(describe(e));
}

function openStore(useCache: boolean, store: KeyValueStore | undefined, warnings: string[]): KeyValueStore | null {
  if (!useCache) return null;
  try {
    return store ?? idbStore();
  } catch (e) {
    warnings.push(`IndexedDB unavailable (${describe(e)}); model files are not cached`);
    return null;
  }
}

/** A verified cache hit, or null (miss, unreadable store, or a corrupt entry that is dropped). */
async function readCached(spec: FileSpec, store: KeyValueStore, warnings: string[]): Promise<Uint8Array | null> {
  let entry: unknown;
  try {
    entry = await store.get(cacheKey(spec));
  } catch (e) {
    warnings.push(`model cache unreadable (${describe(e)}); downloading ${spec.url}`);
    return null;
  }
  if (entry === undefined) return null;
  const bytes = asBytes(entry);
  if (bytes && (await matches(bytes, spec))) return bytes;
  warnings.push(`cached ${spec.url} was corrupt or partial; fetching it again`);
  await store.del(cacheKey(spec)).catch(() => {});
  return null;
}

async function writeCached(spec: FileSpec, bytes: Uint8Array, store: KeyValueStore, warnings: string[]) {
  try {
    // Store an exact ArrayBuffer: a view on a larger buffer would store the whole buffer.
    const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    await store.set(cacheKey(spec), exact);
  } catch (e) {
    warnings.push(isQuotaError(e)
      ? `storage quota exceeded: ${spec.url} is used without caching and will be downloaded again next time`
      : `could not cache ${spec.url} (${describe(e)}); it will be downloaded again next time`);
  }
}

/**
 * The verified bytes of one manifest-listed file: from IndexedDB when a good entry exists
 * (no network request at all), else fetched, checked and stored.
 */
export async function loadModelFile(spec: FileSpec, options: LoadFileOptions = {},
  fetchFn?: FetchFn, store?: KeyValueStore): Promise<LoadedFile> {
  const warnings: string[] = [];
  const kv = openStore(options.cache ?? true, store, warnings);
  const hit = kv ? await readCached(spec, kv, warnings) : null;
  if (hit) return { bytes: hit, fromCache: true, warnings }; // no progress: nothing was downloaded
  const bytes = await fetchBytes(spec.url, 'model file', options.onProgress, spec.bytes, fetchFn, spec.bytes);
  if (!(await matches(bytes, spec))) {
    const actual = await sha256Hex(bytes);
    throw manifestError('MODEL_FILE_HASH_MISMATCH',
      `${spec.url}: ${bytes.byteLength} bytes with sha256 ${actual.slice(0, 16)}…, but the manifest declares `
        + `${spec.bytes} bytes with sha256 ${spec.sha256.slice(0, 16)}…`,
      'the file and manifest.json come from different exports (or the download was altered); deploy the '
        + 'model directory as tools/export.py wrote it');
  }
  if (kv) await writeCached(spec, bytes, kv, warnings);
  return { bytes, fromCache: false, warnings };
}

/**
 * Manifests and plans: network first, so a re-exported model is picked up at once; the copy
 * kept in IndexedDB is used only when the network fails (offline reload), with a warning.
 * HTTP errors are not masked: a model that was removed must not keep loading from cache.
 */
export async function loadJsonDocument(url: string, what: 'manifest' | 'plan' | 'prompts', options: { cache?: boolean } = {},
  fetchFn?: FetchFn, store?: KeyValueStore): Promise<LoadedJson> {
  const warnings: string[] = [];
  const kv = openStore(options.cache ?? true, store, warnings);
  const key = `json:${url}`;
  try {
    const json = await fetchJson(url, what, fetchFn);
    if (kv) await kv.set(key, JSON.stringify(json)).catch(() => {}); // best effort: it is small
    return { json, fromCache: false, warnings };
  } catch (e) {
    if (!kv || !(e instanceof WebBackendError) || e.code !== 'NETWORK') throw e;
    const cached = await kv.get(key).catch(() => undefined);
    if (cached === undefined) throw e;
    let json: unknown;
    try {
      if (typeof cached !== 'string' || cached.length > LIMITS.jsonBytes) throw new Error('not a JSON text');
      json = parseJsonText(cached, url, what);
    } catch {
      await kv.del(key).catch(() => {});
      throw new WebBackendError('NETWORK', `${e.message}; the cached copy of the ${what} was corrupt and was dropped`,
        `reconnect and load again (the ${what} is fetched and cached afresh)`, { cause: e });
    }
    warnings.push(`network unavailable (${e.message}); using the cached ${what}`);
    return { json, fromCache: true, warnings };
  }
}
