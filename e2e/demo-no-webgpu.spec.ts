// The demo page in a Chromium started without WebGPU: 'auto' falls back to WASM and the page
// says so; forcing WebGPU gives the typed WEBGPU_UNAVAILABLE message with its hint.

import type { Page } from '@playwright/test';
import { CHROMIUM, chromiumArgs } from './browser.ts';
import { demoUrl } from './fixtures/demo-page.ts';
import { expect, test } from './fixtures.ts';

test.use({ launchOptions: { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) } });

async function openAndWait(page: Page, url: string): Promise<void> {
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(url);
  await expect(page.locator('#model-status')).not.toHaveText(/Loading|Downloading/, { timeout: 60_000 });
}

test('auto falls back to WASM and the page says so', async ({ page }) => {
  await openAndWait(page, demoUrl({ provider: 'auto', steps: '2', policy: 'none' }));
  await expect(page.locator('#model-status')).toHaveAttribute('data-provider', 'wasm');
  await expect(page.locator('#messages .info[data-kind="wasm-fallback"]')).toContainText('WebGPU is not available');
  await page.locator('#generate').click();
  await expect(page.locator('#run-status')).toContainText('on wasm', { timeout: 60_000 });
});

test('forcing WebGPU shows WEBGPU_UNAVAILABLE with its hint', async ({ page }) => {
  await openAndWait(page, demoUrl({ provider: 'webgpu', steps: '2' }));
  const box = page.locator('#messages .error[data-code="WEBGPU_UNAVAILABLE"]');
  await expect(box).toBeVisible();
  await expect(box).toContainText('WebGPU is not available here');
  await expect(box.locator('.hint')).toContainText('wasm');
});
