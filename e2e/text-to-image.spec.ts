// A prompt → image generation in Chromium, on WASM and WebGPU (SwiftShader): the tiny text model
// (public/models/tiny-t2i) through the real worker reproduces the PyTorch reference loop that
// tools/export_t2i.py wrote (tokenizer, text encoder, context, CFG against the empty negative
// prompt, VAE decode); previews come from the linear latent→RGB map (WGSL on WebGPU) at no
// read-back beyond their frame; and <erta-diffusion prompt="…"> does the same on a static page.

import { readFileSync } from 'node:fs';
import { canvasSpread, generate as elementGenerate, openFixture, serveDist, setAttrs } from './fixtures/element-page.ts';
import { expect, generate, load, maxAbsDiff, ok, test } from './fixtures.ts';

const URL_ = '/models/tiny-t2i/manifest.json';
const GOLDEN = 'tools/golden/tiny-t2i';
const golden = JSON.parse(readFileSync(`${GOLDEN}/golden.json`, 'utf8')) as {
  reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number };
};
const reference = Array.from(new Float32Array(readFileSync(`${GOLDEN}/reference.output.image.bin`).buffer.slice(0)));
// As generate.spec.ts: WASM matches ORT-in-Node to ~1e-6; WebGPU on SwiftShader sums in another order.
const TOLERANCE: Record<string, number> = { wasm: 1e-3, webgpu: 2.5e-2 };

test('prompt → image equals the PyTorch reference loop, with RGB previews', async ({ harness, provider }) => {
  const info = ok(await load(harness, { provider }, URL_));
  expect(info).toMatchObject({ conditioning: 'text', maxTokens: 8, image: { channels: 3, height: 32, width: 32 } });
  expect(info.provider.used).toBe(provider);
  const r = golden.reference;
  const outcome = await generate(harness, { prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps,
    guidance: r.guidance, previewEvery: 3 });
  const run = ok(outcome);
  expect(run.framePixels).toBe(32 * 32 * 4);
  expect(maxAbsDiff(run.image, reference)).toBeLessThan(TOLERANCE[provider]!);
  const previews = (outcome.events as { type: string; i: number; width: number; height: number }[]).filter((e) => e.type === 'preview');
  expect(previews.map((p) => [p.i, p.width, p.height])).toEqual([[2, 8, 8], [5, 8, 8]]);
  // 2 prompts encoded + 2 previews + 1 decoded image; nothing else leaves the device.
  expect(run.stats).toMatchObject({ encodedPrompts: 2, previews: 2, readbacks: 5, provider });

  // Another seed, same prompts: no re-encoding (the worker's embedding LRU).
  const again = ok(await generate(harness, { prompt: r.prompt, seed: 1, steps: 2, guidance: r.guidance }));
  expect(again.stats).toMatchObject({ encodedPrompts: 0, readbacks: 1 });
});

test('the WGSL preview map equals the host map', async ({ page, provider }) => {
  test.skip(provider !== 'webgpu', 'WebGPU only');
  await page.goto('/e2e/ops-check.html');
  await page.waitForFunction(() => 'checkPreview' in globalThis);
  const r = await page.evaluate(() => (globalThis as unknown as { checkPreview(): Promise<{ maxDiff: number; length: number }> }).checkPreview());
  expect(r.length).toBe(3 * 8 * 8);
  expect(r.maxDiff).toBeLessThan(1e-5);
});

test('a label on a text model is CONDITIONING_MISMATCH', async ({ harness, provider }) => {
  test.skip(provider !== 'wasm', 'a request check; one provider is enough');
  ok(await load(harness, { provider }, URL_));
  const bad = await generate(harness, { label: 3, seed: 1, steps: 1 });
  expect(bad.ok).toBe(false);
  expect(!bad.ok && bad.error).toMatchObject({ code: 'CONDITIONING_MISMATCH', isRuntimeError: true });
});

test('<erta-diffusion prompt="…"> draws the reference image on a plain static page', async ({ page, provider }) => {
  test.skip(provider !== 'wasm', 'the element on WASM; the WebGPU path is covered above');
  const server = await serveDist();
  try {
    await openFixture(page, server, 'tiny-t2i');
    const r = golden.reference;
    await setAttrs(page, { label: null, prompt: r.prompt, 'negative-prompt': r.negative, seed: String(r.seed),
      steps: String(r.steps), guidance: String(r.guidance) });
    const out = await elementGenerate(page);
    if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
    expect(maxAbsDiff(out.image, reference)).toBeLessThan(TOLERANCE['wasm']!);
    expect(await canvasSpread(page)).toBeGreaterThan(20);
    await expect(page.locator('erta-diffusion').getByRole('img')).toHaveAttribute('aria-label', new RegExp(r.prompt));
    // The control bar on a text model: a prompt box (no label picker) that writes the attribute.
    await setAttrs(page, { controls: '' });
    const el = page.locator('erta-diffusion');
    const box = el.getByRole('textbox', { name: 'Prompt' });
    await expect(box).toHaveValue(r.prompt);
    await expect(el.getByRole('combobox', { name: 'Label' })).toBeHidden();
    await box.fill('a blue square');
    await expect(el).toHaveAttribute('prompt', 'a blue square');
    const typed = await elementGenerate(page);
    if (!typed.ok) throw new Error(`${typed.code}: ${typed.message}`);
    await expect(el.getByRole('img')).toHaveAttribute('aria-label', /a blue square/);
    expect(maxAbsDiff(typed.image, reference)).toBeGreaterThan(1e-3); // another prompt, another image
    // The same element with a label instead: a typed error, not a crash.
    await setAttrs(page, { prompt: null, label: '3' });
    const bad = await elementGenerate(page);
    expect(bad).toMatchObject({ ok: false, code: 'CONDITIONING_MISMATCH' });
  } finally {
    await server.close();
  }
});
