// load(): manifest → verified graph bytes (IndexedDB or network, with byte progress) → sessions
// on the chosen provider. Every artifact is validated here, at the boundary.

import type { OpenModel, RuntimeBackend } from '../backend/runtime-backend.ts';
import { manifestError } from '../manifest/errors.ts';
import type { GraphEntry, GraphMode, GraphName, ModelManifest, TokenizerEntry } from '../manifest/types.ts';
import { shardFile } from '../manifest/shards.ts';
import type { GraphSource } from '../backend/sessions.ts';
import { verifyModelHash } from '../manifest/hash.ts';
import { parseManifest, requireGraphs, resolveModelFile } from '../manifest/validate.ts';
import { pipelineGraphNames } from '../manifest/pipeline.ts';
import type { LoadEvent, LoadOptions, ModelInfo } from './api.ts';
import { combineTokenizers, createPromptTokenizer, type PromptTokenizer } from './prompts.ts';

export interface LoadedModel<T> {
  manifest: ModelManifest;
  mode: GraphMode;
  open: OpenModel<T>;
  info: ModelInfo;
  /** Text models: the tokenizer (from the manifest's tokenizer.json); null for class models. */
  tokenizer: PromptTokenizer | null;
  /**
   * The manifest's plan files parsed so far (file → JSON), fetched on a generation's first use
   * and kept with the model: fetching one per generation cost 7–9 ms a call in Chromium.
   */
  plans: Map<string, unknown>;
}

/** The directory a manifest URL lives in: graph and plan files resolve against it. */
function directoryOf(url: string): string {
  return new URL('.', url).href;
}

/**
 * One run of the label path at load: the last real class and the null class, batch 2. The
 * sessions' declared dtypes and shapes are checked when they are created; what no metadata
 * says is how many labels the graph embeds, so a nullLabel (or class count) beyond its table
 * fails here, typed, instead of at the first generate(). Split: embed only (cheap).
 */
async function probeLabels<T>(open: OpenModel<T>, m: ModelManifest): Promise<void> {
  const c = m.conditioning;
  if (c.type !== 'class') return; // text models: prompts, no label table
  const { channels, height, width } = m.latent;
  const { ops, denoiser } = open;
  const x = ops.fromHost(new Float32Array(2 * channels * height * width), [2, channels, height, width]);
  const labels = Int32Array.from([c.classes - 1, c.nullLabel]);
  const outputs: T[] = [];
  try {
    if (denoiser.kind === 'single') {
      outputs.push(await denoiser.forward(x, 1, labels));
    } else {
      const e = await denoiser.embed(x, 1, labels);
      outputs.push(e.h, e.c, e.mod0);
    }
  } catch (e) {
    if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') throw e;
    const graph = denoiser.kind === 'single' ? 'model' : 'embed';
    throw manifestError('GRAPH_SPEC_MISMATCH',
      `${graph}.onnx fails on labels [${labels.join(', ')}] (conditioning.classes − 1 and nullLabel): `
        + `${e instanceof Error ? e.message : String(e)}`,
      'conditioning.classes / nullLabel in manifest.json do not match the graph\'s label embedding; fix them or re-export');
  } finally {
    ops.dispose(x);
    outputs.forEach((t) => ops.dispose(t));
  }
}

export async function loadModel<T>(backend: RuntimeBackend<T>, manifestUrl: string, options: LoadOptions,
  emit: (e: LoadEvent) => void): Promise<LoadedModel<T>> {
  const t0 = performance.now();
  const cache = options.cache ?? true;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    emit({ type: 'warning', message });
  };
  const doc = await backend.loadJson(manifestUrl, 'manifest', { cache });
  doc.warnings.forEach(warn);
  const manifest = parseManifest(doc.json, directoryOf(manifestUrl));
  await verifyModelHash(manifest);
  const mode = options.graphs ?? 'split';
  const entries = { ...requireGraphs(manifest, mode) };
  for (const name of pipelineGraphNames(manifest)) entries[name] = manifest.graphs[name]!;

  const graphs: Partial<Record<GraphName, GraphSource>> = {};
  const cachedFiles: string[] = [];
  let downloadedBytes = 0;
  const fetchFile = async (entry: { file: string; sha256: string; bytes: number }): Promise<Uint8Array> => {
    const spec = { url: resolveModelFile(manifest.baseUrl, entry.file, manifest.fileOrigins), sha256: entry.sha256, bytes: entry.bytes };
    const file = await backend.loadFile(spec, {
      cache, model: manifestUrl,
      onProgress: (loaded, total) => emit({ type: 'download', file: entry.file, loaded, total, fromCache: false }),
    });
    file.warnings.forEach(warn);
    if (file.fromCache) {
      cachedFiles.push(entry.file);
      emit({ type: 'download', file: entry.file, loaded: entry.bytes, total: entry.bytes, fromCache: true });
    } else {
      downloadedBytes += file.bytes.byteLength;
    }
    return file.bytes;
  };
  for (const [name, entry] of Object.entries(entries) as [GraphName, (typeof entries)[string]][]) {
    graphs[name] = await fetchFile(entry);
  }
  const shards = await loadShards(backend, manifest, manifestUrl, entries, options, emit, warn);
  for (const [name, list] of Object.entries(shards) as [GraphName, ShardData[]][]) {
    graphs[name] = { model: graphs[name] as Uint8Array, externalData: list.map((s) => ({ path: s.path, data: s.data })) };
    for (const s of list) {
      s.warnings.forEach(warn);
      if (s.fromCache) cachedFiles.push(s.file);
      downloadedBytes += s.downloaded;
    }
  }
  // every encoder's tokenizer.json (Flux: CLIP's and T5's), as one tokenizer whose ids are theirs one after the other
  const tokenizers: PromptTokenizer[] = [];
  for (const e of manifest.pipeline?.encoders ?? []) tokenizers.push(tokenizerFrom(await fetchFile(e.tokenizer), e.tokenizer));
  const tokenizer = manifest.pipeline ? combineTokenizers(tokenizers) : null;

  const open = await backend.openModel(manifest, mode, graphs, options.provider ?? 'auto');
  try {
    await probeLabels(open, manifest);
  } catch (e) {
    await open.release();
    throw e;
  }
  open.provider.notes.forEach(warn);
  const c = manifest.conditioning;
  const info: ModelInfo = {
    name: manifest.name,
    modelHash: manifest.modelHash,
    weights: manifest.weights ?? null,
    graphs: mode,
    latent: { ...manifest.latent },
    conditioning: c.type,
    image: { ...manifest.image },
    classes: c.type === 'class' ? c.classes : 0,
    nullLabel: c.type === 'class' ? c.nullLabel : -1,
    // several text encoders: the most tokens any of them reads (Flux: T5's, not the 77 of CLIP); one: its length
    maxTokens: c.type === 'text' ? Math.max(...manifest.pipeline!.encoders.map((e) => e.tokenizer.maxLength)) : null,
    defaultNegativePrompt: c.type === 'text' ? c.defaultNegativePrompt : null,
    examplePrompts: c.type === 'text' ? [...c.examplePrompts] : [],
    defaultSteps: manifest.scheduler.defaultSteps,
    defaultGuidance: manifest.scheduler.defaultGuidance,
    defaultEmbeddedGuidance: manifest.scheduler.defaultEmbeddedGuidance ?? null,
    pooledDim: c.type === 'text' ? c.pooledDim ?? null : null,
    plans: manifest.plans.map((p) => ({ ...p })),
    provider: open.provider,
    downloadedBytes,
    cachedFiles,
    warnings,
    loadMs: performance.now() - t0,
  };
  return { manifest, mode, open, info, tokenizer, plans: new Map() };
}

interface ShardData {
  path: string;
  file: string;
  data: Blob | Uint8Array;
  fromCache: boolean;
  downloaded: number;
  warnings: string[];
}

/**
 * Every external-data shard of the graphs to load: one storage check for all of them, then
 * chunked, resumable, verified downloads with byte progress (backend.loadLargeFiles), or whole
 * files through loadFile where the backend has no large-file path.
 */
async function loadShards<T>(backend: RuntimeBackend<T>, m: ModelManifest, manifestUrl: string,
  entries: Record<string, GraphEntry>, options: LoadOptions, emit: (e: LoadEvent) => void,
  warn: (message: string) => void): Promise<Record<string, ShardData[]>> {
  const jobs = Object.entries(entries).flatMap(([name, entry]) => (entry.externalData ?? []).map((s) => {
    const file = shardFile(entry.file, s);
    return { name, path: s.path, file, spec: { url: resolveModelFile(m.baseUrl, file, m.fileOrigins), sha256: s.sha256, bytes: s.bytes, model: manifestUrl } };
  }));
  const out: Record<string, ShardData[]> = {};
  if (jobs.length === 0) return out;
  const progress = (k: number, loaded: number, total: number) =>
    emit({ type: 'download', file: jobs[k]!.file, loaded, total, fromCache: false });
  const files = backend.loadLargeFiles
    ? await backend.loadLargeFiles(jobs.map((j) => j.spec), {
      cache: options.cache ?? true, onProgress: progress, ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
      onWarning: (_k, message) => warn(message),
    })
    : await Promise.all(jobs.map(async (j, k) => {
      const f = await backend.loadFile(j.spec, { cache: options.cache ?? true, onProgress: (l, t) => progress(k, l, t) });
      return { data: f.bytes, fromCache: f.fromCache, downloaded: f.fromCache ? 0 : f.bytes.byteLength, warnings: f.warnings };
    }));
  files.forEach((f, k) => {
    const j = jobs[k]!;
    if (f.fromCache) emit({ type: 'download', file: j.file, loaded: j.spec.bytes, total: j.spec.bytes, fromCache: true });
    (out[j.name] ??= []).push({ path: j.path, file: j.file, ...f });
  });
  return out;
}

function tokenizerFrom(bytes: Uint8Array, t: TokenizerEntry): PromptTokenizer {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw manifestError('MANIFEST_FIELD_INVALID', `${t.file} is not JSON (${(e as Error).message})`,
      'Re-export the model (tools/export_t2i.py writes tokenizer/tokenizer.json).', { cause: e });
  }
  return createPromptTokenizer(json, t.maxLength, t.padId);
}
