// <erta-diffusion> from the built dist/ on a plain static server under a sub-path (no Vite, no
// cross-origin isolation): it generates, its events arrive in a fixed order, and its attributes
// change what it does. WASM and few steps: SwiftShader's WebGPU is ~30× slower (one short
// WebGPU check lives in element-lifecycle.spec.ts).

import type { StaticServer } from './fixtures/static-server.ts';
import { canvasSpread, clearLog, eventLog, generate, maxAbsDiff, openFixture, PREFIX, serveDist, setAttrs }
  from './fixtures/element-page.ts';
import type { RunOutcome } from './fixtures/element-page.ts';
import { expect, MODEL_NAME, smallestErtaPlan, test } from './fixtures.ts';

let server: StaticServer;
test.beforeAll(async () => {
  server = await serveDist();
});
test.afterAll(async () => {
  await server.close();
});

function okStats(r: RunOutcome) {
  if (!r.ok) throw new Error(`expected a result, got ${r.code}: ${r.message} (hint: ${r.hint})`);
  return r;
}

test('works on a plain static page under a sub-path, creating its worker only when needed', async ({ page }) => {
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  await openFixture(page, server, MODEL_NAME);
  await page.waitForTimeout(300);
  expect(workers).toEqual([]); // lazy: connecting the element starts nothing
  expect(await page.evaluate(() => (document.getElementById('digit') as unknown as { workerStarted: boolean }).workerStarted))
    .toBe(false);

  const r = okStats(await generate(page));
  expect(r.stats).toMatchObject({ steps: 6, computedSteps: 6, reusedSteps: 0, provider: 'wasm' });
  expect(await canvasSpread(page)).toBeGreaterThan(50); // a drawn image, not a blank canvas
  expect(workers.some((u) => u.includes('diffusion.worker'))).toBe(true);
  // Everything came from beside the page: the worker, ORT's files and the model.
  const outside = server.requests.filter((p) => !p.startsWith(PREFIX));
  expect(outside).toEqual([]);
  await expect(page.locator('erta-diffusion').getByRole('status')).toContainText('Done');
});

test('events bubble out of the shadow root in a fixed order', async ({ page }) => {
  await openFixture(page, server, MODEL_NAME); // steps=6, preview-every=2
  okStats(await generate(page));
  const log = await eventLog(page);
  expect(log.every((e) => e.bubbles && e.composed && e.target === 'digit')).toBe(true);

  const kinds = log.map((e) => (e.type === 'erta-progress' ? `progress:${e.phase}` : e.type === 'erta-frame'
    ? `frame:${e.i}${e.final ? ':final' : ''}` : e.type === 'erta-step' ? `step:${e.i}` : e.type));
  const firstStep = kinds.indexOf('step:0');
  const loading = kinds.slice(0, firstStep);
  expect(loading.at(-1)).toBe('progress:ready');
  expect(new Set(loading.slice(0, -1))).toEqual(new Set(['progress:download']));
  expect(kinds.slice(firstStep)).toEqual([
    'step:0', 'step:1', 'frame:1', 'step:2', 'step:3', 'frame:3', 'step:4', 'step:5', 'frame:5',
    'frame:5:final', 'erta-done',
  ]);
  const jobIds = new Set(log.filter((e) => e.jobId !== null).map((e) => e.jobId));
  expect(jobIds.size).toBe(1);
});

test('attributes change behaviour; properties reflect them', async ({ page }) => {
  await openFixture(page, server, MODEL_NAME);
  await setAttrs(page, { steps: '4', policy: 'uniform', 'preview-every': '0' });
  await clearLog(page);
  const a = okStats(await generate(page));
  expect(a.stats.steps).toBe(4);
  expect(a.stats.decisions).toContain('reuse');
  expect(a.stats.previews).toBe(0);
  expect((await eventLog(page)).filter((e) => e.type === 'erta-frame').map((e) => e.final)).toEqual([true]);

  const again = okStats(await generate(page));
  expect(maxAbsDiff(again.image, a.image)).toBe(0); // same attributes → same image
  await page.evaluate(() => { (document.getElementById('digit') as unknown as { seed: number }).seed = 9; });
  expect(await page.locator('#digit').getAttribute('seed')).toBe('9');
  const seeded = okStats(await generate(page));
  expect(maxAbsDiff(seeded.image, a.image)).toBeGreaterThan(0.05);
  await setAttrs(page, { label: '8' });
  const labelled = okStats(await generate(page));
  // Runs are bit-exact (above), so any difference proves the label reached the model; a random-
  // weight model (ERTA_E2E_MODEL=dev-rand) barely depends on its label, hence no larger bound.
  expect(maxAbsDiff(labelled.image, seeded.image)).toBeGreaterThan(0);

  await setAttrs(page, { steps: 'many' });
  await clearLog(page);
  const bad = await generate(page);
  expect(bad).toMatchObject({ ok: false, code: 'BAD_INPUT' });
  expect((await eventLog(page)).map((e) => [e.type, e.code])).toEqual([['erta-error', 'BAD_INPUT']]);
  await expect(page.locator('erta-diffusion').getByRole('status')).toContainText('steps');
});

test('policy and budget attributes select the calibrated plan', async ({ page }) => {
  const plan = smallestErtaPlan();
  test.skip(plan === null, 'no ertacache plan in the model manifest yet (npm run calibrate writes one)');
  await openFixture(page, server, MODEL_NAME);
  await setAttrs(page, { steps: String(plan!.steps), policy: 'ertacache', budget: plan!.budget === undefined ? null : String(plan!.budget), 'preview-every': '0' });
  const r = okStats(await generate(page));
  expect(r.stats.planId).toBe(plan!.file);
  expect(r.stats.reusedSteps).toBe(plan!.reuse.length);
  expect(r.stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []))).toEqual(plan!.reuse);
});
