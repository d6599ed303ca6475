// The page side of the diffusion worker: RuntimeApi over Comlink, with callbacks proxied, URLs
// resolved against the page, and coded errors (RuntimeError) restored. Pages use this, never
// postMessage, so the worker protocol stays an implementation detail.

import { proxy, releaseProxy, transferHandlers, wrap, type Remote } from 'comlink';
import {
  installRuntimeErrors,
  type GenerateEvent, type GenerateRequest, type GenerateResult, type LoadEvent, type LoadOptions, type ModelInfo,
  type RuntimeApi,
} from '../runtime/api.ts';

export interface RuntimeClient extends RuntimeApi {
  /** dispose(), then stop the worker. The client is unusable afterwards. */
  terminate(): Promise<void>;
}

/** The project's worker (bundled by Vite from the URL pattern). */
export function createDiffusionWorker(): Worker {
  return new Worker(new URL('../../workers/diffusion.worker.ts', import.meta.url), { type: 'module', name: 'erta-diffusion' });
}

/** Relative manifest URLs mean "relative to this page", not to the worker script. */
function absolute(url: string): string {
  return new URL(url, globalThis.location?.href).href;
}

export function createRuntimeClient(worker: Worker = createDiffusionWorker()): RuntimeClient {
  installRuntimeErrors(transferHandlers);
  const remote: Remote<RuntimeApi> = wrap<RuntimeApi>(worker);
  return {
    load: (url: string, options?: LoadOptions, onProgress?: (e: LoadEvent) => void): Promise<ModelInfo> =>
      remote.load(absolute(url), options, onProgress ? proxy(onProgress) : undefined),
    generate: (request: GenerateRequest, onEvent?: (e: GenerateEvent) => void): Promise<GenerateResult> =>
      remote.generate(request, onEvent ? proxy(onEvent) : undefined),
    cancel: (jobId: string) => remote.cancel(jobId),
    dispose: () => remote.dispose(),
    async terminate() {
      try {
        await remote.dispose();
      } finally {
        remote[releaseProxy]();
        worker.terminate();
      }
    },
  };
}
