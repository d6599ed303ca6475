// loadNodeModel: a model directory → validated manifest, verified graphs, onnxruntime-node
// sessions and a denoiser with CPU ops. Used by the CLI, calibration and the golden tests.
// onnxruntime-node is imported lazily so that merely importing this module costs nothing and
// tests can inject another namespace.

import type * as OrtNode from 'onnxruntime-node';
import { UnsupportedError } from '../core/errors.ts';
import type { Denoiser } from '../core/types.ts';
import type { GraphMode, GraphName, ModelManifest } from '../manifest/types.ts';
import { requireGraphs } from '../manifest/validate.ts';
import { createSingleDenoiser, createSplitDenoiser } from './denoiser.ts';
import { readManifestFile, readVerifiedGraph, verifyShardedGraph } from './node-files.ts';
import { ortCpuOps, type OrtCpuOps } from './ort-cpu-ops.ts';
import type { OrtNamespace } from './ort-types.ts';
import { createRunQueue, type RunQueue } from './run-queue.ts';
import { createGraphSessions, releaseSessions, type GraphSessions, type GraphSource, type SessionOptionsFor } from './sessions.ts';
import { createPipelineGraphs, type PipelineGraphs } from './text-pipeline.ts';
import { pipelineGraphNames } from '../manifest/pipeline.ts';
import { combineTokenizers, createPromptTokenizer, type PromptTokenizer } from '../runtime/prompts.ts';

export type NodeTensor = OrtNode.Tensor;

export interface NodeModelOptions {
  /** Which graphs to run. Default 'split' (embed | blocks | head: hidden-space caching). */
  graphs?: GraphMode;
  /** Passed to every InferenceSession.create (e.g. intraOpNumThreads). Default: ORT's defaults. */
  sessionOptions?: SessionOptionsFor;
  /** The onnxruntime namespace. Default: `await import('onnxruntime-node')`. */
  ort?: OrtNamespace<NodeTensor>;
}

export interface NodeModel {
  readonly manifest: ModelManifest;
  readonly mode: GraphMode;
  readonly denoiser: Denoiser<NodeTensor>;
  readonly ops: OrtCpuOps<NodeTensor>;
  readonly ort: OrtNamespace<NodeTensor>;
  readonly sessions: GraphSessions<NodeTensor>;
  readonly queue: RunQueue;
  /** Text models: the encoder, bound transformer, VAE decoder and preview; null for class models. */
  readonly pipeline: PipelineGraphs<NodeTensor> | null;
  /** Text models: the model's tokenizer (truncates / pads to the encoder's length). */
  readonly tokenizer: PromptTokenizer | null;
  /** Execution provider that runs the graphs (onnxruntime-node here: 'cpu'). */
  readonly provider: string;
  release(): Promise<void>;
}

/** Verified bytes → sessions for the named graphs of a model directory. */
export async function loadNodeSessions(
  ort: OrtNamespace<NodeTensor>,
  manifest: ModelManifest,
  names: readonly GraphName[],
  sessionOptions?: SessionOptionsFor,
): Promise<GraphSessions<NodeTensor>> {
  const bytes: Partial<Record<GraphName, GraphSource>> = {};
  for (const name of names) {
    const entry = manifest.graphs[name];
    if (!entry) continue;
    bytes[name] = entry.externalData
      ? { model: await verifyShardedGraph(manifest.baseUrl, entry) }
      : await readVerifiedGraph(manifest.baseUrl, entry);
  }
  return createGraphSessions(ort, bytes, sessionOptions);
}

/** onnxruntime-node is a peer dependency of the package: say how to install it when it is missing. */
async function importOrtNode(): Promise<OrtNamespace<NodeTensor>> {
  try {
    return (await import('onnxruntime-node')) as OrtNamespace<NodeTensor>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new UnsupportedError(`onnxruntime-node is not installed (${(e as Error).message.split('\n')[0]})`,
      'install it beside erta-diffusion: npm install onnxruntime-node (a peer dependency, ^1.30)');
  }
}

export async function loadNodeModel(dir: string, options: NodeModelOptions = {}): Promise<NodeModel> {
  const mode = options.graphs ?? 'split';
  const manifest = await readManifestFile(dir);
  const names = [...Object.keys(requireGraphs(manifest, mode)), ...pipelineGraphNames(manifest)] as GraphName[];
  const ort = options.ort ?? (await importOrtNode());
  const tokenizer = manifest.pipeline ? await readTokenizer(manifest) : null;
  const sessions = await loadNodeSessions(ort, manifest, names, options.sessionOptions);
  const queue = createRunQueue();
  try {
    const ops = ortCpuOps(ort);
    const pipeline = manifest.pipeline ? createPipelineGraphs({ ort, sessions, manifest, mode, ops, queue }) : null;
    const denoiser = pipeline
      ? pipeline.bind([])
      : mode === 'split'
        ? createSplitDenoiser(ort, sessions, manifest, { queue })
        : createSingleDenoiser(ort, sessions, manifest, { queue });
    return {
      manifest,
      mode,
      denoiser,
      pipeline,
      tokenizer,
      ops,
      ort,
      sessions,
      queue,
      provider: 'cpu',
      release: () => releaseSessions(sessions),
    };
  } catch (e) {
    await releaseSessions(sessions);
    throw e;
  }
}

/** The text model's tokenizer.json files (one per text encoder), verified against the manifest's sha256, as one tokenizer. */
async function readTokenizer(m: ModelManifest): Promise<PromptTokenizer> {
  const list: PromptTokenizer[] = [];
  for (const { tokenizer: t } of m.pipeline!.encoders) {
    const bytes = await readVerifiedGraph(m.baseUrl, t);
    list.push(createPromptTokenizer(JSON.parse(new TextDecoder().decode(bytes)), t.maxLength, t.padId));
  }
  return combineTokenizers(list);
}
