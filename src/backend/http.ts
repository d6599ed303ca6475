// fetch with byte progress and typed failures. A model URL that answers 404 and a network that
// is down are different problems with different fixes, so they get different codes.

import { manifestError } from '../manifest/errors.ts';
import { LIMITS } from '../manifest/limits.ts';
import { describe, WebBackendError } from './web-errors.ts';

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** Called with bytes received so far; total is the expected size when known, else 0. */
export type ByteProgress = (loaded: number, total: number) => void;

/** Progress is reported at most this often (in bytes), plus once at the end. */
const PROGRESS_STEP = 256 * 1024;

async function request(url: string, what: string, fetchFn: FetchFn): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new WebBackendError('NETWORK', `could not fetch ${what} ${url}: ${describe(e)}`,
      'check the network connection and that the URL is served from this origin (or allows CORS)', { cause: e });
  }
  if (res.ok) return res;
  throw httpError(url, what, res.status);
}

function httpError(url: string, what: string, status: number): Error {
  const message = `${what} ${url} answered HTTP ${status}`;
  if (what === 'model file' || what === 'plan') {
    return manifestError(what === 'plan' ? 'PLAN_NOT_FOUND' : 'MODEL_FILE_MISSING', message,
      'every file manifest.json lists must be served beside it; re-deploy the whole model directory');
  }
  return new WebBackendError('MODEL_NOT_FOUND', message,
    status === 404 ? 'check the URL: it must point at a manifest.json written by tools/export.py'
      : 'the server refused the request; check that the model directory is deployed and readable');
}

/** A body larger than `max`: a model file that is not the declared one, or an absurd JSON file. */
function tooLarge(url: string, what: string, max: number): Error {
  if (what === 'model file') {
    return manifestError('MODEL_FILE_HASH_MISMATCH', `${url} is larger than the ${max} bytes the manifest declares`,
      'the file and manifest.json come from different exports; deploy the model directory as tools/export.py wrote it');
  }
  return manifestError('MANIFEST_TOO_LARGE', `${what} ${url} is larger than ${max} bytes; real ones are a few kB`,
    'check the URL: it must point at a manifest.json / plan file written by the project\'s tools');
}

/**
 * GET `url` as bytes, reporting progress. `expected` (bytes) stands in for a missing
 * Content-Length. Reading stops as soon as more than `max` bytes arrive (nothing unbounded).
 */
export async function fetchBytes(url: string, what: string, onProgress?: ByteProgress, expected = 0,
  fetchFn: FetchFn = (u, i) => fetch(u, i), max = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  const res = await request(url, what, fetchFn);
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(url, what, max);
  }
  const total = declared || expected;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > max) throw tooLarge(url, what, max);
    onProgress?.(bytes.byteLength, total);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let reported = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      if (loaded > max) {
        await reader.cancel().catch(() => {});
        break;
      }
      if (loaded - reported >= PROGRESS_STEP) {
        reported = loaded;
        onProgress?.(loaded, total);
      }
    }
  } catch (e) {
    throw new WebBackendError('NETWORK', `the download of ${url} broke off after ${loaded} bytes: ${describe(e)}`,
      'retry; the partial file was not stored', { cause: e });
  }
  if (loaded > max) throw tooLarge(url, what, max);
  onProgress?.(loaded, total);
  return concat(chunks, loaded);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** GET and JSON.parse; a body that is not JSON is MANIFEST_FORMAT for manifests, else MODEL_NOT_FOUND. */
export async function fetchJson(url: string, what: string, fetchFn: FetchFn = (u, i) => fetch(u, i)): Promise<unknown> {
  const bytes = await fetchBytes(url, what, undefined, 0, fetchFn, LIMITS.jsonBytes);
  return parseJsonText(new TextDecoder().decode(bytes), url, what);
}

/** JSON.parse with a typed error (MANIFEST_FORMAT) for text that is not JSON. */
export function parseJsonText(text: string, url: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw manifestError('MANIFEST_FORMAT', `${what} ${url} is not JSON (${describe(e)})`,
      'the URL must point at a manifest.json / plan file; a dev server answering index.html for unknown paths '
        + 'looks like this', { cause: e });
  }
}
