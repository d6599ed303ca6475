// The model tool writes graphs whose weights live in external-data shards, and onnxruntime-node
// runs them from the verified model folder: a sharded copy of the shipped blocks graph computes
// exactly what the original does, a random model of a chosen size generates, a damaged or
// missing shard is refused before any session exists, and an fp16 twin stays close to fp32.

import { readFile, rm, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeModel } from '../backend/node-model.ts';
import { generate } from '../node/generate.ts';
import { shardOnnxFile } from './external-data.ts';
import { fromHalf, toHalf } from './onnx-build.ts';
import { writeGraph } from './external-data.ts';
import { buildRandomBlocks } from './random-blocks.ts';
import { writeRandomModel } from './random-model.ts';

const BASE = 'public/models/mnist-dit';
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erta-tool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function feeds(seed = 1) {
  const h = Float32Array.from({ length: 2 * 49 * 128 }, (_, i) => Math.sin(i * 0.37 + seed));
  const c = Float32Array.from({ length: 2 * 128 }, (_, i) => Math.cos(i * 0.11 + seed));
  return { h: new ort.Tensor('float32', h, [2, 49, 128]), c: new ort.Tensor('float32', c, [2, 128]) };
}

async function run(path: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path);
  try {
    return (await s.run(feeds())).z!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('model tool', () => {
  it('fp16 conversion rounds to nearest even and round-trips', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(fromHalf(toHalf(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(fromHalf(toHalf(2 ** -24))).toBe(2 ** -24);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
  });

  it('shards a self-contained graph; the sharded graph computes exactly what the original does', async () => {
    const out = join(dir, 'sharded');
    await (await import('node:fs/promises')).mkdir(out);
    const g = await shardOnnxFile(join(BASE, 'blocks.onnx'), { dir: out, file: 'blocks.onnx', shardBytes: 2 ** 20 });
    expect(g.externalData!.length).toBeGreaterThan(4);
    for (const s of g.externalData!) {
      expect(s.bytes).toBeLessThanOrEqual(2 ** 20);
      expect((await stat(join(out, s.path))).size).toBe(s.bytes);
    }
    expect(g.bytes).toBeLessThan(200_000); // the graph and its small (< 1 KB) tensors; 7.2 MB before
    expect(await run(join(out, 'blocks.onnx'))).toEqual(await run(join(BASE, 'blocks.onnx')));
  });

  it('writes a random model of the asked size that generates, and refuses damaged or missing shards', async () => {
    const out = join(dir, 'random');
    const r = await writeRandomModel({ base: BASE, out, layers: 2, bytes: 3e6, shardBytes: 2 ** 20 });
    const shards = r.blocks.externalData!;
    const total = shards.reduce((s, x) => s + x.bytes, 0);
    expect(total + r.blocks.bytes).toBeGreaterThan(2.9e6);
    expect(total + r.blocks.bytes).toBeLessThan(3.3e6);
    const result = await generate({ model: out, label: 3, seed: 2, steps: 3, policy: 'none' });
    expect(result.report.computedSteps).toBe(3);
    expect(Array.from(result.image).every(Number.isFinite)).toBe(true);

    const victim = join(out, shards[1]!.path);
    const good = await readFile(victim);
    const bad = Uint8Array.from(good);
    bad[100] ^= 1;
    await writeFile(victim, bad);
    await expect(loadNodeModel(out)).rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH', message: expect.stringContaining(shards[1]!.path) });
    await rm(victim);
    await expect(loadNodeModel(out)).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING', message: expect.stringContaining(shards[1]!.path) });
    await writeFile(victim, good);
    await (await loadNodeModel(out)).release();
  });

  it('the fp16 twin (fp16 matmuls, fp32 norms, softmax, residual and I/O) stays within 2e-3 of fp32', async () => {
    const paths: string[] = [];
    const sizes: number[] = [];
    for (const weights of ['float32', 'float16'] as const) {
      const g = buildRandomBlocks({ dim: 128, tokens: 49, layers: 3, mlp: 256, weights, seed: 9 });
      const file = `twin-${weights}.onnx`;
      const w = await writeGraph(g, { dir, file });
      const bytes = w.externalData!.reduce((s, x) => s + x.bytes, 0);
      paths.push(join(dir, file));
      sizes.push(bytes);
    }
    expect(sizes[1]! / sizes[0]!).toBeGreaterThan(0.45); // the matrices in fp16: half the bytes
    expect(sizes[1]! / sizes[0]!).toBeLessThan(0.55);
    const s = await ort.InferenceSession.create(paths[1]!);
    expect(s.inputMetadata.map((m) => (m as { type?: string }).type)).toEqual(['float32', 'float32']);
    expect((s.outputMetadata[0] as { type?: string }).type).toBe('float32');
    await s.release();
    const [a, b] = [await run(paths[0]!), await run(paths[1]!)];
    let max = 0;
    for (let k = 0; k < a.length; k++) max = Math.max(max, Math.abs(a[k]! - b[k]!));
    expect(max).toBeGreaterThan(0); // really computed in fp16
    expect(max).toBeLessThan(2e-3);
  });

  it('an fp16 stack that overflows is reported (Node: a warning naming the provider)', async () => {
    const out = join(dir, 'overflow');
    await writeRandomModel({ base: BASE, out, layers: 2, mlp: 256, weights: 'float16', branchGain: 1e6 });
    const r = await generate({ model: out, label: 1, seed: 1, steps: 2, policy: 'none', guidance: 1 });
    expect(r.report.warnings.join()).toMatch(/non-finite output: NaN at pixel \d+ on the cpu provider/);
    const fine = await generate({ label: 1, seed: 1, steps: 2, policy: 'none', guidance: 1 });
    expect(fine.report.warnings).toEqual([]);
  });
});
