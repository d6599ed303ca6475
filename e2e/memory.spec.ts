// A hundred generations in a row must not grow memory (acceptance: within 10 % of the memory
// after ten). Slow — ~2 min on WASM, ~8 min on SwiftShader — so it runs only when asked:
//   ERTA_E2E_MEMORY=1 npx playwright test memory
// Measured: the resident memory of every Chromium process (page, worker, GPU process, where
// SwiftShader keeps "GPU" buffers) and the page's own measureUserAgentSpecificMemory (JS and
// WASM heaps of the page and its worker).

import { readFileSync } from 'node:fs';
import type { Browser, Page } from '@playwright/test';
import { expect, generate, load, ok, test } from './fixtures.ts';

interface ProcessInfo { type: string; id: number }

/** Processes that hold the model: the page and its worker, the GPU process (SwiftShader). */
const COUNTED = ['browser', 'renderer', 'GPU'];

/**
 * Resident memory per process type of *this* browser (its process list comes from CDP). Only
 * COUNTED types enter the total: Chromium starts unrelated services (e.g. an on-device-model
 * service) at its own pace, which would otherwise show as growth.
 */
async function browserRss(browser: Browser): Promise<Record<string, number>> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo') as { processInfo: ProcessInfo[] };
  await cdp.detach();
  const byType: Record<string, number> = { total: 0 };
  for (const p of processInfo) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'));
      const bytes = rss ? Number(rss[1]) * 1024 : 0;
      byType[p.type] = (byType[p.type] ?? 0) + bytes;
      if (COUNTED.includes(p.type)) byType['total']! += bytes;
    } catch {
      // the process exited while we looked
    }
  }
  return byType;
}

async function uaMemoryBytes(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const p = performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> };
    return p.measureUserAgentSpecificMemory ? (await p.measureUserAgentSpecificMemory()).bytes : -1;
  });
}

const MiB = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

test('100 generations use no more memory than 10 (within 10 %)', async ({ harness, provider, browser }, info) => {
  test.skip(!process.env.ERTA_E2E_MEMORY, 'slow; set ERTA_E2E_MEMORY=1 to run');
  test.setTimeout(20 * 60_000);
  ok(await load(harness, { provider }));
  // WebGPU: 2 steps with a preview each, so previews, guidance and the pool are all exercised.
  const req = provider === 'webgpu'
    ? { label: 7, seed: 0, steps: 2, guidance: 3, previewEvery: 1 }
    : { label: 7, seed: 0, steps: 4, guidance: 3, previewEvery: 2 };
  const measure = async () => ({ rss: await browserRss(browser), ua: await uaMemoryBytes(harness) });

  for (let g = 0; g < 10; g++) ok(await generate(harness, { ...req, seed: g }));
  const at10 = await measure();
  for (let g = 10; g < 100; g++) ok(await generate(harness, { ...req, seed: g }));
  const at100 = await measure();

  const rss = Object.keys(at100.rss).map((k) => `${k} ${MiB(at10.rss[k] ?? 0)} → ${MiB(at100.rss[k]!)}`).join(', ');
  const line = `${provider}, after 10 → 100 generations: RSS MiB ${rss}; `
    + `measureUserAgentSpecificMemory ${MiB(at10.ua)} → ${MiB(at100.ua)} MiB`;
  console.log(line);
  info.annotations.push({ type: 'memory', description: line });
  expect(at100.rss['total']!).toBeLessThanOrEqual(at10.rss['total']! * 1.1);
  if (at10.ua > 0) expect(at100.ua).toBeLessThanOrEqual(at10.ua * 1.1);
});
