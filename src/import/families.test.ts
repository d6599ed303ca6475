// The architecture families (tools/families/, random weights, published module names) exported
// as users export them, through the importer and the runtime, against PyTorch. For each family:
// the single-graph export imports with no flags; the committed imported folder is what the
// importer makes from the committed export today; the graphs reproduce PyTorch; a whole sample
// (split and single graph) equals the PyTorch reference loop; every policy runs on the committed
// plans; calibration runs.

import * as ort from 'onnxruntime-node';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng, decodeApng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../node/generate.ts';
import { calibrate } from '../node/calibrate.ts';
import { readGoldenIndex, readGoldenTensor, type GoldenIndex } from '../backend/test-model.ts';
import { importModel } from './import-model.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'erta-families-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** max |a − b| / max |b|: the families' random ε-models make samples of large magnitude (x̂₀ = (x − sε)/α). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let k = 0; k < b.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    m = Math.max(m, Math.abs(b[k]!));
  }
  return d / m;
}

describe('DiT family (class-conditional, ε with learned variance → DDIM)', () => {
  const EXPORT = 'tools/families/fixtures/dit-tiny/model.onnx';
  const GOLDEN = 'tools/golden/families/dit-tiny';
  const MODEL = 'public/models/imported-dit-tiny';
  let index: GoldenIndex & { reference: { label: number; seed: number; steps: number; guidance: number } };
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as typeof index;
  });

  it('imports with no flags: blocks.N found, ε kept from the 2·C output, DDIM scheduler, and the committed graphs are today\'s', async () => {
    const out = join(tmp, 'dit');
    const r = await importModel({ model: EXPORT, out, name: 'dit-tiny' });
    expect(r.stack).toBe('node names: /blocks × 3');
    expect([r.prediction, r.learnedVariance, r.classes]).toEqual(['epsilon', true, 10]);
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const committed = JSON.parse(await readFile(join(MODEL, 'manifest.json'), 'utf8'));
    expect(made.scheduler).toMatchObject({ type: 'ddim', prediction: 'epsilon', trainTimesteps: 1000, betaStart: 0.0001, betaEnd: 0.02 });
    expect(committed.graphs).toEqual(made.graphs);
    expect(committed.modelHash).toBe(made.modelHash);
  }, 60_000);

  it('the export and the imported model.onnx reproduce PyTorch on the golden inputs (≤ 1e-4)', async () => {
    const g = index.graphs['model']!;
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(g.inputs)) feeds[name] = new ort.Tensor(t.dtype, await readGoldenTensor(t, GOLDEN), t.dims);
    const want = (await readGoldenTensor(g.outputs['out']!, GOLDEN)) as Float32Array;
    const raw = await ort.InferenceSession.create(EXPORT);
    const got = (await raw.run(feeds))['out']!.data as Float32Array;
    expect(relDiff(got, want)).toBeLessThanOrEqual(1e-4);
    const imported = await ort.InferenceSession.create(join(MODEL, 'model.onnx'));
    const v = (await imported.run({ x: feeds['latent']!, t: feeds['timestep']!, y: feeds['class_labels']! }))['v']!;
    expect(v.dims).toEqual([2, 4, 8, 8]);
    // ε = the first 4 of the 8 output channels, per batch row
    const eps = new Float32Array(2 * 256);
    for (let b = 0; b < 2; b++) eps.set(want.subarray(b * 512, b * 512 + 256), b * 256);
    expect(relDiff(v.data as Float32Array, eps)).toBeLessThanOrEqual(1e-4);
    await raw.release();
    await imported.release();
  });

  for (const graphs of ['split', 'single'] as const) {
    it(`a whole sample (${graphs}) equals the PyTorch reference loop (DDIM as flow Euler, CFG 3)`, async () => {
      const ref = index.reference;
      const r = await generate({ model: MODEL, label: ref.label, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1 });
      const want = await readGoldenTensor(index.graphs['reference']!.outputs['latent']!, GOLDEN);
      expect(relDiff(r.image, want)).toBeLessThanOrEqual(1e-5);
      expect(r.png().length).toBeGreaterThan(0); // 4 latent channels, no VAE: drawn from the first three
    });
  }

  it('every policy runs on the committed 6-step plans and stays near full compute', async () => {
    const full = await generate({ model: MODEL, label: 3, seed: 11, steps: 6, threads: 1 });
    for (const policy of ['ertacache', 'ertacache-forecast', 'teacache', 'magcache', 'easycache', 'taylorseer', 'uniform']) {
      const r = await generate({ model: MODEL, label: 3, seed: 11, steps: 6, policy, budget: 4, threads: 1 });
      expect(r.report.computedSteps, policy).toBeLessThanOrEqual(5);
      expect(r.report.reusedSteps, policy).toBeGreaterThan(0);
      expect(r.image.every(Number.isFinite), policy).toBe(true);
      expect(relDiff(r.image, full.image), policy).toBeLessThan(1);
    }
    const hidden = await generate({ model: MODEL, label: 3, seed: 11, steps: 6, policy: 'ertacache', budget: 4, space: 'hidden', threads: 1 });
    expect(hidden.report.plan).toBe('plans/ertacache-6-b4-hidden.json');
  }, 60_000);

  it('calibration runs on the imported model', async () => {
    const dir = join(tmp, 'dit-cal');
    await cp(MODEL, dir, { recursive: true });
    const r = await calibrate({ model: dir, steps: 6, budgets: [3], seeds: [0], labels: [0, 1], evaluate: false });
    expect(r.plans.map((p) => p.kind)).toContain('ertacache');
    expect(r.plans.find((p) => p.kind === 'ertacache')!.computedSteps).toBe(3);
  }, 60_000);
});

const TEXT_FAMILIES = [
  { family: 'pixart', title: 'PixArt / SANA-style family (cross-attention, adaLN-single)', stack: '/transformer_blocks × 3',
    sides: ['/adaln_single/linear/Gemm_output_0', '/adaln_single/timestep_embedder/linear_2/Gemm_output_0', '/caption_projection/linear_2/Add_output_0'],
    temb: 7 * 32 },
  // Two streams; the last block drops the text stream, so the stack's output (and the cached residual) is the image stream.
  { family: 'sd3', title: 'SD3-style MMDiT (joint attention over two streams, image-stream residual)', stack: '/transformer_blocks × 3',
    sides: ['/transformer_blocks.0/norm1/Mul_output_0', '/context_embedder/Add_output_0'], temb: 32 },
  // Double-stream then single-stream blocks over [text, image]; the stack ends with the slice back to
  // the image tokens (the bound, Shape of the text stream, becomes a constant); RoPE tables are constants.
  { family: 'flux', title: 'Flux-style DiT (double then single stream, RoPE)',
    stack: '/transformer_blocks × 2, /single_transformer_blocks × 2 + Slice to the image tokens',
    sides: ['/transformer_blocks.0/norm1/Mul_output_0', '/context_embedder/Add_output_0'], temb: 32 },
];

for (const F of TEXT_FAMILIES) describe(`${F.title}: text, flow matching at t = 1000σ`, () => {
  const FIX = `tools/families/fixtures/${F.family}-tiny`;
  const GOLDEN = `tools/golden/families/${F.family}-tiny`;
  const MODEL = `public/models/imported-${F.family}-tiny`;
  let index: GoldenIndex & { reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number } };
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as typeof index;
  });

  it('imports with --components and --timestep-scale 1000: text projection → context graph, time modulation → temb', async () => {
    const out = join(tmp, F.family);
    const r = await importModel({ model: `${FIX}/transformer/model.onnx`, out, name: `${F.family}-tiny`, components: FIX, timestepScale: 1000,
      prompts: `${FIX}/calibration-prompts.json` });
    expect(r.stack).toBe(`node names: ${F.stack}`);
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    expect(r.sides.map((s) => s.name)).toEqual(F.sides);
    expect(r.hidden).toEqual({ tokens: 16, dim: 32 }); // image tokens only (SD3: the text stream is not in the residual)
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const committed = JSON.parse(await readFile(join(MODEL, 'manifest.json'), 'utf8'));
    expect(made.components.context.graph.outputs.context.shape).toEqual([1, 8, 32]);
    expect(made.components.transformer.graphs.blocks.inputs.temb.shape).toEqual(['B', F.temb]);
    expect(committed.modelHash).toBe(made.modelHash);
    expect(committed.components).toEqual(made.components);
  }, 60_000);

  it('without --components: IMPORT_UNSUPPORTED naming the flag and the folder layout', async () => {
    const e = await importModel({ model: `${FIX}/transformer/model.onnx`, out: join(tmp, `${F.family}-nocomp`) }).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect((e as Error & { hint: string }).hint).toContain('--components');
  });

  it('the export reproduces PyTorch on the golden inputs (≤ 1e-4)', async () => {
    const g = index.graphs['model']!;
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(g.inputs)) feeds[name] = new ort.Tensor(t.dtype, await readGoldenTensor(t, GOLDEN), t.dims);
    const raw = await ort.InferenceSession.create(`${FIX}/transformer/model.onnx`);
    const got = (await raw.run(feeds))['sample']!.data as Float32Array;
    expect(relDiff(got, (await readGoldenTensor(g.outputs['sample']!, GOLDEN)) as Float32Array)).toBeLessThanOrEqual(1e-4);
    await raw.release();
  });

  for (const graphs of ['split', 'single'] as const) {
    it(`prompt → image (${graphs}) equals the PyTorch reference loop (tokenizer, encoder, projection, CFG, VAE)`, async () => {
      const ref = index.reference;
      const r = await generate({ model: MODEL, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1 });
      const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(r.image[k]! - want[k]!));
      expect(d).toBeLessThanOrEqual(1e-4);
    });
  }

  it('every policy runs on the committed 6-step plans; calibration on the imported prompts runs', async () => {
    for (const policy of ['ertacache', 'ertacache-forecast', 'teacache', 'magcache', 'easycache', 'taylorseer', 'uniform']) {
      const r = await generate({ model: MODEL, prompt: 'a purple car', seed: 3, steps: 6, policy, budget: 4, threads: 1 });
      expect(r.report.reusedSteps, policy).toBeGreaterThan(0);
      expect(r.image.every(Number.isFinite), policy).toBe(true);
    }
    const dir = join(tmp, `${F.family}-cal`);
    await cp(MODEL, dir, { recursive: true });
    const r = await calibrate({ model: dir, steps: 6, budgets: [3], seeds: [0], evaluate: false });
    expect(r.plans.find((p) => p.kind === 'ertacache')!.computedSteps).toBe(3);
  }, 60_000);
});

describe('Wan-style video DiT (3-D patches over frames, RoPE, cross-attention): text → clip, flow matching at t = 1000σ', () => {
  const FIX = 'tools/families/fixtures/wan-tiny';
  const GOLDEN = 'tools/golden/families/wan-tiny';
  const MODEL = 'public/models/imported-wan-tiny';
  let index: GoldenIndex & { reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number } };
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as typeof index;
  });

  it('imports with no name flags: blocks.N over 64 frame-patch tokens, a video latent [C, F, H, W], the committed graphs are today\'s', async () => {
    const out = join(tmp, 'wan');
    const r = await importModel({ model: `${FIX}/transformer/model.onnx`, out, name: 'wan-tiny', components: FIX, timestepScale: 1000,
      prompts: `${FIX}/calibration-prompts.json` });
    expect(r.stack).toBe('node names: /blocks × 3');
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    expect(r.latent).toEqual({ channels: 4, frames: 4, height: 8, width: 8 });
    expect(r.hidden).toEqual({ tokens: 64, dim: 32 }); // 4 frames × 4 × 4 patches of (1, 2, 2)
    // per step: the shared 6·dim modulation and the time embedding the head reads; per prompt: the text embedder
    expect(r.sides.map((s) => s.name)).toEqual(['/Reshape_1_output_0', '/condition_embedder/time_embedder/linear_2/Gemm_output_0',
      '/condition_embedder/text_embedder/linear_2/Add_output_0']);
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const committed = JSON.parse(await readFile(join(MODEL, 'manifest.json'), 'utf8'));
    expect(made.latent).toEqual({ channels: 4, frames: 4, height: 8, width: 8 });
    expect(made.components.transformer.graphs.embed.inputs.latent.shape).toEqual(['B', 4, 4, 8, 8]);
    expect(made.components.vaeDecoder.graph.outputs.sample.shape).toEqual([1, 3, 4, 32, 32]);
    expect(committed.modelHash).toBe(made.modelHash);
    expect(committed.components).toEqual(made.components);
  }, 60_000);

  it('the export reproduces PyTorch on the golden inputs (≤ 1e-4)', async () => {
    const g = index.graphs['model']!;
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(g.inputs)) feeds[name] = new ort.Tensor(t.dtype, await readGoldenTensor(t, GOLDEN), t.dims);
    const raw = await ort.InferenceSession.create(`${FIX}/transformer/model.onnx`);
    const out = (await raw.run(feeds))['sample']!;
    expect(out.dims).toEqual([2, 4, 4, 8, 8]);
    expect(relDiff(out.data as Float32Array, (await readGoldenTensor(g.outputs['sample']!, GOLDEN)) as Float32Array)).toBeLessThanOrEqual(1e-4);
    await raw.release();
  });

  for (const graphs of ['split', 'single'] as const) {
    it(`prompt → clip (${graphs}) equals the PyTorch reference loop (tokenizer, encoder, text embedder, CFG, video VAE)`, async () => {
      const ref = index.reference;
      const r = await generate({ model: MODEL, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1 });
      expect([r.channels, r.frames, r.height, r.width]).toEqual([3, 4, 32, 32]);
      const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
      expect(r.image.length).toBe(want.length);
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(r.image[k]! - want[k]!));
      expect(d).toBeLessThanOrEqual(1e-4);
      if (graphs === 'split') {
        // the clip as an animated PNG: fast-png decodes 4 frames of 32×32 RGB, frame k = the clip's frame k
        const apng = decodeApng(r.png({ fps: 5 }));
        expect([apng.width, apng.height, apng.numberOfFrames, apng.numberOfPlays]).toEqual([32, 32, 4, 0]);
        for (let f = 0; f < 4; f++) {
          const px = apng.frames[f]!.data;
          const v = r.image[0 * 4 * 1024 + f * 1024 + 5 * 32 + 7]!; // red plane, frame f, pixel (5, 7)
          expect(Math.abs(px[(5 * 32 + 7) * 3]! - Math.min(255, Math.max(0, (v + 1) * 127.5)))).toBeLessThanOrEqual(1);
          expect(apng.frames[f]!.delayNumber / apng.frames[f]!.delayDenominator).toBeCloseTo(0.2, 6);
        }
        // frames differ (the causal decoder and per-frame noise make a clip, not one image 4 times)
        expect(apng.frames[0]!.data.join()).not.toBe(apng.frames[3]!.data.join());
        const strip = decodePng(r.png({ strip: true }));
        expect([strip.width, strip.height]).toEqual([128, 32]);
        expect(strip.data[(5 * 128 + 3 * 32 + 7) * 3]).toBe(apng.frames[3]!.data[(5 * 32 + 7) * 3]);
      }
    });
  }

  it('every policy runs on the committed 6-step plans; calibration on the imported prompts runs', async () => {
    for (const policy of ['ertacache', 'ertacache-forecast', 'teacache', 'magcache', 'easycache', 'taylorseer', 'uniform']) {
      const r = await generate({ model: MODEL, prompt: 'a purple car', seed: 3, steps: 6, policy, budget: 4, threads: 1 });
      expect(r.report.reusedSteps, policy).toBeGreaterThan(0);
      expect(r.image.length, policy).toBe(3 * 4 * 32 * 32);
      expect(r.image.every(Number.isFinite), policy).toBe(true);
    }
    const hidden = await generate({ model: MODEL, prompt: 'a purple car', seed: 3, steps: 6, policy: 'ertacache', budget: 4, space: 'hidden', threads: 1 });
    expect(hidden.report.plan).toBe('plans/ertacache-6-b4-hidden.json');
    const dir = join(tmp, 'wan-cal');
    await cp(MODEL, dir, { recursive: true });
    const r = await calibrate({ model: dir, steps: 6, budgets: [3], seeds: [0], evaluate: false });
    expect(r.plans.find((p) => p.kind === 'ertacache')!.computedSteps).toBe(3);
  }, 120_000);
});
