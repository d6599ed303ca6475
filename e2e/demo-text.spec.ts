// The demo with a text model: the model picker lists the shipped models, picking the text-to-emoji
// model swaps the digit picker for a prompt box holding the page's ?prompt=, and a prompt → image
// run draws an RGB image (WASM).

import { expect, test } from './fixtures.ts';
import { mainCanvasSpread, runStats } from './fixtures/demo-page.ts';

test('the model picker switches to the text model; a prompt generates an image', async ({ page, provider }) => {
  test.skip(provider !== 'wasm', 'the demo on WASM');
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`/?provider=wasm&steps=4&policy=none&prompt=${encodeURIComponent('blue heart')}`);
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  const options = await page.locator('#model option').allTextContents();
  expect(options.some((o) => o.includes('MNIST'))).toBe(true);
  expect(options.some((o) => o.includes('text-to-emoji'))).toBe(true);
  expect(options.some((o) => o.includes('tiny-t2i') || o.includes('Tiny text-to-image'))).toBe(false); // a test model, not offered
  await expect(page.locator('#prompt-fields')).toBeHidden();

  await page.locator('#model').selectOption({ label: options.find((o) => o.includes('text-to-emoji'))! });
  await expect(page.locator('#prompt-fields')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#digit-fields')).toBeHidden();
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.locator('#prompt')).toHaveValue('blue heart'); // ?prompt= survives the model switch
  await page.locator('#steps').fill('4');
  await page.locator('#generate').click();
  await expect(page.locator('#run-status')).toContainText('steps computed', { timeout: 60_000 });
  const { cached } = await runStats(page);
  expect(cached).toMatchObject({ steps: 4, policy: 'none' });
  expect(await page.locator('#main-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([64, 64]);
  expect(await mainCanvasSpread(page)).toBeGreaterThan(20);
  await expect(page.locator('#main-canvas')).toHaveAttribute('aria-label', /blue heart/);
});
