// load(): manifest → verified graph bytes (IndexedDB or network, with byte progress) → sessions
// on the chosen provider. Every artifact is validated here, at the boundary.

import type { OpenModel, RuntimeBackend } from '../backend/runtime-backend.ts';
import type { GraphMode, GraphName, ModelManifest } from '../manifest/types.ts';
import { parseManifest, requireGraphs, resolveModelFile } from '../manifest/validate.ts';
import type { LoadEvent, LoadOptions, ModelInfo } from './api.ts';

export interface LoadedModel<T> {
  manifest: ModelManifest;
  mode: GraphMode;
  open: OpenModel<T>;
  info: ModelInfo;
}

/** The directory a manifest URL lives in: graph and plan files resolve against it. */
function directoryOf(url: string): string {
  return new URL('.', url).href;
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
  const mode = options.graphs ?? 'split';
  const entries = requireGraphs(manifest, mode);

  const graphs: Partial<Record<GraphName, Uint8Array>> = {};
  const cachedFiles: string[] = [];
  let downloadedBytes = 0;
  for (const [name, entry] of Object.entries(entries) as [GraphName, (typeof entries)[string]][]) {
    const spec = { url: resolveModelFile(manifest.baseUrl, entry.file), sha256: entry.sha256, bytes: entry.bytes };
    const file = await backend.loadFile(spec, {
      cache,
      onProgress: (loaded, total) => emit({ type: 'download', file: entry.file, loaded, total, fromCache: false }),
    });
    file.warnings.forEach(warn);
    if (file.fromCache) {
      cachedFiles.push(entry.file);
      emit({ type: 'download', file: entry.file, loaded: entry.bytes, total: entry.bytes, fromCache: true });
    } else {
      downloadedBytes += file.bytes.byteLength;
    }
    graphs[name] = file.bytes;
  }

  const open = await backend.openModel(manifest, mode, graphs, options.provider ?? 'auto');
  open.provider.notes.forEach(warn);
  const info: ModelInfo = {
    name: manifest.name,
    modelHash: manifest.modelHash,
    weights: manifest.weights ?? null,
    graphs: mode,
    latent: { ...manifest.latent },
    classes: manifest.conditioning.classes,
    nullLabel: manifest.conditioning.nullLabel,
    defaultSteps: manifest.scheduler.defaultSteps,
    defaultGuidance: manifest.scheduler.defaultGuidance,
    plans: manifest.plans.map((p) => ({ ...p })),
    provider: open.provider,
    downloadedBytes,
    cachedFiles,
    warnings,
    loadMs: performance.now() - t0,
  };
  return { manifest, mode, open, info };
}
