// The RuntimeBackend on onnxruntime-node: model files from the local disk (file: URLs), verified
// against the manifest, sessions on ORT's CPU execution provider. It lets the whole runtime
// (createRuntime: load, prompts, generate, events) run in Node exactly as in the worker, which
// the text-to-image golden test uses. The report says 'wasm' because ProviderName names browser
// providers; its reason says what really runs.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { manifestError } from '../manifest/errors.ts';
import { createSingleDenoiser, createSplitDenoiser } from './denoiser.ts';
import { readVerifiedGraph } from './node-files.ts';
import type { NodeTensor } from './node-model.ts';
import { ortCpuOps } from './ort-cpu-ops.ts';
import type { OrtNamespace } from './ort-types.ts';
import { createRunQueue } from './run-queue.ts';
import type { RuntimeBackend } from './runtime-backend.ts';
import { createGraphSessions, releaseSessions, type SessionOptionsFor } from './sessions.ts';
import { createPipelineGraphs } from './text-pipeline.ts';

export interface NodeBackendOptions {
  sessionOptions?: SessionOptionsFor;
  /** Default: `await import('onnxruntime-node')`. */
  ort?: OrtNamespace<NodeTensor>;
}

const pathOf = (url: string) => (url.startsWith('file:') ? fileURLToPath(url) : url);

export function createNodeBackend(options: NodeBackendOptions = {}): RuntimeBackend<NodeTensor> {
  return {
    async loadJson(url, what) {
      let text: string;
      try {
        text = await readFile(pathOf(url), 'utf8');
      } catch (e) {
        throw manifestError('MODEL_FILE_MISSING', `cannot read the ${what} ${url} (${(e as NodeJS.ErrnoException).code})`,
          'point at a manifest.json on this disk (a file: URL)', { cause: e });
      }
      try {
        return { json: JSON.parse(text), fromCache: false, warnings: [] };
      } catch (e) {
        throw manifestError('MANIFEST_FORMAT', `${url} is not JSON (${(e as Error).message})`, 'restore the file', { cause: e });
      }
    },
    async loadFile(spec) {
      const path = pathOf(spec.url);
      const slash = path.lastIndexOf('/');
      const bytes = await readVerifiedGraph(path.slice(0, slash), { file: path.slice(slash + 1), sha256: spec.sha256, bytes: spec.bytes });
      return { bytes, fromCache: false, warnings: [] };
    },
    async openModel(manifest, mode, graphs, request) {
      const ort = options.ort ?? ((await import('onnxruntime-node')) as OrtNamespace<NodeTensor>);
      const sessions = await createGraphSessions(ort, graphs, options.sessionOptions);
      try {
        const ops = ortCpuOps(ort);
        const queue = createRunQueue();
        const pipeline = manifest.pipeline ? createPipelineGraphs({ ort, sessions, manifest, mode, ops, queue }) : null;
        const denoiser = pipeline
          ? pipeline.bind([])
          : mode === 'split' ? createSplitDenoiser(ort, sessions, manifest, { queue }) : createSingleDenoiser(ort, sessions, manifest, { queue });
        return {
          denoiser, pipeline, ops, lostReason: () => null,
          provider: { requested: request, used: 'wasm', reason: 'onnxruntime-node (CPU execution provider)', threads: 0,
            crossOriginIsolated: false, notes: [] },
          release: () => releaseSessions(sessions),
        };
      } catch (e) {
        await releaseSessions(sessions);
        throw e;
      }
    },
  };
}
