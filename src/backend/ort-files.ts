// Where ONNX Runtime Web's two run-time files are. ORT's JS is bundled into the worker; its
// WebAssembly binary and the .mjs glue that loads it are fetched at run time from these URLs
// (env.wasm.wasmPaths). They must be the exact files of the bundled ORT version.

/** The files of onnxruntime-web's 'webgpu' build (WebGPU EP + WASM, the "asyncify" binaries). */
export const ORT_FILE_NAMES = {
  mjs: 'ort-wasm-simd-threaded.asyncify.mjs',
  wasm: 'ort-wasm-simd-threaded.asyncify.wasm',
} as const;

/**
 * Where ORT's files are: a directory URL that holds both (ending in '/'; relative URLs are
 * resolved against the page), or the URL of each file.
 */
export type OrtFiles = string | { mjs: string; wasm: string };

/** The two absolute file URLs of an OrtFiles. */
export function ortFileUrls(files: OrtFiles, base?: string): { mjs: string; wasm: string } {
  if (typeof files !== 'string') return { mjs: new URL(files.mjs, base).href, wasm: new URL(files.wasm, base).href };
  const dir = new URL(files.endsWith('/') ? files : `${files}/`, base);
  return { mjs: new URL(ORT_FILE_NAMES.mjs, dir).href, wasm: new URL(ORT_FILE_NAMES.wasm, dir).href };
}

/** What a file's Content-Type must look like for the browser to run it. */
const EXPECTED: Record<'mjs' | 'wasm', RegExp> = { mjs: /javascript|ecmascript/i, wasm: /wasm|octet-stream/i };

/**
 * Why ORT's files cannot be loaded from `urls`, or null when both answer as they should. One
 * HEAD request per file; run only after ORT failed to start, to name the URL that is wrong
 * (a 404, an HTML fallback page served for a missing file, a blocked request).
 */
export async function probeOrtFiles(urls: { mjs: string; wasm: string },
  fetchFn: (url: string, init: RequestInit) => Promise<Response> = (u, i) => fetch(u, i)): Promise<string | null> {
  for (const kind of ['mjs', 'wasm'] as const) {
    const url = urls[kind];
    let res: Response;
    try {
      res = await fetchFn(url, { method: 'HEAD', cache: 'no-store' });
    } catch (e) {
      return `${url} could not be fetched (${e instanceof Error ? e.message : String(e)})`;
    }
    if (res.status === 405 || res.status === 501) continue; // a server without HEAD: cannot tell
    if (!res.ok) return `${url} answered HTTP ${res.status}`;
    const type = res.headers.get('content-type') ?? '';
    if (type !== '' && !EXPECTED[kind].test(type)) return `${url} answered ${type.split(';')[0]}, not ORT's ${kind === 'mjs' ? 'JavaScript' : 'WebAssembly'} file`;
  }
  return null;
}
