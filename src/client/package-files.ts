// Where the worker script and ONNX Runtime's files are, in the package (`npm run build:lib`
// puts this module in place of worker-files.ts): beside the package's own modules, found
// relative to this module's URL. That works as is on any static server, under any sub-path.
//
// The package build strips the `@vite-ignore` marks from its output (vite.config.ts), so a
// consumer's bundler sees the plain `new Worker(new URL('./worker.js', import.meta.url))` and
// `new URL('./ort/…', import.meta.url)` patterns and copies the worker and ORT's files into its
// own build; here they only keep this build from bundling them a second time.

import type { OrtFiles } from '../backend/ort-files.ts';

/** A new diffusion worker: the package's worker.js. */
export function createDiffusionWorker(): Worker {
  return new Worker(new URL(/* @vite-ignore */ './worker.js', import.meta.url), { type: 'module', name: 'erta-diffusion' });
}

/**
 * ORT's files beside this module, in ort/: both builds (the worker picks one). The names are
 * literals (bundlers need them so) and must be ORT_BUILD_FILES (src/backend/ort-files.ts): the
 * package build checks it.
 */
export function defaultOrtFiles(): OrtFiles {
  return {
    mjs: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
    wasm: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
    jspi: {
      mjs: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.jspi.mjs', import.meta.url).href,
      wasm: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.jspi.wasm', import.meta.url).href,
    },
  };
}
