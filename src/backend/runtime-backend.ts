// The seam between the runtime (src/runtime) and an execution backend: everything that touches
// the network, storage, ONNX Runtime or the GPU sits behind it, so the runtime itself is plain
// orchestration over core. web.ts implements it for the browser; a test can fake it.

import type { Denoiser, TensorOps } from '../core/types.ts';
import type { GraphMode, GraphName, ModelManifest } from '../manifest/types.ts';
import type { ProviderReport, ProviderRequest } from './providers.ts';
import type { PipelineGraphs } from './text-pipeline.ts';
import type { FileSpec, LoadedFile, LoadedJson, LoadFileOptions } from './weight-store.ts';
import type { GraphSource } from './sessions.ts';
import type { DownloadSpec } from '../storage/download.ts';
import type { CachedModel } from '../storage/cached-models.ts';

export interface LargeFileOptions {
  cache?: boolean;
  chunkBytes?: number;
  /** Progress of file `index` of the specs. */
  onProgress?: (index: number, loaded: number, total: number) => void;
  /** A warning to show at once (e.g. stored data gone: file `index` downloads again). */
  onWarning?: (index: number, message: string) => void;
}

export interface LargeFile {
  /** The verified bytes: a disk-backed Blob from storage, or bytes in memory (cache: false). */
  data: Blob | Uint8Array;
  fromCache: boolean;
  downloaded: number;
  warnings: string[];
}

export interface BackendOps<T> extends TensorOps<T> {
  /** Host read-backs so far (monotonic); the runtime reports per-run differences. */
  readonly readbacks: number;
  /**
   * Resolves when the device has finished all submitted work (a fence, not a read-back).
   * Absent on the CPU. Without it a GPU run is only *queued* step after step, so step times
   * would be submission times and cancel() could not stop work already queued.
   */
  sync?(): Promise<void>;
}

/** One model opened on one execution provider. */
export interface OpenModel<T> {
  /** Class models: the transformer. Text models: use pipeline.bind(contexts) instead. */
  readonly denoiser: Denoiser<T>;
  /** Text models: encoder, bound transformer, VAE decoder, preview map. Absent or null for class models. */
  readonly pipeline?: PipelineGraphs<T> | null;
  readonly ops: BackendOps<T>;
  readonly provider: ProviderReport;
  /** Why the device is gone (GPU device lost), or null while it is usable. */
  lostReason(): string | null;
  /** Releases the sessions and every GPU buffer the ops hold. */
  release(): Promise<void>;
}

export interface RuntimeBackend<T> {
  /** A JSON document (manifest, plan) with typed HTTP / network errors; cached for offline use. */
  loadJson(url: string, what: 'manifest' | 'plan' | 'prompts', options: { cache?: boolean }): Promise<LoadedJson>;
  /** A manifest-listed file: verified against its sha256, from the cache when possible. */
  loadFile(spec: FileSpec, options: LoadFileOptions): Promise<LoadedFile>;
  /** Sessions, denoiser and ops for verified graphs (bytes, plus shards), on the provider the request allows. */
  openModel(manifest: ModelManifest, mode: GraphMode, graphs: Partial<Record<GraphName, GraphSource>>,
    request: ProviderRequest): Promise<OpenModel<T>>;
  /**
   * Large files (external-data shards): chunked, resumable, verified downloads kept in storage
   * (src/storage), after a storage-estimate check for all of them. Absent: loadFile is used.
   */
  loadLargeFiles?(specs: DownloadSpec[], options: LargeFileOptions): Promise<LargeFile[]>;
  /** What is stored per model (src/storage/cached-models.ts). */
  cachedModels?(): Promise<CachedModel[]>;
  deleteCachedModel?(manifestUrl: string): Promise<number>;
}
