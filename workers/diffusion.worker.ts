// The diffusion worker: a thin adapter. It builds the onnxruntime-web backend and exposes the
// RuntimeApi (src/runtime/api.ts) over Comlink; all behaviour lives in src/runtime and src/core.
// ORT is imported here, in our own worker, never through env.wasm.proxy (GPU tensors cannot
// cross a proxy worker).

import { expose, transfer, transferHandlers } from 'comlink';
import type { OrtBuildRequest, OrtFiles } from '../src/backend/ort-files.ts';
import { createWebBackend } from '../src/backend/web.ts';
import { installRuntimeErrors } from '../src/runtime/api.ts';
import { createRuntime } from '../src/runtime/create-runtime.ts';
import type { WorkerApi } from '../src/runtime/worker-api.ts';
import { idbPlanStore } from '../src/storage/plan-store.ts';

installRuntimeErrors(transferHandlers);

// ORT's files sit in ort/ beside the app (vite.config.ts): '../ort/' from workers/ in dev and
// from assets/ in a build, so the app also works under a sub-path. Resolved against the worker
// script's URL (not an import.meta.url pattern, which bundlers would take for an asset to copy).
// The package's client sends the files beside its own modules instead (useOrtFiles).
let ortFiles: OrtFiles = new URL('../ort/', self.location.href).href;
let ortBuild: OrtBuildRequest = 'auto';
let wasmThreads: number | undefined;

const runtime = createRuntime(createWebBackend({ wasmPaths: () => ortFiles, ortBuild: () => ortBuild, wasmThreads: () => wasmThreads }), {
  transfer, // frames and final images move to the page instead of being copied
  baseUrl: self.location.origin + '/',
  plans: idbPlanStore(), // calibrate()'s plans, kept beside the model files
});

const api: WorkerApi = {
  ...runtime,
  async useOrtFiles(files: OrtFiles | null, build: OrtBuildRequest = 'auto', threads?: number) {
    if (files !== null) ortFiles = files;
    ortBuild = build === 'asyncify' ? 'asyncify' : 'auto';
    wasmThreads = Number.isInteger(threads) && threads! >= 1 && threads! <= 16 ? threads : undefined; // the client checked it
  },
};

expose(api);
