// <erta-diffusion> with a video model (the imported Wan-style tiny model), from the built dist/
// on a plain static page: the clip loops on the canvas at the fps attribute (the frame on the
// canvas advances and its pixels change), fps="0" holds the first frame, and a still-image model
// is drawn once as before. WASM only, 2 steps.

import type { Page } from '@playwright/test';
import type { StaticServer } from './fixtures/static-server.ts';
import { generate, openFixture, serveDist, setAttrs } from './fixtures/element-page.ts';
import { expect, test } from './fixtures.ts';

let server: StaticServer;
test.beforeAll(async () => {
  server = await serveDist();
});
test.afterAll(async () => {
  await server.close();
});

/**
 * frameIndex and a checksum of the canvas, sampled on animation frames for `ms` (or, with
 * `untilAll`, until that many different frames were seen: a loaded machine may draw slowly).
 */
function watch(page: Page, ms: number, untilAll = 0): Promise<{ index: number; sum: number }[]> {
  return page.evaluate(([duration, all]) => new Promise((resolve) => {
    const el = document.getElementById('digit') as HTMLElement & { frameIndex: number };
    const canvas = el.shadowRoot!.querySelector('canvas')!;
    const seen: { index: number; sum: number }[] = [];
    const t0 = performance.now();
    const tick = () => {
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      for (let k = 0; k < d.length; k++) sum = (sum * 31 + d[k]!) % 1_000_000_007;
      seen.push({ index: el.frameIndex, sum });
      const done = all > 0 && new Set(seen.map((q) => q.index)).size >= all;
      if (!done && performance.now() - t0 < duration) requestAnimationFrame(tick);
      else resolve(seen);
    };
    requestAnimationFrame(tick);
  }), [ms, untilAll] as const);
}

test('a video model\'s clip loops on the canvas at the fps attribute; fps="0" holds a frame; a still model draws once', async ({ page }) => {
  await openFixture(page, server, 'imported-wan-tiny');
  await setAttrs(page, { label: null, prompt: 'a red apple', steps: '2', policy: 'none', fps: '4', 'preview-every': '0' });
  const r = await generate(page);
  if (!r.ok) throw new Error(`${r.code}: ${r.message} (${r.hint})`);
  expect(r.image).toHaveLength(3 * 4 * 32 * 32);
  await expect(page.locator('erta-diffusion canvas')).toHaveAttribute('aria-label', /Generated 4-frame clip of "a red apple"/);

  // 4 fps: a frame every 250 ms, slower than the page's animation frames even under load, so none is skipped
  const playing = await watch(page, 8000, 4);
  expect(new Set(playing.map((s) => s.index))).toEqual(new Set([0, 1, 2, 3]));
  // in order: each change of frame goes to the next one (mod 4)
  const changes = playing.filter((s, k) => k > 0 && s.index !== playing[k - 1]!.index);
  expect(changes.every((s) => s.index === (playing[playing.indexOf(s) - 1]!.index + 1) % 4)).toBe(true);
  const sums = new Map(playing.map((s) => [s.index, s.sum]));
  expect(new Set(sums.values()).size).toBe(4); // four different pictures, each always the same for its index
  expect(playing.every((s) => sums.get(s.index) === s.sum)).toBe(true);

  await setAttrs(page, { fps: '0' });
  const held = await watch(page, 400);
  expect(new Set(held.map((s) => s.index)).size).toBe(1);
  expect(new Set(held.map((s) => s.sum)).size).toBe(1);

  await setAttrs(page, { model: 'models/mnist-dit/manifest.json', prompt: null, label: '3', fps: '20' });
  const still = await generate(page);
  expect(still.ok).toBe(true);
  const drawn = await watch(page, 300);
  expect(drawn.every((s) => s.index === 0 && s.sum === drawn[0]!.sum)).toBe(true);
  await expect(page.locator('erta-diffusion canvas')).toHaveAttribute('aria-label', /Generated image of class 3/);
});
