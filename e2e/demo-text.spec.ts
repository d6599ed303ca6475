// The demo opens on its default model, the text-to-emoji DiT: a prompt box holding the page's
// ?prompt=, the manifest's example prompts as buttons, a prompt → image run drawing an RGB image
// (WASM); the MNIST model stays in the picker and switching to it brings back the digit picker. And
// the same page on WebGPU (SwiftShader here), 2 steps.

import { expect, test } from './fixtures.ts';
import { mainCanvasSpread, runStats } from './fixtures/demo-page.ts';

test('the demo opens on the emoji model; an example prompt generates an image; MNIST is in the picker', async ({ page, provider }) => {
  test.skip(provider !== 'wasm', 'the demo on WASM');
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`/?provider=wasm&steps=4&policy=none&prompt=${encodeURIComponent('green apple')}`);
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.locator('#model option:checked')).toContainText('text-to-emoji');
  const options = await page.locator('#model option').allTextContents();
  expect(options.some((o) => o.includes('MNIST'))).toBe(true);
  expect(options.some((o) => o.includes('tiny-t2i') || o.includes('Tiny text-to-image'))).toBe(false); // a test model, not offered
  await expect(page.locator('#prompt-fields')).toBeVisible();
  await expect(page.locator('#digit-fields')).toBeHidden();
  await expect(page.locator('#prompt')).toHaveValue('green apple'); // ?prompt= wins over the page's default
  await expect(page.locator('#bench-chart figcaption')).toContainText('Model: emoji-dit.'); // the chart follows the model

  // The manifest's example prompts, as buttons that fill the prompt box.
  const manifest = await (await page.request.get('/models/emoji-dit/manifest.json')).json() as { conditioning: { examplePrompts: string[] } };
  const examples = page.locator('#example-prompts button');
  expect(await examples.allTextContents()).toEqual(manifest.conditioning.examplePrompts);
  expect(manifest.conditioning.examplePrompts).toContain('blue heart');
  await examples.filter({ hasText: /^blue heart$/ }).click();
  await expect(page.locator('#prompt')).toHaveValue('blue heart');

  await page.locator('#generate').click();
  await expect(page.locator('#run-status')).toContainText('steps computed', { timeout: 60_000 });
  const { cached } = await runStats(page);
  expect(cached).toMatchObject({ steps: 4, policy: 'none' });
  expect(await page.locator('#main-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([64, 64]);
  expect(await mainCanvasSpread(page)).toBeGreaterThan(20);
  await expect(page.locator('#main-canvas')).toHaveAttribute('aria-label', /blue heart/);

  // The digits are one pick away: the class model swaps the prompt box for the digit picker.
  await page.locator('#model').selectOption({ label: options.find((o) => o.includes('MNIST'))! });
  await expect(page.locator('#digit-fields')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#prompt-fields')).toBeHidden();
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.locator('#bench-chart figcaption')).toContainText('Model: mnist-dit.');
});

test('the demo draws a prompt with the emoji model on WebGPU', async ({ page, provider }) => {
  test.skip(provider !== 'webgpu', 'the WebGPU project (SwiftShader here): 2 full steps');
  test.setTimeout(360_000);
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`/?provider=webgpu&steps=2&policy=none&prompt=${encodeURIComponent('red apple')}`);
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 120_000 });
  await expect(page.locator('#model-status')).toHaveAttribute('data-provider', 'webgpu');
  await page.locator('#generate').click();
  await expect(page.locator('#run-status')).toContainText('on webgpu', { timeout: 300_000 });
  expect((await runStats(page)).cached).toMatchObject({ steps: 2, computedSteps: 2, policy: 'none' });
  expect(await mainCanvasSpread(page)).toBeGreaterThan(20);
  await expect(page.locator('#main-canvas')).toHaveAttribute('aria-label', /red apple/);
});
