// The architecture families (tools/families/, random weights, published module names) exported
// as users export them, through the importer and the runtime, against PyTorch. For each family:
// the single-graph export imports with no flags; the committed imported folder is what the
// importer makes from the committed export today; the graphs reproduce PyTorch; a whole sample
// (split and single graph) equals the PyTorch reference loop; every policy runs on the committed
// plans; calibration runs.

import * as ort from 'onnxruntime-node';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng, decodeApng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../node/generate.ts';
import { calibrate } from '../node/calibrate.ts';
import { readGoldenIndex, readGoldenTensor, type GoldenIndex } from '../backend/test-model.ts';
import { importModel } from './import-model.ts';
import { unpackLatentSignature } from './packed.ts';
import { decodeModel, encodeModel } from './onnx-graph.ts';

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
  // The pooled text embedding is added to the time embedding: an input of embed, its values the encoder's second output.
  { family: 'sd3', title: 'SD3-style MMDiT (joint attention over two streams, image-stream residual, pooled text)', stack: '/transformer_blocks × 3',
    sides: ['/transformer_blocks.0/norm1/Mul_output_0', '/context_embedder/Add_output_0'], temb: 32, pooled: true, guidance: false },
  // Double-stream then single-stream blocks over [text, image]; the stack ends with the slice back to
  // the image tokens (the bound, Shape of the text stream, becomes a constant); RoPE tables are constants.
  // Flux dev: pooled text and a guidance embedding (guidance-distilled: no CFG branch, the scale is an input).
  { family: 'flux', title: 'Flux-style DiT (double then single stream, RoPE, pooled text, guidance embedding)',
    stack: '/transformer_blocks × 2, /single_transformer_blocks × 2 + Slice to the image tokens',
    sides: ['/transformer_blocks.0/norm1/Mul_output_0', '/context_embedder/Add_output_0'], temb: 32, pooled: true, guidance: true },
];

for (const F of TEXT_FAMILIES) describe(`${F.title}: text, flow matching at t = 1000σ`, () => {
  const FIX = `tools/families/fixtures/${F.family}-tiny`;
  const GOLDEN = `tools/golden/families/${F.family}-tiny`;
  const MODEL = `public/models/imported-${F.family}-tiny`;
  let index: GoldenIndex & { reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; embeddedGuidance?: number } };
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as typeof index;
  });
  const eg = () => (index.reference.embeddedGuidance !== undefined ? { embeddedGuidance: index.reference.embeddedGuidance } : {});

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
    // pooled text: an input of embed and of the single graph (not of blocks), fed from the text encoder's second output
    const tr = made.components.transformer;
    expect(r.pooled).toEqual(F.pooled ? { input: 'pooled_projections', dim: 32, encoderOutput: 'text_embeds' } : undefined);
    expect(Object.keys(tr.graphs.embed.inputs)).toEqual(['latent', 'sigma', ...(F.pooled ? ['pooled'] : []), ...(F.guidance ? ['guidance'] : [])]);
    expect(Object.keys(tr.graphs.blocks.inputs)).toEqual(['hidden', 'temb', 'context']);
    expect(made.conditioning.pooledDim).toBe(F.pooled ? 32 : undefined);
    expect(made.components.textEncoder.io.pooled).toBe(F.pooled ? 'text_embeds' : undefined);
    // guidance-distilled: no CFG by default, the guidance scale's default in the scheduler
    expect(r.guidance).toEqual(F.guidance ? { input: 'guidance', default: 3.5 } : undefined);
    expect([made.scheduler.defaultGuidance, made.scheduler.defaultEmbeddedGuidance]).toEqual(F.guidance ? [1, 3.5] : [4.5, undefined]);
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
      const r = await generate({ model: MODEL, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1, ...eg() });
      const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(r.image[k]! - want[k]!));
      expect(d).toBeLessThanOrEqual(1e-4);
    });
  }

  if (F.pooled) {
    it('a reused step is right: uniform caching (budget 4 of 6, hidden space) equals PyTorch\'s loop with the same reuse', async () => {
      // Reused steps run embed (pooled text, guidance) and head on h + r with this step's temb: PyTorch does the same by hand.
      const ref = index.reference;
      const r = await generate({ model: MODEL, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, policy: 'uniform', budget: 4,
        threads: 1, ...eg() });
      expect(r.report.decisions).toBe('CRCCRC');
      const want = await readGoldenTensor(index.graphs['reference']!.outputs['uniformImage']!, GOLDEN);
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(r.image[k]! - want[k]!));
      expect(d).toBeLessThanOrEqual(1e-4);
      const full = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
      expect(relDiff(want, full)).toBeGreaterThan(1e-3); // the reuse changed the image: the check above is not full compute's
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

// Flux dev's per-call guidance scale, Flux schnell (pooled text, no guidance embedding), and the importer's
// name flags for the two new inputs.
describe('pooled text and guidance embeddings (SD3 / Flux)', () => {
  const DEV = 'public/models/imported-flux-tiny';

  it('Flux dev: embeddedGuidance is fed per call (the golden is at 4.0, the default 3.5 gives another image); bad values are typed errors', async () => {
    const index = (await readGoldenIndex('tools/golden/families/flux-tiny')) as GoldenIndex & { reference: { prompt: string; seed: number; steps: number } };
    const ref = index.reference;
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, 'tools/golden/families/flux-tiny');
    const at = async (embeddedGuidance?: number) => (await generate({ model: DEV, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, threads: 1,
      ...(embeddedGuidance !== undefined ? { embeddedGuidance } : {}) })).image;
    const maxDiff = (a: ArrayLike<number>) => {
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(a[k]! - want[k]!));
      return d;
    };
    expect(maxDiff(await at(4))).toBeLessThanOrEqual(1e-4);
    expect((await generate({ model: DEV, prompt: ref.prompt, seed: 0, steps: 2, threads: 1 })).report.embeddedGuidance).toBe(3.5);
    expect(maxDiff(await at())).toBeGreaterThan(1e-3); // the manifest's 3.5
    for (const bad of [-1, Number.NaN, 101]) {
      await expect(generate({ model: DEV, prompt: 'a red apple', seed: 0, steps: 2, embeddedGuidance: bad, threads: 1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    }
    // SD3 has no guidance embedding
    await expect(generate({ model: 'public/models/imported-sd3-tiny', prompt: 'a red apple', seed: 0, steps: 2, embeddedGuidance: 3, threads: 1 }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED' });
  }, 60_000);

  it('calibration at a guidance scale: the plan is fitted on trajectories at that scale (Node); bad or misplaced scales are typed errors', async () => {
    const fit = async (embeddedGuidance?: number) => {
      const dir = join(tmp, `flux-cal-${embeddedGuidance ?? 'default'}`);
      await cp(DEV, dir, { recursive: true });
      const r = await calibrate({ model: dir, steps: 6, budgets: [3], seeds: [0], evaluate: false, forecast: false, peers: false,
        ...(embeddedGuidance !== undefined ? { embeddedGuidance } : {}) });
      const entry = r.plans.find((p) => p.kind === 'ertacache' && p.space === 'output')!;
      return JSON.parse(await readFile(join(dir, entry.file), 'utf8')) as { rectification: unknown; computedSteps: number };
    };
    const [atDefault, at35, at8] = [await fit(), await fit(3.5), await fit(8)];
    expect(at35).toEqual(atDefault); // the manifest's default is 3.5
    expect(at8.computedSteps).toBe(3);
    expect(at8.rectification).not.toEqual(atDefault.rectification); // fitted on other trajectories
    const [devCopy, sd3Copy] = [join(tmp, 'flux-cal-bad'), join(tmp, 'sd3-cal-bad')]; // copies: a calibration writes into its model folder
    await cp(DEV, devCopy, { recursive: true });
    await cp('public/models/imported-sd3-tiny', sd3Copy, { recursive: true });
    await expect(calibrate({ model: devCopy, steps: 6, budgets: [3], embeddedGuidance: -2 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(calibrate({ model: sd3Copy, steps: 6, budgets: [3], embeddedGuidance: 3 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  }, 60_000);

  it('Flux schnell (pooled text, no guidance embedding) imports with no flags and equals PyTorch (split and single)', async () => {
    const FIX = 'tools/families/fixtures/flux-schnell-tiny';
    const GOLDEN = 'tools/golden/families/flux-schnell-tiny';
    const out = join(tmp, 'flux-schnell');
    const r = await importModel({ model: `${FIX}/transformer/model.onnx`, out, name: 'flux-schnell-tiny', components: FIX, timestepScale: 1000 });
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    expect([r.pooled?.input, r.guidance]).toEqual(['pooled_projections', undefined]);
    const index = (await readGoldenIndex(GOLDEN)) as GoldenIndex & { reference: { prompt: string; seed: number; steps: number; guidance: number } };
    const ref = index.reference;
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
    for (const graphs of ['split', 'single'] as const) {
      const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1 });
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(g.image[k]! - want[k]!));
      expect(d, graphs).toBeLessThanOrEqual(1e-4);
    }
    await expect(generate({ model: out, prompt: 'a red apple', seed: 0, steps: 2, embeddedGuidance: 3, threads: 1 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  }, 60_000);

  it('inputs named otherwise: IMPORT_UNSUPPORTED naming --guidance-input / --pooled-input; with the flags the export imports', async () => {
    // The Flux dev export with its pooled and guidance inputs renamed to names that say nothing.
    const m = decodeModel(await readFile('tools/families/fixtures/flux-tiny/transformer/model.onnx'));
    const renames: Record<string, string> = { pooled_projections: 'in_a', guidance: 'in_b' };
    for (const v of m.graph!.input ?? []) if (renames[v.name!]) v.name = renames[v.name!]!;
    for (const n of m.graph!.node ?? []) n.input = (n.input ?? []).map((i) => renames[i] ?? i);
    const file = join(tmp, 'flux-renamed.onnx');
    await writeFile(file, encodeModel(m));
    const FIX = 'tools/families/fixtures/flux-tiny';
    const base = { model: file, components: FIX, timestepScale: 1000 };
    const e = await importModel({ ...base, out: join(tmp, 'flux-renamed-0') }).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect((e as Error & { hint: string }).hint).toContain('--guidance-input');
    const wrong = await importModel({ ...base, out: join(tmp, 'flux-renamed-1'), guidanceInput: 'nope' }).then(() => null, (x: unknown) => x);
    expect(wrong).toMatchObject({ code: 'IMPORT_TENSOR_UNKNOWN' });
    // A [B, P] input is the pooled one by shape (only one there); naming it explicitly works too.
    const r = await importModel({ ...base, out: join(tmp, 'flux-renamed-2'), guidanceInput: 'in_b', pooledInput: 'in_a', embeddedGuidance: 4 });
    expect([r.pooled?.input, r.guidance]).toEqual(['in_a', { input: 'in_b', default: 4 }]);
    expect(r.parity).toBeLessThanOrEqual(1e-6);
  }, 60_000);
});

// Wan 2.1's VAE conventions: 4·(F−1)+1 video frames from F latent frames, per-channel latent normalisation.
describe('Wan-style video with Wan 2.1\'s VAE conventions (temporal upsampling, latents_mean / latents_std)', () => {
  const FIX = 'tools/families/fixtures/wan21-tiny';
  const GOLDEN = 'tools/golden/families/wan21-tiny';

  it('imports with no name flags (the VAE config\'s latents_mean / latents_std in the manifest) and a prompt → 13-frame clip equals PyTorch', async () => {
    const out = join(tmp, 'wan21');
    const r = await importModel({ model: `${FIX}/transformer/model.onnx`, out, name: 'wan21-tiny', components: FIX, timestepScale: 1000 });
    expect(r.latent).toEqual({ channels: 4, frames: 4, height: 8, width: 8 });
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(made.components.vaeDecoder).toMatchObject({ scalingFactor: 1, shiftFactor: 0, latentsMean: [0.3, -0.2, 0.1, -0.4], latentsStd: [1.5, 0.8, 2, 1.2] });
    expect(made.components.vaeDecoder.graph.outputs.sample.shape).toEqual([1, 3, 13, 32, 32]); // 4·(4 − 1) + 1
    const index = (await readGoldenIndex(GOLDEN)) as GoldenIndex & { reference: { prompt: string; seed: number; steps: number; guidance: number } };
    const ref = index.reference;
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
    for (const graphs of ['split', 'single'] as const) {
      const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1 });
      expect([g.channels, g.frames, g.height, g.width]).toEqual([3, 13, 32, 32]);
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(g.image[k]! - want[k]!));
      expect(d, graphs).toBeLessThanOrEqual(1e-4);
      if (graphs === 'split') expect(decodeApng(g.png()).numberOfFrames).toBe(13);
    }
    // a reused step (uniform, 4 of 6) against PyTorch's loop with the same reuse: the normalisation applies to the cached run too
    const u = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, policy: 'uniform', budget: 4, threads: 1 });
    const wantU = await readGoldenTensor(index.graphs['reference']!.outputs['uniformImage']!, GOLDEN);
    let d = 0;
    for (let k = 0; k < wantU.length; k++) d = Math.max(d, Math.abs(u.image[k]! - wantU[k]!));
    expect(d).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('a manifest whose decoder gives neither F nor s·(F−1)+1 frames, or only one of the normalisation arrays, is refused', async () => {
    const m = JSON.parse(await readFile('public/models/imported-wan-tiny/manifest.json', 'utf8'));
    const { parseManifest } = await import('../manifest/validate.ts');
    const bad1 = structuredClone(m);
    bad1.components.vaeDecoder.graph.outputs.sample.shape = [1, 3, 6, 32, 32]; // F = 4: 4, 7, 10, 13 … are fine, 6 is not
    expect(() => parseManifest(bad1, '.')).toThrow(expect.objectContaining({ code: 'MANIFEST_FIELD_INVALID' }));
    const ok = structuredClone(m);
    ok.components.vaeDecoder.graph.outputs.sample.shape = [1, 3, 13, 32, 32];
    expect(parseManifest(ok, '.').image).toEqual({ channels: 3, frames: 13, height: 32, width: 32 });
    const bad2 = structuredClone(m);
    bad2.components.vaeDecoder.latentsMean = [0, 0, 0, 0];
    expect(() => parseManifest(bad2, '.')).toThrow(expect.objectContaining({ code: 'MANIFEST_FIELD_INVALID' }));
    const bad3 = structuredClone(m);
    Object.assign(bad3.components.vaeDecoder, { latentsMean: [0, 0, 0, 0], latentsStd: [1, 1, 0, 1] });
    expect(() => parseManifest(bad3, '.')).toThrow(expect.objectContaining({ code: 'MANIFEST_FIELD_INVALID' }));
  });
});

// Flux as a user exports diffusers' FluxTransformer2DModel: packed latents hidden_states [B, (H/2)(W/2), 4C] in and out,
// RoPE positions img_ids [L, 3] / txt_ids [T, 3] as inputs (tables computed in the graph, float64 like FluxPosEmbed),
// σ (×1000 inside), single-stream blocks that split the streams themselves (no slice after the stack).
describe('Flux with diffusers\' real signature (packed latents, img_ids / txt_ids, RoPE from ids in the graph)', () => {
  const FIX = 'tools/families/fixtures/flux-packed-tiny';
  const GOLDEN = 'tools/golden/families/flux-packed-tiny';
  const EXPORT = `${FIX}/transformer/model.onnx`;
  let out: string;
  let index: GoldenIndex & { reference: { prompt: string; seed: number; steps: number; guidance: number; embeddedGuidance: number; timestepScale: number } };
  let imported: Awaited<ReturnType<typeof importModel>>;
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as typeof index;
    out = join(tmp, 'flux-packed');
    imported = await importModel({ model: EXPORT, out, name: 'flux-packed-tiny', components: FIX, prompts: `${FIX}/calibration-prompts.json` });
  }, 60_000);
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let d = 0;
    for (let k = 0; k < b.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
    return d;
  };

  it('imports with no flags: pack / unpack added, ids made constants, the RoPE tables folded, the stack split on the image tokens', async () => {
    // the export is the packed signature and reproduces PyTorch (≤ 1e-4)
    const g = index.graphs['model']!;
    expect(Object.keys(g.inputs)).toEqual(['hidden_states', 'encoder_hidden_states', 'pooled_projections', 'timestep', 'img_ids', 'txt_ids', 'guidance']);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(g.inputs)) feeds[name] = new ort.Tensor(t.dtype, await readGoldenTensor(t, GOLDEN), t.dims);
    const raw = await ort.InferenceSession.create(EXPORT);
    const sample = (await raw.run(feeds))['sample']!;
    expect(sample.dims).toEqual([2, 16, 16]);
    expect(relDiff(sample.data as Float32Array, (await readGoldenTensor(g.outputs['sample']!, GOLDEN)) as Float32Array)).toBeLessThanOrEqual(1e-4);
    await raw.release();

    const r = imported;
    expect(r.packedLatent).toEqual({ input: 'hidden_states', latent: 'latent', imgIds: 'img_ids', txtIds: 'txt_ids', channels: 4, height: 8, width: 8,
      tokens: 16, textTokens: 8, folded: ['/pos_embed/Concat_6_output_0', '/pos_embed/Concat_7_output_0'] });
    expect(r.stack).toBe('node names: /transformer_blocks × 2, /single_transformer_blocks × 2'); // the blocks hand back the image tokens
    expect(r.latent).toEqual({ channels: 4, height: 8, width: 8 });
    expect(r.hidden).toEqual({ tokens: 16, dim: 32 }); // the residual: image tokens only
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    expect([r.pooled?.input, r.guidance]).toEqual(['pooled_projections', { input: 'guidance', default: 3.5 }]);
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const tr = made.components.transformer;
    expect(tr.graphs.embed.inputs.latent.shape).toEqual(['B', 4, 8, 8]);
    expect(tr.graphs.head.outputs.velocity.shape).toEqual(['B', 4, 8, 8]);
    expect(Object.keys(tr.graphs.model.inputs)).toEqual(['latent', 'sigma', 'context', 'pooled', 'guidance']);
    expect(made.import.timestepScale).toBe(1); // σ: the model multiplies by 1000 itself
    expect(made.import.packedLatent).toMatchObject({ input: 'hidden_states', imgIds: 'img_ids', txtIds: 'txt_ids' });
    // the tables are stored once ([T + L, head dim] cos and sin), the per-block broadcasts of them stay ops of the blocks
    const blocks = decodeModel(await readFile(join(out, 'transformer', 'blocks.onnx')));
    expect(blocks.graph!.initializer!.filter((t) => t.dims!.map(Number).join() === '24,16').map((t) => t.name).sort()).toEqual(r.packedLatent!.folded);
    expect(blocks.graph!.node!.some((n) => /^\/transformer_blocks\.0\/attn\/Unsqueeze/.test(n.name!))).toBe(true);
    // no graph computes RoPE per step: no pos_embed node, no float64, no ids input left
    for (const file of ['embed', 'blocks', 'head', 'model']) {
      const m = decodeModel(await readFile(join(out, 'transformer', `${file}.onnx`)));
      expect(m.graph!.node!.filter((n) => n.name!.startsWith('/pos_embed/')).length, file).toBe(0);
      expect(m.graph!.node!.some((n) => n.opType === 'Cast' && n.attribute?.some((a) => a.name === 'to' && Number(a.i) === 11)), file).toBe(false);
      expect(m.graph!.input!.map((i) => i.name).filter((n) => /_ids$/.test(n!)), file).toEqual([]);
    }
  });

  for (const graphs of ['split', 'single'] as const) {
    it(`prompt → image (${graphs}) equals the PyTorch loop (pack → model → unpack → Euler, guidance 4 embedded)`, async () => {
      const ref = index.reference;
      expect(ref.timestepScale).toBe(1);
      const r = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, embeddedGuidance: ref.embeddedGuidance,
        graphs, threads: 1 });
      expect(maxDiff(r.image, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN))).toBeLessThanOrEqual(1e-4);
    });
  }

  it('a reused step is right: uniform caching (budget 4 of 6) equals PyTorch\'s loop with the same reuse', async () => {
    const ref = index.reference;
    const r = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, embeddedGuidance: ref.embeddedGuidance,
      policy: 'uniform', budget: 4, threads: 1 });
    expect(r.report.decisions).toBe('CRCCRC');
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['uniformImage']!, GOLDEN);
    expect(maxDiff(r.image, want)).toBeLessThanOrEqual(1e-4);
    expect(relDiff(want, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN))).toBeGreaterThan(1e-3);
  });

  it('shapes that do not fit are typed errors naming the fix: ids rows, a missing txt_ids, --latent-size', async () => {
    const src = await readFile(EXPORT);
    const variant = async (edit: (m: ReturnType<typeof decodeModel>) => void) => {
      const m = decodeModel(src);
      edit(m);
      const file = join(tmp, `flux-packed-bad-${Math.random().toString(36).slice(2)}.onnx`);
      await writeFile(file, encodeModel(m));
      return file;
    };
    const failure = async (model: string, extra: Partial<Parameters<typeof importModel>[0]> = {}) =>
      importModel({ model, out: join(tmp, 'flux-packed-bad'), components: FIX, ...extra }).then(() => null, (x: unknown) => x as Error & { code: string; hint: string });
    // img_ids with a row too few
    const rows = await variant((m) => { m.graph!.input!.find((i) => i.name === 'img_ids')!.type!.tensorType!.shape!.dim![0]!.dimValue = 15; });
    const e1 = await failure(rows);
    expect(e1).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect(e1!.message).toContain('img_ids has 15 rows but the packed latent hidden_states has 16 tokens');
    expect(e1!.hint).toContain('_prepare_latent_image_ids');
    // txt_ids not an input (the export baked it)
    const noTxt = await variant((m) => { m.graph!.input = m.graph!.input!.filter((i) => i.name !== 'txt_ids'); });
    const e2 = await failure(noTxt);
    expect(e2).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect(e2!.message).toContain('no txt_ids input');
    // ids that are not [N, 3]; a packed latent with no ids inputs at all
    const axes = await variant((m) => { m.graph!.input!.find((i) => i.name === 'img_ids')!.type!.tensorType!.shape!.dim![1]!.dimValue = 2; });
    const e6 = await failure(axes);
    expect([e6!.code, e6!.message]).toEqual(['IMPORT_UNSUPPORTED', expect.stringContaining('img_ids is float32 [16,2]: position ids are [N, 3]')]);
    const noIds = await variant((m) => { m.graph!.input = m.graph!.input!.filter((i) => !i.name!.endsWith('_ids')); });
    const e7 = await failure(noIds);
    expect([e7!.code, e7!.message]).toEqual(['IMPORT_UNSUPPORTED', expect.stringContaining('looks like Flux\'s packed latents, but there are no img_ids / txt_ids inputs')]);
    // --latent-size: odd, or not the graph's token count; and on a [B, C, H, W] model
    const e3 = await failure(EXPORT, { latentSize: [3, 16] });
    expect([e3!.code, e3!.hint]).toEqual(['IMPORT_UNSUPPORTED', expect.stringContaining('both even')]);
    const e4 = await failure(EXPORT, { latentSize: [8, 16] });
    expect(e4!.message).toContain('--latent-size 8x16 gives 32 packed tokens, but the graph has 16');
    const e5 = await failure('tools/families/fixtures/flux-tiny/transformer/model.onnx', { latentSize: [8, 8], timestepScale: 1000 });
    expect([e5!.code, e5!.hint]).toEqual(['IMPORT_UNSUPPORTED', 'Drop --latent-size: the latent\'s size is read from the graph.']);
  }, 60_000);

  it('the rewrite alone: latent [B, C, H, W] in, unpacked out, equals PyTorch\'s unpack(model(pack(latent), ids)); --latent-size reads a non-square grid', async () => {
    const g = index.graphs['model']!;
    const golden = async (n: string) => (await readGoldenTensor(g.inputs[n] ?? g.outputs[n]!, GOLDEN)) as Float32Array;
    // FluxPipeline._unpack_latents: [B, (H/2)(W/2), 4C] → [B, C, H, W]
    const unpack = (x: Float32Array, B: number, C: number, H: number, W: number) => {
      const y = new Float32Array(x.length);
      for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
        const token = (i >> 1) * (W >> 1) + (j >> 1);
        y[((b * C + c) * H + i) * W + j] = x[(b * (H * W / 4) + token) * 4 * C + c * 4 + (i & 1) * 2 + (j & 1)]!;
      }
      return y;
    };
    const m = decodeModel(await readFile(EXPORT));
    const info = await unpackLatentSignature(ort, m, undefined);
    expect([info!.height, info!.width]).toEqual([8, 8]);
    const s = await ort.InferenceSession.create(encodeModel(m));
    const feeds: Record<string, ort.Tensor> = { latent: new ort.Tensor('float32', unpack(await golden('hidden_states'), 2, 4, 8, 8), [2, 4, 8, 8]) };
    for (const n of ['encoder_hidden_states', 'pooled_projections', 'timestep', 'guidance']) feeds[n] = new ort.Tensor('float32', await golden(n), g.inputs[n]!.dims);
    const v = (await s.run(feeds))['sample_unpacked']!;
    expect(v.dims).toEqual([2, 4, 8, 8]);
    expect(relDiff(v.data as Float32Array, unpack(await golden('sample'), 2, 4, 8, 8))).toBeLessThanOrEqual(1e-4);
    await s.release();
    // 16 tokens as a 4 × 16 latent (2 × 8 patches): ids (0, row, col) over that grid, the latent [B, 4, 4, 16]
    const wide = decodeModel(await readFile(EXPORT));
    expect(await unpackLatentSignature(ort, wide, [4, 16])).toMatchObject({ height: 4, width: 16, tokens: 16 });
    const ws = await ort.InferenceSession.create(encodeModel(wide));
    const out = (await ws.run({ ...feeds, latent: new ort.Tensor('float32', new Float32Array(2 * 4 * 4 * 16).fill(0.5), [2, 4, 4, 16]) }))['sample_unpacked']!;
    expect(out.dims).toEqual([2, 4, 4, 16]);
    await ws.release();
  });
});

// Not the family's re-implementation: diffusers' own FluxTransformer2DModel (its source at commit 58eb52c0, a tiny random
// config), exported with README's snippet by tools/families/export_diffusers_flux.py. It must import with no flags and the
// imported graphs must compute PyTorch's unpack(model(pack(latent), ids)).
describe('a real diffusers FluxTransformer2DModel export (diffusers\' code, tiny random config)', () => {
  const EXPORT = 'tools/families/fixtures/flux-diffusers-tiny/transformer/model.onnx';
  const GOLDEN = 'tools/golden/families/flux-diffusers-tiny';

  it('imports with no flags; the split chain (context → embed → blocks → head) and the single graph equal PyTorch (≤ 1e-4)', async () => {
    const index = await readGoldenIndex(GOLDEN);
    const tensor = async (graph: string, kind: 'inputs' | 'outputs', n: string) => {
      const t = index.graphs[graph]![kind][n]!;
      return new ort.Tensor('float32', (await readGoldenTensor(t, GOLDEN)) as Float32Array, t.dims);
    };
    // the export itself reproduces PyTorch on its packed inputs
    const raw = await ort.InferenceSession.create(EXPORT);
    const feeds: Record<string, ort.Tensor> = {};
    for (const n of Object.keys(index.graphs['model']!.inputs)) feeds[n] = await tensor('model', 'inputs', n);
    const sample = (await tensor('model', 'outputs', 'sample')).data as Float32Array;
    expect(relDiff((await raw.run(feeds))['sample']!.data as Float32Array, sample)).toBeLessThanOrEqual(1e-4);
    await raw.release();

    const out = join(tmp, 'flux-diffusers');
    const r = await importModel({ model: EXPORT, out, components: 'tools/families/fixtures/flux-packed-tiny' });
    expect(r.stack).toBe('node names: /m/transformer_blocks × 2, /m/single_transformer_blocks × 2');
    expect(r.packedLatent).toMatchObject({ input: 'hidden_states', channels: 4, height: 8, width: 8, tokens: 16, textTokens: 8 });
    expect(r.packedLatent!.folded).toHaveLength(2); // cos and sin, once
    expect(r.hidden).toEqual({ tokens: 16, dim: 32 });
    const want = (await tensor('unpacked', 'outputs', 'velocity')).data as Float32Array;
    const s = async (g: string) => ort.InferenceSession.create(join(out, 'transformer', `${g}.onnx`));
    const ehs = (await tensor('unpacked', 'inputs', 'encoder_hidden_states')).data as Float32Array;
    const ctx = await s('context');
    const rows: Float32Array[] = [];
    for (let b = 0; b < 2; b++) {
      rows.push((await ctx.run({ [ctx.inputNames[0]!]: new ort.Tensor('float32', ehs.slice(b * 256, (b + 1) * 256), [1, 8, 32]) }))['context']!.data as Float32Array);
    }
    const context = new ort.Tensor('float32', Float32Array.from([...rows[0]!, ...rows[1]!]), [2, 8, rows[0]!.length / 8]);
    const cond = { latent: await tensor('unpacked', 'inputs', 'latent'), sigma: await tensor('unpacked', 'inputs', 'sigma'),
      pooled: await tensor('unpacked', 'inputs', 'pooled'), guidance: await tensor('unpacked', 'inputs', 'guidance') };
    const e = await (await s('embed')).run(cond);
    const z = await (await s('blocks')).run({ hidden: e['hidden']!, temb: e['temb']!, context });
    const split = (await (await s('head')).run({ hidden: z['hidden_out']!, temb: e['temb']! }))['velocity']!;
    expect(split.dims).toEqual([2, 4, 8, 8]);
    expect(relDiff(split.data as Float32Array, want)).toBeLessThanOrEqual(1e-4);
    const single = (await (await s('model')).run({ ...cond, context }))['velocity']!.data as Float32Array;
    expect(relDiff(single, want)).toBeLessThanOrEqual(1e-4);
  }, 60_000);
});
