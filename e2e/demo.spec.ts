// The demo page (index.html on the dev server): live frames and the step timeline, compare mode
// whose numbers must equal the runs' own stats, PNG download, and the bench chart. WASM and few
// steps; screenshots are attached to the report (test-results/…/demo-*.png).

import type { Page, TestInfo } from '@playwright/test';
import { demoUrl, mainCanvasSpread, runStats } from './fixtures/demo-page.ts';
import { readFileSync } from 'node:fs';
import { expect, MODEL_DIR, test } from './fixtures.ts';

async function openDemo(page: Page, params: Record<string, string>): Promise<void> {
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(demoUrl({ provider: 'wasm', ...params }));
  await expect(page.locator('#generate')).toBeEnabled({ timeout: 60_000 }); // the model is loaded
  await expect(page.locator('#model-status')).toHaveAttribute('data-provider', 'wasm');
}

async function screenshot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

test('generates a digit with live frames and the step timeline', async ({ page }, info) => {
  const steps = 20;
  await openDemo(page, { steps: String(steps), policy: 'uniform', seed: '3', digit: '4' });
  await page.locator('#generate').click();
  // A frame is on the canvas while the run is still going (live previews, not only the result).
  await page.waitForFunction((n) => {
    const decided = document.querySelectorAll('.timeline-bars .step.compute, .timeline-bars .step.reuse').length;
    const c = document.getElementById('main-canvas') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return decided >= 2 && decided < n && d.some((v, k) => k % 4 === 0 && v !== d[0]);
  }, steps, { timeout: 60_000, polling: 50 });
  await expect(page.locator('#run-status')).toContainText('steps computed', { timeout: 60_000 });

  const { cached } = await runStats(page);
  expect(cached).toMatchObject({ steps, policy: 'uniform', previews: steps });
  const bars = page.locator('.timeline-bars .step');
  await expect(bars).toHaveCount(steps);
  expect(await bars.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.decision))).toEqual(cached.decisions);
  expect(cached.decisions).toContain('reuse');
  await expect(page.locator('.timeline-summary')).toContainText(`${cached.computedSteps} computed`);
  expect(await mainCanvasSpread(page)).toBeGreaterThan(50);
  await screenshot(page, info, 'demo-generate');
});

test('compare mode shows numbers that match the runs\' stats', async ({ page }, info) => {
  await openDemo(page, { steps: '8', policy: 'uniform', seed: '11', digit: '2', compare: '1' });
  await page.locator('#generate').click();
  await expect(page.locator('#compare-table')).toBeVisible({ timeout: 60_000 });
  const { cached, reference } = await runStats(page);
  expect(reference).toBeDefined();
  const metric = (k: string) => page.locator(`#compare-table td[data-metric="${k}"]`);
  await expect(metric('speedup')).toHaveText(`${(reference!.totalMs / cached.totalMs).toFixed(2)}×`);
  await expect(metric('computed')).toHaveText(`${cached.computedSteps} / ${cached.steps}`);
  expect(reference!.computedSteps).toBe(reference!.steps);
  expect(cached.computedSteps).toBeLessThan(cached.steps);
  await expect(metric('psnr')).toHaveText(/^(\d+\.\d\d dB|∞ \(identical\))$/);
  await expect(metric('ssim')).toHaveText(/^(0|1)\.\d{4}$/);
  await expect(page.locator('#ref-figure')).toBeVisible();
  await expect(page.locator('#diff-figure')).toBeVisible();
  await expect(page.locator('#timelines .timeline')).toHaveCount(2);
  await screenshot(page, info, 'demo-compare');
});

test('downloads the image as a PNG', async ({ page }) => {
  await openDemo(page, { steps: '4', policy: 'none' });
  await page.locator('#generate').click();
  await expect(page.locator('#download')).toBeEnabled({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  expect(download.suggestedFilename()).toMatch(/^erta-digit\d-seed\d+-none\.png$/);
  const path = await download.path();
  expect([...readFileSync(path).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('the bench chart shows the loaded model\'s committed results, or says it has none', async ({ page }) => {
  await openDemo(page, { steps: '4' });
  const chart = page.locator('#bench-chart');
  await expect(chart.locator('svg[role="img"], .chart-empty')).toHaveCount(1);
  const { name } = JSON.parse(readFileSync(`${MODEL_DIR}/manifest.json`, 'utf8')) as { name: string }; // the chart names the manifest's model
  const committed = ['bench/results.json', 'bench/emoji-dit/results.json']
    .map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { model: string }).model);
  expect(committed).toEqual(['mnist-dit', 'emoji-dit']);
  if (committed.includes(name)) {
    await expect(chart.locator('figcaption')).toContainText(`Model: ${name}.`);
    await expect(chart.locator('polyline').first()).toBeVisible();
  } else {
    await expect(chart).toContainText(`No bench results for ${name}`);
    await expect(chart).toContainText('the demo bundles results for mnist-dit and emoji-dit'); // read from the bundle
  }
});

test('lists the stored model under "Stored models" and deletes it', async ({ page }) => {
  await openDemo(page, { steps: '2' });
  await page.locator('#stored-models summary').click();
  const item = page.locator('#stored-list li', { hasText: 'mnist-dit' });
  await expect(item).toContainText(/3 files, \d+\.\d MiB/);
  await item.getByRole('button', { name: /Delete the stored copy of mnist-dit/ }).click();
  await expect(page.locator('#stored-list')).toHaveText('Nothing stored.');
  const left = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res) => { const r = indexedDB.open('erta-diffusion'); r.onsuccess = () => res(r.result); });
    const n = await new Promise<number>((res) => { const q = db.transaction('model-files').objectStore('model-files').count(); q.onsuccess = () => res(q.result); });
    db.close();
    return n;
  });
  expect(left).toBe(0); // the whole-file cache entries are gone too
});
