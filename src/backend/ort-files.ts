// Where ONNX Runtime Web's run-time files are. ORT's JS is bundled into the worker; its
// WebAssembly binary and the .mjs glue that loads it are fetched at run time from these URLs
// (env.wasm.wasmPaths). They must be the exact files of the bundled ORT version.
//
// Two builds of onnxruntime-web 1.30 are used, both with the native WebGPU EP and the WASM EP:
// - 'jspi' (`onnxruntime-web/jspi`) where the browser has JavaScript Promise Integration
//   (`WebAssembly.Suspending`, Chromium 137+). Its external-data loader reads each weight
//   tensor from a Blob when the session asks for it, so a disk-backed Blob (OPFS, IndexedDB)
//   never becomes one whole-file JS buffer: the large-model load's peak stays near the resident
//   size (README, "Large models").
// - 'asyncify' (`onnxruntime-web/webgpu`) everywhere else: the same EPs, but external data must
//   be a whole buffer, so ORT reads every shard into memory before the session is created.

/** Which onnxruntime-web build the worker runs. */
export type OrtBuild = 'jspi' | 'asyncify';
/** 'auto': JSPI where the browser has it, else asyncify; 'asyncify': never JSPI. */
export type OrtBuildRequest = 'auto' | 'asyncify';

export interface OrtFilePair { mjs: string; wasm: string }

/** The two run-time files of each build. */
export const ORT_BUILD_FILES: Readonly<Record<OrtBuild, Readonly<OrtFilePair>>> = {
  jspi: { mjs: 'ort-wasm-simd-threaded.jspi.mjs', wasm: 'ort-wasm-simd-threaded.jspi.wasm' },
  asyncify: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
};

/** The fallback (asyncify) build's files: the pair every browser with WebAssembly can run. */
export const ORT_FILE_NAMES = ORT_BUILD_FILES.asyncify;

/** Every file a deployment's ort/ directory should hold (both builds). */
export const ORT_ALL_FILES: readonly string[] = [...Object.values(ORT_BUILD_FILES.jspi), ...Object.values(ORT_BUILD_FILES.asyncify)];

/**
 * Where ORT's files are: a directory URL that holds them (ending in '/'; relative URLs are
 * resolved against the page), or the URL of each file of the asyncify build, with those of the
 * JSPI build in `jspi` (without it, the asyncify build is used).
 */
export type OrtFiles = string | (OrtFilePair & { jspi?: OrtFilePair });

/** Whether this scope can run the JSPI build (`WebAssembly.Suspending`). */
export function hasJspi(scope: { WebAssembly?: unknown } = globalThis): boolean {
  const wasm = scope.WebAssembly as Record<string, unknown> | undefined;
  return typeof wasm === 'object' && wasm !== null && typeof wasm['Suspending'] === 'function';
}

/** The build to run: JSPI when asked for (auto), the scope has it and the files include it. */
export function chooseOrtBuild(files: OrtFiles, request: OrtBuildRequest, jspi: boolean): OrtBuild {
  if (request === 'asyncify' || !jspi) return 'asyncify';
  return typeof files === 'string' || files.jspi !== undefined ? 'jspi' : 'asyncify';
}

/** The absolute URLs of one build's two files in an OrtFiles. */
export function ortFileUrls(files: OrtFiles, base?: string, build: OrtBuild = 'asyncify'): OrtFilePair {
  if (typeof files !== 'string') {
    const pair = build === 'jspi' ? files.jspi : files;
    if (!pair) throw new Error('ortFileUrls: these ORT files have no JSPI build (chooseOrtBuild picks asyncify for them)');
    return { mjs: new URL(pair.mjs, base).href, wasm: new URL(pair.wasm, base).href };
  }
  const dir = new URL(files.endsWith('/') ? files : `${files}/`, base);
  const names = ORT_BUILD_FILES[build];
  return { mjs: new URL(names.mjs, dir).href, wasm: new URL(names.wasm, dir).href };
}

/** What a file's Content-Type must look like for the browser to run it. */
const EXPECTED: Record<'mjs' | 'wasm', RegExp> = { mjs: /javascript|ecmascript/i, wasm: /wasm|octet-stream/i };

/**
 * Why ORT's files cannot be loaded from `urls`, or null when both answer as they should. One
 * HEAD request per file; run only after ORT failed to start, to name the URL that is wrong
 * (a 404, an HTML fallback page served for a missing file, a blocked request).
 */
export async function probeOrtFiles(urls: OrtFilePair,
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
