// Sharded weights: a graph whose initializers live in ONNX external data files ("shards"), each
// under 2 GB, declared in the manifest beside the graph they belong to:
//
//   "blocks": { "file": "blocks.onnx", "sha256": "…", "bytes": 52311, "inputs": …, "outputs": …,
//               "externalData": [ { "path": "blocks.weights.0.bin", "sha256": "…", "bytes": 1073741824 }, … ] }
//
// `path` is exactly the location the ONNX graph names for its tensors (relative to the graph
// file's folder, as ONNX defines it); the shard is fetched from that folder and checked against
// its sha256 and size like every other model file. The model hash covers the shards too, so a
// plan is bound to the weights and not only to the graph that points at them.

import { manifestError } from './errors.ts';
import { invalidField, reader, type FieldReader } from './fields.ts';
import { checkFileRef } from './urls.ts';

const WHERE = 'manifest.json';
const SHA256 = /^[0-9a-f]{64}$/;

export const SHARD_LIMITS = {
  /** One shard: below 2 GiB (protobuf, IndexedDB and ArrayBuffer limits all sit at or near it). */
  shardBytes: 2 ** 31 - 1,
  /** Shards per graph. */
  shards: 256,
} as const;

export interface ShardEntry {
  /** The external-data location the graph names (relative to the graph file's folder). */
  path: string;
  /** Lower-case hex sha256 of the shard file. */
  sha256: string;
  bytes: number;
}

/** The optional externalData list of a graph entry; undefined when the graph is self-contained. */
export function parseExternalData(g: FieldReader, fileOrigins: readonly string[]): ShardEntry[] | undefined {
  if (!g.has('externalData')) return undefined;
  const list = g.arr('externalData');
  const where = `${g.path}.externalData`;
  if (list.length === 0 || list.length > SHARD_LIMITS.shards) {
    invalidField(WHERE, where, `an array of 1 to ${SHARD_LIMITS.shards} shards`, list.length);
  }
  const seen = new Set<string>();
  return list.map((item, k) => {
    const s = reader(item, WHERE, `${where}[${k}]`);
    const path = s.str('path', 1024);
    checkFileRef(`${s.path}.path`, path, fileOrigins);
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(path)) {
      throw manifestError('MODEL_FILE_URL', `${WHERE}: ${s.path}.path ${JSON.stringify(path.slice(0, 80))} is a URL`,
        'an external-data shard is named by the location the ONNX graph records: a path relative to the graph file');
    }
    if (seen.has(path)) invalidField(WHERE, `${s.path}.path`, 'a path no other shard of this graph uses', path);
    seen.add(path);
    const sha256 = s.str('sha256').toLowerCase();
    if (!SHA256.test(sha256)) invalidField(WHERE, `${s.path}.sha256`, '64 hex digits', sha256);
    return { path, sha256, bytes: s.int('bytes', 1, SHARD_LIMITS.shardBytes) };
  });
}

/** Optional weight facts of a graph entry: largestTensorBytes and weightsDtype. */
export function parseWeightFields(g: FieldReader): { largestTensorBytes?: number; weightsDtype?: 'float32' | 'float16' } {
  const out: { largestTensorBytes?: number; weightsDtype?: 'float32' | 'float16' } = {};
  if (g.has('largestTensorBytes')) out.largestTensorBytes = g.int('largestTensorBytes', 1, 2 ** 32);
  const dtype = g.optStr('weightsDtype');
  if (dtype !== undefined) {
    if (dtype !== 'float32' && dtype !== 'float16') invalidField(WHERE, `${g.path}.weightsDtype`, '"float32" or "float16"', dtype);
    out.weightsDtype = dtype;
  }
  return out;
}

/** The shard's file, relative to the manifest folder: beside the graph file that names it. */
export function shardFile(graphFile: string, shard: Pick<ShardEntry, 'path'>): string {
  const slash = graphFile.lastIndexOf('/');
  return slash < 0 ? shard.path : `${graphFile.slice(0, slash + 1)}${shard.path}`;
}

/** Bytes of a graph with its shards. */
export function graphTotalBytes(g: { bytes: number; externalData?: readonly ShardEntry[] }): number {
  return g.bytes + (g.externalData ?? []).reduce((s, x) => s + x.bytes, 0);
}

/**
 * The hash text one graph contributes to the model hash: its own sha256, followed by its shards'
 * in manifest order (a graph without shards contributes exactly its sha256, as before).
 */
export function graphHashText(g: { sha256: string; externalData?: readonly Pick<ShardEntry, 'sha256'>[] }): string {
  return [g.sha256, ...(g.externalData ?? []).map((s) => s.sha256)].map((h) => h.toLowerCase()).join('');
}
