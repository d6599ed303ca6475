// Where the worker script and ONNX Runtime's files are, in this checkout (demo, dev server, the
// dist/erta-diffusion.js bundle): Vite bundles the worker from its source, and the worker finds
// ORT's files in ort/ beside the app (vite.config.ts), so there is nothing to send it.
// The package build (`npm run build:lib`) swaps this module for package-files.ts.

import type { OrtFiles } from '../backend/ort-files.ts';

/** A new diffusion worker. */
export function createDiffusionWorker(): Worker {
  return new Worker(new URL('../../workers/diffusion.worker.ts', import.meta.url), { type: 'module', name: 'erta-diffusion' });
}

/** Where ORT's files are by default; null: wherever the worker looks itself. */
export function defaultOrtFiles(): OrtFiles | null {
  return null;
}
