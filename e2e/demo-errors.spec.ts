// The demo page's messages: typed runtime errors appear in the page with their title, code and
// what to do (demo-no-webgpu.spec.ts covers the WebGPU ones).

import type { Page } from '@playwright/test';
import { demoUrl } from './fixtures/demo-page.ts';
import { expect, test } from './fixtures.ts';

async function openAndWait(page: Page, url: string): Promise<void> {
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(url);
  await expect(page.locator('#model-status')).not.toHaveText(/Loading|Downloading/, { timeout: 60_000 });
}

test('a missing model gives a clear message with what to do', async ({ page }) => {
  await openAndWait(page, `/?provider=wasm&model=${encodeURIComponent('models/no-such-model/manifest.json')}`);
  const box = page.locator('#messages .error[data-code="MODEL_NOT_FOUND"]');
  await expect(box).toBeVisible();
  await expect(box).toHaveAttribute('role', 'alert');
  await expect(box).toContainText('The model was not found at that address');
  await expect(box.locator('.hint')).toContainText('What to do:');
  await box.getByRole('button', { name: 'Dismiss message' }).click();
  await expect(box).toHaveCount(0);
});

test('a policy without a calibrated plan for the chosen steps is explained, not thrown', async ({ page }) => {
  await openAndWait(page, demoUrl({ provider: 'wasm', steps: '3', policy: 'ertacache' }));
  await expect(page.locator('#budget-note')).toContainText('no ertacache plan for 3 steps');
  await page.locator('#generate').click();
  const box = page.locator('#messages .error[data-code="PLAN_NOT_FOUND"]');
  await expect(box).toBeVisible({ timeout: 30_000 });
  await expect(box.locator('.hint')).not.toBeEmpty();
  await expect(page.locator('#run-status')).toContainText('failed');
});
