// Where the tests that need real ONNX files find them. The shipped model and its goldens are the
// default; ERTA_MODEL_DIR / ERTA_GOLDEN_DIR point elsewhere (e.g. a random-weight export made
// with `python3 tools/export.py --random --out /tmp/dit-rand --golden /tmp/dit-rand-golden`).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphName } from '../manifest/types.ts';

export const MODEL_DIR = process.env['ERTA_MODEL_DIR'] ?? 'public/models/mnist-dit';
export const GOLDEN_DIR = process.env['ERTA_GOLDEN_DIR'] ?? 'tools/golden/mnist-dit';

export const HAVE_MODEL = existsSync(join(MODEL_DIR, 'manifest.json'));
export const HAVE_GOLDEN = HAVE_MODEL && existsSync(join(GOLDEN_DIR, 'golden.json'));

/** Appended to the suite name when it is skipped, so the report says why and what to do. */
export function skipReason(what: string): string {
  return `(skipped: no ${what}; build it with \`npm run model:train\` or set ERTA_MODEL_DIR/ERTA_GOLDEN_DIR)`;
}

export interface GoldenTensor {
  file: string;
  dtype: 'float32' | 'int32';
  dims: number[];
}

export interface GoldenIndex {
  tolerance: number;
  graphs: Record<string, { inputs: Record<string, GoldenTensor>; outputs: Record<string, GoldenTensor> }>;
}

export async function readGoldenIndex(dir = GOLDEN_DIR): Promise<GoldenIndex> {
  return JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')) as GoldenIndex;
}

/** A golden .bin file (raw little-endian) as a typed array of its dtype. */
export async function readGoldenTensor(g: GoldenTensor, dir = GOLDEN_DIR): Promise<Float32Array | Int32Array> {
  const buf = await readFile(join(dir, g.file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength / 4;
  const out = g.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = g.dtype === 'int32' ? view.getInt32(4 * k, true) : view.getFloat32(4 * k, true);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return Number.isNaN(m) ? Infinity : m;
}

/** One output of a graph run on its golden inputs: its dims and its max abs diff from the golden output. */
export interface GraphGoldenResult {
  output: string;
  dims: readonly number[];
  goldenDims: readonly number[];
  diff: number;
}

/**
 * A pipeline graph (text encoder, context, embed, blocks, head, VAE decoder) of a model folder run
 * on onnxruntime-node with the golden inputs the export wrote; the golden index names graphs by
 * their file names (text_encoder, vae_decoder).
 */
export async function runPipelineGraphGolden(modelDir: string, goldenDir: string, index: GoldenIndex,
  name: GraphName): Promise<GraphGoldenResult[]> {
  const ort = await import('onnxruntime-node');
  const { readManifestFile } = await import('./node-files.ts');
  const { loadNodeSessions } = await import('./node-model.ts');
  const file = { textEncoder: 'text_encoder', vaeDecoder: 'vae_decoder' }[name as string] ?? name;
  const g = index.graphs[file]!;
  const session = (await loadNodeSessions(ort, await readManifestFile(modelDir), [name]))[name]!;
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [input, t] of Object.entries(g.inputs)) feeds[input] = new ort.Tensor(t.dtype, await readGoldenTensor(t, goldenDir), t.dims);
    const out = await session.run(feeds);
    const results: GraphGoldenResult[] = [];
    for (const [output, t] of Object.entries(g.outputs)) {
      results.push({ output, dims: out[output]!.dims, goldenDims: t.dims,
        diff: maxAbsDiff(out[output]!.data as Float32Array, await readGoldenTensor(t, goldenDir)) });
    }
    return results;
  } finally {
    await session.release();
  }
}
