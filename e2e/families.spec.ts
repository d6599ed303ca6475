// Imported families in Chromium, on WASM and WebGPU (SwiftShader): the tiny DiT (tools/families,
// ε with learned variance) as `npm run import-model` split it, through the real worker. The full
// compute run reproduces the PyTorch reference loop (DDIM as Euler in flow variables, CFG 3); the
// ERTACache run reuses its plan's steps and matches the Node runtime's image for the same plan.

import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrate as nodeCalibrate } from '../src/node/calibrate.ts';
import { generate as nodeGenerate } from '../src/node/generate.ts';
import { importModel } from '../src/import/import-model.ts';
import type { CalibrateResult } from '../src/runtime/api.ts';
import type { Harness, Outcome } from './harness.ts';
import { expect, generate, load, ok, test } from './fixtures.ts';

const DIR = 'public/models/imported-dit-tiny';
const URL_ = '/models/imported-dit-tiny/manifest.json';
const GOLDEN = 'tools/golden/families/dit-tiny';
const golden = JSON.parse(readFileSync(`${GOLDEN}/golden.json`, 'utf8')) as {
  reference: { label: number; seed: number; steps: number; guidance: number };
};
const bytes = readFileSync(`${GOLDEN}/reference.output.latent.bin`); // small: a slice of Node's buffer pool
const reference = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
// Relative max-abs (the random ε-model's samples reach |x| ≈ 600: x̂₀ = (x − sε)/α amplifies early steps).
const TOLERANCE: Record<string, number> = { wasm: 1e-4, webgpu: 2e-2 };

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let k = 0; k < b.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    m = Math.max(m, Math.abs(b[k]!));
  }
  return d / m;
}

test('imported DiT (ε, DDIM): PyTorch reference loop, and ERTACache on its plan', async ({ harness, provider }) => {
  const info = ok(await load(harness, { provider }, URL_));
  expect(info).toMatchObject({ conditioning: 'class' });
  expect(info.provider.used).toBe(provider);
  const r = golden.reference;
  const full = ok(await generate(harness, { label: r.label, seed: r.seed, steps: r.steps, guidance: r.guidance }));
  expect(full.stats).toMatchObject({ computedSteps: r.steps, provider });
  expect(relDiff(full.image, reference)).toBeLessThan(TOLERANCE[provider]!);

  const policy = { kind: 'ertacache', budget: 4 };
  const erta = ok(await generate(harness, { label: r.label, seed: r.seed, steps: r.steps, guidance: r.guidance, policy }));
  expect(erta.stats).toMatchObject({ computedSteps: 4, reusedSteps: 2 });
  const node = await nodeGenerate({ model: DIR, label: r.label, seed: r.seed, steps: r.steps, guidance: r.guidance, policy: 'ertacache', budget: 4 });
  expect(relDiff(erta.image, node.image)).toBeLessThan(TOLERANCE[provider]!);
});

// Absolute, on the VAE's [-1, 1] image (as text-to-image.spec.ts).
const TEXT_TOLERANCE: Record<string, number> = { wasm: 1e-3, webgpu: 2.5e-2 };

for (const family of ['pixart', 'sd3', 'flux']) {
  test(`imported ${family}-style model: prompt → image equals the PyTorch reference loop`, async ({ harness, provider }) => {
    // Every family on WebGPU too (SwiftShader, ~30 s a family): each has its own ops on that path
    // (pixart's cross-attention, sd3's joint attention, flux's RoPE and packed patches).
    const golden = `tools/golden/families/${family}-tiny`;
    const r = (JSON.parse(readFileSync(`${golden}/golden.json`, 'utf8')) as {
      reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; embeddedGuidance?: number };
    }).reference;
    const read = (file: string) => {
      const bytes = readFileSync(`${golden}/${file}`);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    };
    const image = read('reference.output.image.bin');
    const maxDiff = (a: ArrayLike<number>, b: Float32Array) => {
      let d = 0;
      for (let k = 0; k < b.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
      return d;
    };
    const info = ok(await load(harness, { provider }, `/models/imported-${family}-tiny/manifest.json`));
    expect(info).toMatchObject({ conditioning: 'text', image: { channels: 3, height: 32, width: 32 } });
    // SD3 and Flux (dev) take the pooled text embedding; Flux dev the guidance scale, per call (the golden's 4.0, not the default 3.5)
    expect([info.pooledDim, info.defaultEmbeddedGuidance]).toEqual([family === 'pixart' ? null : 32, family === 'flux' ? 3.5 : null]);
    const eg = r.embeddedGuidance !== undefined ? { embeddedGuidance: r.embeddedGuidance } : {};
    const run = ok(await generate(harness, { prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps, guidance: r.guidance, ...eg }));
    expect(maxDiff(run.image, image)).toBeLessThan(TEXT_TOLERANCE[provider]!);
    if (provider === 'wasm') { // the plan on WASM; WebGPU on SwiftShader is slow and the DiT test covers its reuse path
      const erta = ok(await generate(harness, { prompt: r.prompt, seed: r.seed, steps: r.steps, guidance: r.guidance, policy: { kind: 'ertacache', budget: 4 } }));
      expect(erta.stats).toMatchObject({ computedSteps: 4, reusedSteps: 2 });
      if (family !== 'pixart') { // reused steps (embed with the pooled text and guidance, head on h + r) against PyTorch's loop with the same reuse
        const uniform = ok(await generate(harness, { prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps, guidance: r.guidance, ...eg,
          policy: { kind: 'uniform', budget: 4 } }));
        expect(uniform.stats).toMatchObject({ computedSteps: 4, reusedSteps: 2 });
        expect(maxDiff(uniform.image, read('reference.output.uniformImage.bin'))).toBeLessThan(TEXT_TOLERANCE[provider]!);
      }
    }
  });
}

// Flux exported as diffusers defines it (packed latents, img_ids / txt_ids in the graph's inputs): imported here in
// Node (pack / unpack added, ids constant, RoPE tables folded) into a temporary folder served through a route, then
// run by the worker. WASM only: the imported graphs are the flux family's kind (sd3 covers the text path on WebGPU).
test('Flux exported with diffusers\' signature (packed latents, img_ids / txt_ids): imported, prompt → image and uniform reuse equal PyTorch', async ({ harness, provider }) => {
  test.skip(provider !== 'wasm', 'WASM only: the imported graphs are the flux family\'s kind');
  const FIX = 'tools/families/fixtures/flux-packed-tiny';
  const golden = 'tools/golden/families/flux-packed-tiny';
  const r = (JSON.parse(readFileSync(`${golden}/golden.json`, 'utf8')) as {
    reference: { prompt: string; seed: number; steps: number; guidance: number; embeddedGuidance: number };
  }).reference;
  const read = (file: string) => {
    const bytes = readFileSync(`${golden}/${file}`);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const maxDiff = (a: ArrayLike<number>, b: Float32Array) => {
    expect(a.length).toBe(b.length);
    let d = 0;
    for (let k = 0; k < b.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
    return d;
  };
  const tmp = await mkdtemp(join(tmpdir(), 'erta-e2e-flux-packed-'));
  try {
    const made = await importModel({ model: `${FIX}/transformer/model.onnx`, out: tmp, components: FIX, name: 'flux-packed-tiny' });
    expect(made.packedLatent).toMatchObject({ input: 'hidden_states', height: 8, width: 8 });
    await harness.route('**/models/e2e-flux-packed/**', (route) =>
      route.fulfill({ path: join(tmp, new URL(route.request().url()).pathname.split('/models/e2e-flux-packed/')[1]!) }));
    const info = ok(await load(harness, { provider }, '/models/e2e-flux-packed/manifest.json'));
    expect(info).toMatchObject({ conditioning: 'text', latent: { channels: 4, height: 8, width: 8 }, pooledDim: 32, defaultEmbeddedGuidance: 3.5 });
    const req = { prompt: r.prompt, seed: r.seed, steps: r.steps, guidance: r.guidance, embeddedGuidance: r.embeddedGuidance };
    const full = ok(await generate(harness, req));
    expect(maxDiff(full.image, read('reference.output.image.bin'))).toBeLessThan(TEXT_TOLERANCE[provider]!);
    const uniform = ok(await generate(harness, { ...req, policy: { kind: 'uniform', budget: 4 } }));
    expect(uniform.stats).toMatchObject({ computedSteps: 4, reusedSteps: 2 });
    expect(maxDiff(uniform.image, read('reference.output.uniformImage.bin'))).toBeLessThan(TEXT_TOLERANCE[provider]!);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

// The Wan-style video model: a clip [3, F, H, W] against PyTorch's, F RGBA frames in the result.
// WebGPU (SwiftShader) runs the 6-step reference once and nothing else: 64 tokens, CFG, 4 frames.
test('imported Wan-style video model: prompt → clip equals the PyTorch reference loop, frames in the result', async ({ harness, provider }) => {
  const golden = 'tools/golden/families/wan-tiny';
  const r = (JSON.parse(readFileSync(`${golden}/golden.json`, 'utf8')) as {
    reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number };
  }).reference;
  const bytes = readFileSync(`${golden}/reference.output.image.bin`);
  const clip = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const info = ok(await load(harness, { provider }, '/models/imported-wan-tiny/manifest.json'));
  expect(info).toMatchObject({ conditioning: 'text', latent: { channels: 4, frames: 4, height: 8, width: 8 },
    image: { channels: 3, frames: 4, height: 32, width: 32 } });
  expect(info.provider.used).toBe(provider);
  const run = ok(await generate(harness, { prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps, guidance: r.guidance,
    previewEvery: provider === 'wasm' ? 3 : 0 }));
  expect(run.image.length).toBe(clip.length);
  let d = 0;
  for (let k = 0; k < clip.length; k++) d = Math.max(d, Math.abs(run.image[k]! - clip[k]!));
  expect(d).toBeLessThan(TEXT_TOLERANCE[provider]!);
  expect(run.framePixels).toBe(32 * 32 * 4);
  expect(run.frames).toHaveLength(4);
  expect(new Set(run.frames).size).toBeGreaterThan(1); // a clip, not one image four times
  if (provider === 'wasm') {
    expect(run.stats.previews).toBeGreaterThan(0); // preview clips through the linear map
    const erta = ok(await generate(harness, { prompt: r.prompt, seed: r.seed, steps: r.steps, guidance: r.guidance, policy: { kind: 'ertacache', budget: 4 } }));
    expect(erta.stats).toMatchObject({ computedSteps: 4, reusedSteps: 2 });
    expect(erta.frames).toHaveLength(4);
  }
});

// Calibration of the video model in the browser (WASM; many transformer passes): the reuse set the
// Node calibration finds for the same prompts, seeds and budget, and a generation on that plan.
test('imported Wan-style video model: a plan calibrated in the browser equals the Node calibration\'s and runs', async ({ harness, provider }) => {
  test.skip(provider !== 'wasm', 'WASM only: calibration is many transformer passes');
  const prompts = ['a red apple', 'a small green tree'];
  const tmp = await mkdtemp(join(tmpdir(), 'erta-e2e-wan-'));
  let nodeReuse: number[];
  try {
    await cp('public/models/imported-wan-tiny', join(tmp, 'model'), { recursive: true });
    await writeFile(join(tmp, 'prompts.json'), JSON.stringify(prompts));
    const report = await nodeCalibrate({ model: join(tmp, 'model'), steps: 6, budgets: [3], seeds: [0], prompts: join(tmp, 'prompts.json'),
      forecast: false, evaluate: false });
    nodeReuse = report.plans.find((p) => p.kind === 'ertacache' && p.space === 'output')!.reuse!;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  ok(await load(harness, { provider }, '/models/imported-wan-tiny/manifest.json'));
  const outcome = await harness.evaluate((req) => (globalThis as unknown as { harness: Harness }).harness.calibrate(req),
    { budget: 3, steps: 6, seeds: [0], prompts, forecast: false, evaluate: false, store: false });
  const cal = ok(outcome as Outcome<CalibrateResult>);
  expect(cal.computedSteps).toBe(3);
  expect(cal.reuse).toEqual(nodeReuse);
  const run = ok(await generate(harness, { prompt: 'a pink flower', seed: 4, steps: 6, policy: { kind: 'ertacache', budget: 3 } }));
  expect(run.stats).toMatchObject({ computedSteps: 3, reusedSteps: 3, planId: cal.entry.file });
  expect(run.frames).toHaveLength(4);
});
