// The diffusion worker: a thin adapter. It builds the onnxruntime-web backend and exposes the
// RuntimeApi (src/runtime/api.ts) over Comlink; all behaviour lives in src/runtime and src/core.
// ORT is imported here, in our own worker, never through env.wasm.proxy (GPU tensors cannot
// cross a proxy worker).

import { expose, transfer, transferHandlers } from 'comlink';
import { createWebBackend } from '../src/backend/web.ts';
import { installRuntimeErrors, type RuntimeApi } from '../src/runtime/api.ts';
import { createRuntime } from '../src/runtime/create-runtime.ts';

installRuntimeErrors(transferHandlers);

// ORT's files sit in ort/ beside the app (vite.config.ts): '../ort/' from workers/ in dev and
// from assets/ in a build, so the app also works under a sub-path. A variable, not a literal,
// keeps Vite from treating the directory as an asset to bundle.
const ortDir = '../ort/';

const runtime: RuntimeApi = createRuntime(createWebBackend({ wasmPaths: new URL(ortDir, import.meta.url).href }), {
  transfer, // frames and final images move to the page instead of being copied
  baseUrl: self.location.origin + '/',
});

expose(runtime);
