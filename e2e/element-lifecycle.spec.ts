// <erta-diffusion> over its lifetime, from the built dist/ on a plain static server: the control
// bar by keyboard, cancel(), removal terminating the worker, and one short WebGPU run.

import type { Page, Worker } from '@playwright/test';
import type { StaticServer } from './fixtures/static-server.ts';
import { clearLog, eventLog, generate, openFixture, serveDist, setAttrs } from './fixtures/element-page.ts';
import { expect, MODEL_NAME, test } from './fixtures.ts';

let server: StaticServer;
test.beforeAll(async () => {
  server = await serveDist();
});
test.afterAll(async () => {
  await server.close();
});

/** Collects the element's diffusion workers and whether each has been closed. */
function watchWorkers(page: Page): { started: Worker[]; closed: Set<Worker> } {
  const state = { started: [] as Worker[], closed: new Set<Worker>() };
  page.on('worker', (w) => {
    if (!w.url().includes('diffusion.worker')) return; // ORT's own thread workers are not ours
    state.started.push(w);
    w.on('close', () => state.closed.add(w));
  });
  return state;
}

test('the control bar is labelled, works from the keyboard and announces the result', async ({ page }) => {
  await openFixture(page, server, MODEL_NAME);
  const el = page.locator('erta-diffusion');
  const seed = el.getByLabel('Seed');
  await expect(el.getByRole('form', { name: 'Generation controls' })).toBeVisible();
  await expect(el.getByRole('status')).toHaveAttribute('aria-live', 'polite');

  await seed.focus();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('12');
  await page.keyboard.press('Tab'); // change event → the attribute follows the control
  await expect(page.locator('#digit')).toHaveAttribute('seed', '12');
  await el.getByLabel('Label').selectOption('4');
  await expect(page.locator('#digit')).toHaveAttribute('label', '4');

  await seed.focus();
  await page.keyboard.press('Enter'); // submits the control bar: generate()
  await expect(el.getByRole('status')).toContainText('Done', { timeout: 60_000 });
  await expect(el.getByRole('img')).toHaveAttribute('aria-label', /class 4, seed 12/);

  await setAttrs(page, { controls: null });
  await expect(el.getByRole('form')).toBeHidden();
});

test('cancel() stops a run within a step; the element stays usable', async ({ page }) => {
  await openFixture(page, server, MODEL_NAME);
  await setAttrs(page, { steps: '40', 'preview-every': '0' });
  const pending = generate(page);
  await page.waitForFunction(() => (window as unknown as { ertaLog: { type: string }[] }).ertaLog
    .some((e) => e.type === 'erta-step'));
  await page.evaluate(() => (document.getElementById('digit') as unknown as { cancel(): Promise<void> }).cancel());
  const r = await pending;
  expect(r).toMatchObject({ ok: false, code: 'CANCELLED' });
  const log = await eventLog(page);
  expect(log.filter((e) => e.type === 'erta-step').length).toBeLessThan(40);
  expect(log.at(-1)).toMatchObject({ type: 'erta-error', code: 'CANCELLED' });
  expect(log.some((e) => e.type === 'erta-done')).toBe(false);

  await setAttrs(page, { steps: '3' });
  expect(await generate(page)).toMatchObject({ ok: true, stats: { steps: 3 } });
});

test('removing the element terminates its worker; adding it back starts a fresh one lazily', async ({ page }) => {
  const workers = watchWorkers(page);
  await openFixture(page, server, MODEL_NAME);
  await setAttrs(page, { steps: '2' });
  expect(await generate(page)).toMatchObject({ ok: true });
  expect(workers.started).toHaveLength(1);

  // Moving the element within the page keeps its worker (disconnect + connect in one task).
  await page.evaluate(() => document.body.append(document.getElementById('digit')!));
  await page.waitForTimeout(300);
  expect(workers.closed.size).toBe(0);

  // Removed in the middle of a run: the worker ends and the pending generate() settles.
  await setAttrs(page, { steps: '40' });
  await clearLog(page);
  const pending = generate(page);
  await page.waitForFunction(() => (window as unknown as { ertaLog: { type: string; i: number | null }[] }).ertaLog
    .some((e) => e.type === 'erta-step' && e.i === 1));
  await page.evaluate(() => {
    const el = document.getElementById('digit')!;
    (window as unknown as { detached: HTMLElement }).detached = el;
    el.remove();
  });
  await expect.poll(() => workers.closed.size, { timeout: 10_000 }).toBe(1);
  expect(await pending).toMatchObject({ ok: false, code: 'CANCELLED' });

  await page.evaluate(() => document.body.append((window as unknown as { detached: HTMLElement }).detached));
  await setAttrs(page, { steps: '2' });
  expect(await page.evaluate(() => (document.getElementById('digit') as unknown as { workerStarted: boolean }).workerStarted))
    .toBe(false);
  expect(await generate(page)).toMatchObject({ ok: true, stats: { steps: 2 } });
  expect(workers.started).toHaveLength(2);
});

test('provider="webgpu" runs on WebGPU (one short SwiftShader run)', async ({ page }) => {
  await openFixture(page, server, MODEL_NAME);
  await setAttrs(page, { provider: 'webgpu', steps: '2', 'preview-every': '1' });
  const r = await generate(page);
  expect(r).toMatchObject({ ok: true, stats: { provider: 'webgpu', steps: 2, previews: 2 } });
  const frames = (await eventLog(page)).filter((e) => e.type === 'erta-frame');
  expect(frames.map((e) => [e.i, e.final])).toEqual([[0, false], [1, false], [1, true]]);
});
