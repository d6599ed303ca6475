// The demo with the video model (the imported Wan-style tiny model, WASM): picked in the model
// picker, a prompt gives a clip that loops on the main canvas, and compare mode measures the
// cached clip against the uncached one (frames stacked: a 32 × 128 heat-map); Download saves the clip as an APNG.

import { readFileSync } from 'node:fs';
import { decodeApng } from 'fast-png';
import { expect, test } from './fixtures.ts';
import { runStats } from './fixtures/demo-page.ts';

test('the video model in the demo: the clip loops on the canvas; compare mode runs on the whole clip', async ({ page, provider }) => {
  test.skip(provider !== 'wasm', 'the demo on WASM');
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto('/?provider=wasm&steps=6&compare=1&model=models/mnist-dit/manifest.json'); // the digits: no prompt box
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.locator('#prompt-fields')).toBeHidden();
  const options = await page.locator('#model option').allTextContents();
  await page.locator('#model').selectOption({ label: options.find((o) => o.includes('Wan-style'))! });
  await expect(page.locator('#prompt-fields')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 });
  await page.locator('#prompt').fill('a red apple');
  await page.locator('#steps').fill('6');
  await page.locator('#generate').click();
  await expect(page.locator('#run-status')).toContainText('steps computed', { timeout: 120_000 });
  const { cached, reference } = await runStats(page);
  expect(cached.steps).toBe(6);
  expect(reference).toMatchObject({ steps: 6, computedSteps: 6 });
  expect(await page.locator('#diff-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([32, 128]);
  // the main canvas shows one 32×32 frame at a time, and the frames change (8 fps: within 2 s)
  const sums = await page.evaluate(() => new Promise<number[]>((resolve) => {
    const c = document.getElementById('main-canvas') as HTMLCanvasElement;
    const seen: number[] = [];
    const t0 = performance.now();
    const tick = () => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      seen.push(d.reduce((a, v) => (a * 31 + v) % 1_000_000_007, 0));
      if (new Set(seen).size < 2 && performance.now() - t0 < 5000) requestAnimationFrame(tick);
      else resolve(seen);
    };
    requestAnimationFrame(tick);
  }));
  expect(await page.locator('#main-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([32, 32]);
  expect(new Set(sums).size).toBeGreaterThan(1);
  // Download saves the whole clip: an animated PNG of the 4 frames (8× scaled, as the still download), looping at 8 fps
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  expect(download.suggestedFilename()).toMatch(/^erta-prompt-seed\d+-[a-z-]+\.png$/);
  const apng = decodeApng(readFileSync(await download.path()));
  expect([apng.width, apng.height, apng.numberOfFrames, apng.numberOfPlays]).toEqual([256, 256, 4, 0]);
  expect(apng.frames[0]!.delayNumber / apng.frames[0]!.delayDenominator).toBeCloseTo(1 / 8, 6);
  expect(new Set(apng.frames.map((f) => Buffer.from(f.data).toString('base64'))).size).toBeGreaterThan(1); // a clip, not one frame 4 times
});
