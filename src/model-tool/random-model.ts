// A random-weight model folder of a chosen size: a host model's embed and head graphs (the
// shipped mnist-dit by default) around a random block stack (random-blocks.ts) written with
// external-data shards, and its manifest (graphs, shards, sha256, modelHash; no plans). Made at
// test or bench time, never committed: `npm run model:tool -- random --out DIR --bytes 1.2e9`.

import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelHashOf } from '../manifest/hash.ts';
import type { GraphEntry } from '../manifest/types.ts';
import { writeGraph, type WrittenGraph } from './external-data.ts';
import { blocksParameters, buildRandomBlocks, mlpForBytes } from './random-blocks.ts';

export interface RandomModelOptions {
  /** Host model folder whose embed/head (and sizes) are reused. */
  base: string;
  out: string;
  layers: number;
  /** MLP width; or `bytes` to size the stack (whichever is given; `mlp` wins). */
  mlp?: number;
  bytes?: number;
  weights?: 'float32' | 'float16';
  /** Largest shard (default 1 GiB). */
  shardBytes?: number;
  seed?: number;
  name?: string;
  /** Output scale of each branch (default 0.05); a huge gain makes a model that overflows fp16 (tests). */
  branchGain?: number;
}

export interface RandomModel {
  dir: string;
  manifest: Record<string, unknown>;
  blocks: WrittenGraph;
  parameters: number;
}

export async function writeRandomModel(o: RandomModelOptions): Promise<RandomModel> {
  const base = JSON.parse(await readFile(join(o.base, 'manifest.json'), 'utf8')) as Record<string, any>;
  const { tokens, dim } = base['hidden'] as { tokens: number; dim: number };
  const weights = o.weights ?? 'float32';
  const mlp = o.mlp ?? mlpForBytes(o.bytes ?? 64 * 2 ** 20, { dim, layers: o.layers, weights });
  await mkdir(o.out, { recursive: true });
  const graph = buildRandomBlocks({ dim, tokens, layers: o.layers, mlp, weights, seed: o.seed ?? 0,
    ...(o.branchGain !== undefined ? { branchGain: o.branchGain } : {}) });
  const blocks = await writeGraph(graph, { dir: o.out, file: 'blocks.onnx', ...(o.shardBytes ? { shardBytes: o.shardBytes } : {}) });
  const graphs: Record<string, GraphEntry> = {};
  for (const name of ['embed', 'head'] as const) {
    const g = base['graphs'][name] as GraphEntry;
    await copyFile(join(o.base, g.file), join(o.out, g.file));
    graphs[name] = g;
  }
  // Multiply-adds ×2 per sample: the matrices on N tokens (c·Wc counted as if per token) and attention's two N×N products.
  const flopsPerSample = o.layers * (2 * tokens * (5 * dim * dim + 2 * dim * mlp) + 4 * tokens * tokens * dim);
  graphs['blocks'] = { ...(base['graphs']['blocks'] as GraphEntry), ...blocks, flopsPerSample };
  const parameters = blocksParameters({ dim, layers: o.layers, mlp });
  const manifest: Record<string, unknown> = {
    ...base,
    name: o.name ?? `random-dit-${weights === 'float16' ? 'fp16' : 'fp32'}-${o.layers}x${mlp}`,
    modelHash: await modelHashOf(graphs),
    architecture: { type: 'random-blocks', dim, depth: o.layers, mlp, weights, host: base['name'], parameters },
    graphs,
    plans: [],
    weights: 'random (timing, memory and loading tests only)',
  };
  await writeFile(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: o.out, manifest, blocks, parameters };
}
