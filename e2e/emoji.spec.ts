// The trained text-to-emoji model (public/models/emoji-dit, issue 12) in Chromium: a prompt → image
// run through the real worker with the model's calibrated ERTACache plan at the short setting
// (8 steps, 5 computed) on WASM, and 2 full steps on WebGPU (SwiftShader is slow), each equal to the
// Node runtime's image for the same prompt, seed and policy; and <erta-diffusion> on a plain static
// page, on both providers, with no model attribute (this is the element's default) and then with a prompt. (The demo on this model: demo-text.spec.ts.)

import { readFileSync } from 'node:fs';
import { generate as nodeGenerate } from '../src/node/generate.ts';
import { canvasSpread, generate as elementGenerate, FIXTURE, serveDist, setAttrs } from './fixtures/element-page.ts';
import { expect, generate, load, maxAbsDiff, ok, test } from './fixtures.ts';

const DIR = 'public/models/emoji-dit';
const URL_ = '/models/emoji-dit/manifest.json';
const manifest = JSON.parse(readFileSync(`${DIR}/manifest.json`, 'utf8')) as {
  plans: { kind: string; steps: number; budget?: number }[]; conditioning: { examplePrompts: string[] };
};
// The short setting the model ships plans for (the bench's Chromium runs and these tests).
const SHORT = { steps: 8, budget: 5 };
// As text-to-image.spec.ts, on the VAE's [-1, 1] image: WASM matches ORT-in-Node closely;
// WebGPU on SwiftShader sums in another order.
const TOLERANCE: Record<string, number> = { wasm: 1e-3, webgpu: 2.5e-2 };
const REQUEST = { prompt: 'red apple', seed: 3, steps: SHORT.steps, guidance: 4 };

test('emoji-dit: a prompt → image with the calibrated ERTACache plan equals the Node runtime', async ({ harness, provider }) => {
  expect(manifest.plans.some((p) => p.kind === 'ertacache' && p.steps === SHORT.steps && p.budget === SHORT.budget),
    'emoji-dit ships an ERTACache plan for the short setting (npm run calibrate -- --model public/models/emoji-dit --steps 8 --budget 5)').toBe(true);
  // SwiftShader runs this 4× wider model far slower than the digits: WebGPU gets 2 full steps (the
  // same graphs, ops and decoder; the plan's reuse path is the WASM run's and the digits' WebGPU tests').
  const gpu = provider === 'webgpu';
  if (gpu) test.setTimeout(360_000);
  const info = ok(await load(harness, { provider }, URL_));
  expect(info).toMatchObject({ conditioning: 'text', maxTokens: 16, image: { channels: 3, height: 64, width: 64 } });
  expect(info.provider.used).toBe(provider);
  const steps = gpu ? 2 : SHORT.steps;
  const policy = gpu ? { kind: 'none' } : { kind: 'ertacache', budget: SHORT.budget };
  const run = ok(await generate(harness, { ...REQUEST, steps, policy }));
  const computed = gpu ? 2 : SHORT.budget;
  expect(run.stats).toMatchObject({ steps, computedSteps: computed, reusedSteps: steps - computed, provider });
  const node = await nodeGenerate({ model: DIR, ...REQUEST, steps, policy: policy.kind, ...(gpu ? {} : { budget: SHORT.budget }) });
  expect(node.report.computedSteps).toBe(computed);
  expect(maxAbsDiff(run.image, node.image)).toBeLessThan(TOLERANCE[provider]!);
});

test('<erta-diffusion> with no model or prompt draws the default model\'s first example; a prompt attribute draws that', async ({ page, provider }) => {
  // WASM: 4 steps then 2; WebGPU (SwiftShader): 2 steps then 1.
  const gpu = provider === 'webgpu';
  if (gpu) test.setTimeout(360_000);
  const [n1, n2] = gpu ? [2, 1] : [4, 2];
  const server = await serveDist();
  try {
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    await page.goto(`${server.url}${FIXTURE}`);
    await page.waitForFunction(() => customElements.get('erta-diffusion') !== undefined);
    // No model attribute: the element's default (this model); no prompt: the manifest's first example.
    await setAttrs(page, { model: null, label: null, prompt: null, seed: String(REQUEST.seed), steps: String(n1), guidance: String(REQUEST.guidance),
      provider });
    // Before any model has loaded, the control bar already offers a prompt box, not the digit picker.
    const box = page.locator('erta-diffusion input[name="prompt"]');
    await expect(box).toBeVisible();
    await expect(page.locator('erta-diffusion select[name="label"]')).toBeHidden();
    const out = await elementGenerate(page);
    if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
    expect(out.stats).toMatchObject({ steps: n1, computedSteps: n1, provider });
    expect(server.requests.some((p) => p.endsWith('/models/emoji-dit/manifest.json'))).toBe(true);
    const first = manifest.conditioning.examplePrompts[0]!;
    const node = await nodeGenerate({ model: DIR, ...REQUEST, prompt: first, steps: n1, policy: 'none' });
    expect(maxAbsDiff(out.image, node.image)).toBeLessThan(TOLERANCE[provider]!);
    expect(await canvasSpread(page)).toBeGreaterThan(20);
    const img = page.locator('erta-diffusion').getByRole('img');
    await expect(img).toHaveAttribute('aria-label', new RegExp(first));
    await expect(box).toHaveAttribute('placeholder', first); // what the empty box draws

    // Typing in the box sets the prompt and drops a stale label (a text model refuses one).
    await setAttrs(page, { label: '3', steps: String(n2) });
    await box.fill('blue heart');
    const el = page.locator('erta-diffusion');
    await expect(el).toHaveAttribute('prompt', 'blue heart');
    expect(await el.getAttribute('label')).toBeNull();
    const blue = await elementGenerate(page);
    if (!blue.ok) throw new Error(`${blue.code}: ${blue.message}`);
    const nodeBlue = await nodeGenerate({ model: DIR, ...REQUEST, prompt: 'blue heart', steps: n2, policy: 'none' });
    expect(maxAbsDiff(blue.image, nodeBlue.image)).toBeLessThan(TOLERANCE[provider]!);
    await expect(img).toHaveAttribute('aria-label', /blue heart/);
  } finally {
    await server.close();
  }
});
