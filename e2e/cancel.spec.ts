// cancel(jobId) stops a run within one step and leaves the worker usable; a second generate
// while one runs is rejected with BUSY (the policy stated on RuntimeApi).

import type { Page } from '@playwright/test';
import type { GenerateValue } from './fixtures.ts';
import { expect, generate, load, ok, test } from './fixtures.ts';
import type { Harness, Outcome } from './harness.ts';

type W = { harness: Harness };
const stepsSoFar = (page: Page, id: string) =>
  page.evaluate((j) => (globalThis as unknown as W).harness.stepsSoFar(j), id);

test('cancel mid-run, BUSY while running, then generate again', async ({ harness, provider }) => {
  ok(await load(harness, { provider }));
  const total = provider === 'webgpu' ? 12 : 40;
  await harness.evaluate((n) => (globalThis as unknown as W).harness.start({ jobId: 'long', label: 1, seed: 3, steps: n }), total);
  await expect.poll(() => stepsSoFar(harness, 'long'), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);

  const busy = await generate(harness, { label: 2, seed: 4, steps: 2 });
  expect(busy.ok).toBe(false);
  expect(!busy.ok && busy.error.code).toBe('BUSY');

  // Steps the page has seen once the worker has acknowledged the cancel (plus a turn for step
  // events already posted on their own port to land).
  const atCancel = await harness.evaluate(async () => {
    const h = (globalThis as unknown as W).harness;
    await h.cancel('long');
    await new Promise((r) => setTimeout(r, 50));
    return h.stepsSoFar('long');
  });
  const outcome = await harness.evaluate(() => (globalThis as unknown as W).harness.settle('long')) as Outcome<GenerateValue>;
  expect(outcome.ok).toBe(false);
  expect(!outcome.ok && outcome.error.code).toBe('CANCELLED');
  expect(!outcome.ok && outcome.error.isRuntimeError).toBe(true);
  const ran = outcome.events.filter((e) => (e as { type: string }).type === 'step').length;
  expect(ran, `steps seen at cancel: ${atCancel}`).toBeLessThan(total);
  expect(ran, `steps seen at cancel: ${atCancel}`).toBeLessThanOrEqual(atCancel + 1); // the step in flight finishes, no further one starts

  const again = ok(await generate(harness, { label: 2, seed: 4, steps: 2, guidance: 1 }));
  expect(again.stats.computedSteps).toBe(2);
  expect(again.stats.provider).toBe(provider);
});
