// fp16 conversion of the shipped (trained) MNIST DiT: the weight matrices of every MatMul / Gemm /
// Conv become fp16 and those products run in fp16, nothing else does (Softmax, LayerNorm,
// reductions and the graph's I/O stay fp32), the file halves, and the converted model draws the
// fp32 model's image within the stated tolerance (onnxruntime-node).

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../node/generate.ts';
import { convertToFp16, readModel } from './fp16.ts';
import { writeFp16Model } from './fp16-model.ts';
import { onnx } from './onnx-build.ts';

const BASE = 'public/models/mnist-dit';
/** fp16 twin vs fp32, final image in model space ([-1, 1]), 8 steps: max |difference|. */
const TOLERANCE = 1e-2;
/** The same for a text model (version 2: text encoder, context, transformer and VAE all converted), VAE output in [-1, 1]. */
const TEXT_TOLERANCE = 2e-2;
let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'erta-fp16-')); });
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('convertToFp16', () => {
  it('puts only the products in fp16; sensitive ops and the I/O stay fp32', async () => {
    const model = await readModel(join(BASE, 'blocks.onnx'));
    const ops = new Set(model.graph!.node!.map((n) => n.opType));
    expect(ops.has('Softmax')).toBe(true);
    const report = convertToFp16(model);
    expect(report.nodes).toBeGreaterThan(20);
    expect(report.bytesAfter * 2).toBe(report.bytesBefore);
    const g = model.graph!;
    const half = new Set(g.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT16).map((t) => t.name!));
    for (const n of g.node!) {
      const fp16Inputs = n.input!.filter((i) => half.has(i) || i.includes('__fp16'));
      if (['MatMul', 'Gemm', 'Conv'].includes(n.opType!) && fp16Inputs.length > 0) {
        expect(n.input!.every((i) => i === '' || half.has(i) || i.includes('__fp16'))).toBe(true);
      } else if (n.opType !== 'Cast') {
        expect(fp16Inputs, `${n.opType} ${n.name} reads fp16`).toEqual([]); // Softmax, LayerNorm, Add, ReduceMean…
      }
    }
    expect(g.input!.every((v) => v.type!.tensorType!.elemType === onnx.TensorProto.DataType.FLOAT)).toBe(true);
    expect(g.output!.every((v) => v.type!.tensorType!.elemType === onnx.TensorProto.DataType.FLOAT)).toBe(true);
  });

  it(`the fp16 twin of the trained model draws its image within ${TOLERANCE}`, async () => {
    const out = join(dir, 'm16');
    const { manifest } = await writeFp16Model(BASE, out, 2 ** 20);
    expect((manifest['graphs'] as Record<string, { weightsDtype: string; externalData?: unknown[] }>)['blocks']).toMatchObject({ weightsDtype: 'float16' });
    const request = { label: 7, seed: 3, steps: 8, policy: 'none' } as const;
    const [full, half] = [await generate({ ...request }), await generate({ ...request, model: out })];
    let max = 0;
    for (let k = 0; k < full.image.length; k++) max = Math.max(max, Math.abs(full.image[k]! - half.image[k]!));
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(TOLERANCE); // measured 6.0e-3 (mean 1.8e-4)
  });

  it(`a version-2 text model (the trained emoji DiT): every component converted, its image within ${TEXT_TOLERANCE}`, async () => {
    const out = join(dir, 'emoji16');
    const { manifest, reports } = await writeFp16Model('public/models/emoji-dit', out);
    expect(Object.keys(reports).sort()).toEqual(['blocks', 'context', 'embed', 'head', 'textEncoder', 'vaeDecoder']);
    for (const r of Object.values(reports)) expect(r.nodes).toBeGreaterThan(0);
    const c = manifest['components'];
    expect(c.vaeDecoder.graph.weightsDtype).toBe('float16');
    expect(c.transformer.graphs.blocks.weightsDtype).toBe('float16');
    const request = { prompt: 'a red heart', seed: 3, steps: 8, policy: 'none' } as const;
    const [full, half] = [await generate({ ...request, model: 'public/models/emoji-dit' }), await generate({ ...request, model: out })];
    let max = 0;
    for (let k = 0; k < full.image.length; k++) max = Math.max(max, Math.abs(full.image[k]! - half.image[k]!));
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(TEXT_TOLERANCE); // measured 1.19e-2 (mean 6.7e-5), guidance 4
  });

  // Imported models keep small typed-field initializers (the importer's erta_import/t_scale), which the
  // shard writer refused until it learnt typed fields ("only raw-data … tensors can be moved to shards").
  it('converts an imported text model (typed-field initializers) and it still generates', async () => {
    const out = join(dir, 'pixart16');
    const { reports } = await writeFp16Model('public/models/imported-pixart-tiny', out);
    expect(Object.keys(reports)).toContain('blocks');
    for (const r of Object.values(reports)) expect(r.bytesAfter).toBeLessThan(r.bytesBefore);
    const r = await generate({ model: out, prompt: 'a cat', seed: 1, steps: 2, policy: 'none' });
    expect(r.image.every(Number.isFinite)).toBe(true);
  });

  it('--keep-fp32 copies the named graphs unchanged; an unknown name is an error', async () => {
    const src = 'public/models/tiny-t2i';
    const out = join(dir, 't2i16');
    const { manifest, reports } = await writeFp16Model(src, out, undefined, ['vaeDecoder']);
    expect(reports['vaeDecoder']).toBeUndefined();
    const vae = manifest['components'].vaeDecoder.graph;
    expect(vae.weightsDtype).toBeUndefined();
    expect(await readFile(join(out, vae.file))).toEqual(await readFile(join(src, vae.file)));
    expect((await generate({ model: out, prompt: 'a cat', seed: 1, steps: 2, policy: 'none' })).image.length).toBeGreaterThan(0);
    await expect(writeFp16Model(src, join(dir, 'bad'), undefined, ['vae'])).rejects.toThrow(/names no graph of this model: vae/);
  });
});
