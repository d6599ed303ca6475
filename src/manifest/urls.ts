// Where a manifest may send the runtime. Files it names resolve inside the model folder (same
// origin, same path prefix) unless the manifest opts in with `fileOrigins`, a list of other
// http(s) origins it trusts; no other scheme (data:, javascript:, blob:, file:) is ever followed.
// Checked when the manifest is parsed, so a bad reference fails the load before any request.

import { manifestError } from './errors.ts';
import { LIMITS } from './limits.ts';

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const WHERE = 'manifest.json';
const FOLDER_HINT = 'list files by a path inside the model folder (e.g. "embed.onnx", "plans/x.json"); to load them '
  + 'from another origin, add that origin to the manifest\'s "fileOrigins" list (README, "Model files and URLs")';

function refError(path: string, file: string, why: string, hint = FOLDER_HINT): never {
  const shown = JSON.stringify(file.slice(0, 80));
  throw manifestError('MODEL_FILE_URL', `${WHERE}: ${path} ${shown} ${why}`, hint);
}

/** True for URLs with a scheme ("https:", "data:", …) or protocol-relative ones ("//host/x"). */
export function isAbsoluteRef(file: string): boolean {
  return SCHEME.test(file) || file.startsWith('//');
}

/** An http(s) origin ("https://cdn.example.com"), normalised, or null. */
export function httpOrigin(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Throws MODEL_FILE_URL unless `file` is a path inside the model folder, or an http(s) URL on an
 * origin the manifest lists in fileOrigins. `path` names the field (e.g. "graphs.embed.file").
 */
export function checkFileRef(path: string, file: string, fileOrigins: readonly string[]): void {
  if (file.length > LIMITS.fileRef) refError(path, file, `is longer than ${LIMITS.fileRef} characters`);
  if (/[\u0000-\u001f\u007f\\]/.test(file)) refError(path, file, 'contains a control character or a backslash');
  if (isAbsoluteRef(file)) {
    const origin = httpOrigin(file.startsWith('//') ? `https:${file}` : file);
    if (origin === null) refError(path, file, 'is not an http(s) URL; data:, javascript:, blob: and file: URLs are refused');
    if (!fileOrigins.includes(origin)) refError(path, file, `points at ${origin}, outside the model folder`);
    return;
  }
  if (file.startsWith('/')) refError(path, file, 'is absolute; it must be relative to manifest.json');
  let decoded: string;
  try {
    decoded = decodeURIComponent(file);
  } catch {
    refError(path, file, 'has a broken %-escape');
  }
  const segments = decoded.split(/[?#]/)[0]!.split('/');
  if (segments.some((s) => s === '..' || s === '.')) refError(path, file, 'leaves the model folder ("." / ".." segments)');
  if (decoded.includes('\\') || decoded.startsWith('/')) refError(path, file, 'escapes the model folder once %-decoded');
}

/** fileOrigins: the optional opt-in list, each an http(s) origin. */
export function parseFileOrigins(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const hint = 'fileOrigins lists origins such as "https://cdn.example.com" (scheme, host and port, no path)';
  if (!Array.isArray(value) || value.length > 16) {
    throw manifestError('MANIFEST_FIELD_INVALID', `${WHERE}: field "fileOrigins" must be an array of at most 16 origins`, hint);
  }
  return value.map((v, k) => {
    const origin = typeof v === 'string' ? httpOrigin(v) : null;
    if (origin === null || origin !== v.replace(/\/$/, '')) {
      throw manifestError('MANIFEST_FIELD_INVALID',
        `${WHERE}: fileOrigins[${k}] ${JSON.stringify(v)?.slice(0, 60)} is not an http(s) origin`, hint);
    }
    return origin;
  });
}

/** Resolves a file named in the manifest against its base (a URL or a directory path). */
export function resolveModelFile(baseUrl: string, file: string, fileOrigins: readonly string[] = []): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  checkFileRef('file', file, fileOrigins);
  if (!SCHEME.test(baseUrl)) {
    if (isAbsoluteRef(file)) {
      refError('file', file, 'is a URL, but this model is read from a local directory', 'copy the file into the model directory');
    }
    return `${base}${file}`;
  }
  const url = new URL(file, base);
  const inside = url.href.startsWith(base);
  if (!inside && !fileOrigins.includes(url.origin)) refError('file', file, `resolves to ${url.href}, outside ${base}`);
  return url.href;
}
