// Calibration in the browser (issue 13 item 3), Chromium + WASM, the tiny imported DiT, 6 steps:
// api.calibrate() in the worker gives the reuse set the Node calibration gives for the same
// model, seeds and budget; a cancelled one stores nothing; the plan lands in IndexedDB, survives
// a reload, and later generations use it. The element's calibrate() does the same for a budget
// the manifest has no plan for. One short WebGPU case (SwiftShader here): the same reuse set as Node.

import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { calibrate as nodeCalibrate } from '../src/node/calibrate.ts';
import type { CalibrateResult, CalibrateRequest, GenerateResult } from '../src/runtime/api.ts';
import type { Harness, Outcome } from './harness.ts';
import { expect, generate, load, ok, test } from './fixtures.ts';

const DIR = 'public/models/imported-dit-tiny';
const URL_ = '/models/imported-dit-tiny/manifest.json';
/** 2 seeds × 3 classes: a short calibration batch (6 samples); no forecast nor error report (fewer passes, the same S). */
const LABELS = [0, 3, 7];
type W = { harness: Harness };

// WASM runs the full cases; the webgpu project runs only the short WebGPU case at the end.
test.beforeEach(({ provider }, info) => {
  test.skip((provider === 'wasm') === info.title.startsWith('WebGPU'),
    'calibration is many transformer passes: the full cases on WASM, one short case on WebGPU (SwiftShader is ~30× slower)');
});

function calibrate(page: Page, req: CalibrateRequest): Promise<Outcome<CalibrateResult>> {
  return page.evaluate((r) => (globalThis as unknown as W).harness.calibrate(r), req) as Promise<Outcome<CalibrateResult>>;
}

/** The records of the plan store, read straight from IndexedDB on the page (same origin as the worker). */
function storedKeys(page: Page): Promise<string[]> {
  return page.evaluate(() => new Promise<string[]>((done, fail) => {
    const open = indexedDB.open('erta-diffusion-plans');
    open.onerror = () => fail(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('plans')) { db.close(); done([]); return; }
      const req = db.transaction('plans').objectStore('plans').getAllKeys();
      req.onsuccess = () => { db.close(); done(req.result.map(String)); };
      req.onerror = () => fail(req.error);
    };
  }));
}

const reuseOf = (stats: GenerateResult['stats']) => stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []));

test('a plan calibrated in the browser equals the Node calibration\'s, is stored in IndexedDB, survives a reload and is used', async ({ harness }) => {
  const tmp = await mkdtemp(join(tmpdir(), 'erta-e2e-calib-'));
  let nodeReuse: number[];
  try {
    await cp(DIR, tmp, { recursive: true });
    const report = await nodeCalibrate({ model: tmp, steps: 6, budgets: [4], seeds: [0, 1], labels: LABELS, forecast: false, evaluate: false });
    nodeReuse = report.plans.find((p) => p.kind === 'ertacache' && p.space === 'output')!.reuse!;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const info = ok(await load(harness, { provider: 'wasm' }, URL_));

  // cancel after the first transformer passes: CANCELLED, nothing written
  await harness.evaluate(() => (globalThis as unknown as W).harness.startCalibrate({ jobId: 'c1', budget: 4, steps: 6, labels: [0, 3, 7] }));
  await harness.waitForFunction(() => (globalThis as unknown as W).harness.eventsSoFar('c1') >= 2);
  await harness.evaluate(() => (globalThis as unknown as W).harness.cancel('c1'));
  const cancelled = await harness.evaluate(() => (globalThis as unknown as W).harness.settle('c1'));
  expect(cancelled).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
  expect(await storedKeys(harness)).toEqual([]);

  const run = await calibrate(harness, { budget: 4, steps: 6, seeds: [0, 1], labels: LABELS, forecast: false, evaluate: false });
  const r = ok(run);
  expect(r.reuse).toEqual(nodeReuse);
  expect(r).toMatchObject({ stored: true, computedSteps: 4, entry: { file: 'browser:ertacache-6-b4' } });
  expect(run.events.filter((e) => (e as { phase: string }).phase === 'profile').length).toBeGreaterThanOrEqual(6);
  // every event reaches the page before the result does (they travel on another port)
  expect(run.events.at(-1)).toMatchObject({ phase: 'store', message: 'stored browser:ertacache-6-b4 in IndexedDB' });
  expect(await storedKeys(harness)).toEqual([`${info.modelHash}/ertacache-6-b4`]);

  const before = ok(await generate(harness, { label: 2, seed: 7, steps: 6, policy: { kind: 'ertacache', budget: 4 } }));
  expect(before.stats.planId).toBe('browser:ertacache-6-b4');
  expect(reuseOf(before.stats)).toEqual(nodeReuse);

  await harness.reload();
  await harness.waitForFunction(() => 'harness' in globalThis);
  const again = ok(await load(harness, { provider: 'wasm' }, URL_));
  expect(again.plans[0]).toEqual({ file: 'browser:ertacache-6-b4', kind: 'ertacache', steps: 6, budget: 4 });
  const after = ok(await generate(harness, { label: 2, seed: 7, steps: 6, policy: { kind: 'ertacache', budget: 4 } }));
  expect(after.stats.planId).toBe('browser:ertacache-6-b4');
  expect(after.image).toEqual(before.image);
});

test('<erta-diffusion>.calibrate() fits a plan for a budget the manifest lacks; the next generate() uses it', async ({ harness }) => {
  const out = await harness.evaluate(async (url) => {
    const el = document.createElement('erta-diffusion');
    for (const [k, v] of Object.entries({ model: url, provider: 'wasm', steps: '6', budget: '3', policy: 'ertacache', label: '1', 'preview-every': '0' })) {
      el.setAttribute(k, v);
    }
    document.body.append(el);
    const events: { type: string; phase?: string; passes?: number }[] = [];
    for (const type of ['erta-calibration', 'erta-calibrated', 'erta-error']) {
      el.addEventListener(type, (e) => events.push({ type, ...((e as CustomEvent).detail as object) }));
    }
    // an already-aborted signal: CANCELLED before anything starts
    const aborted = await el.calibrate({ signal: AbortSignal.abort() }).then(() => 'resolved', (e: { code: string }) => e.code);
    const result = await el.calibrate({ seeds: [0], labels: [1, 2], forecast: false, evaluate: false });
    const gen = await el.generate();
    return { aborted, result, stats: gen.stats, events: events.map((e) => `${e.type}:${e.phase ?? ''}`) };
  }, URL_);
  expect(out.aborted).toBe('CANCELLED');
  expect(out.result).toMatchObject({ computedSteps: 3, stored: true, entry: { file: 'browser:ertacache-6-b3', budget: 3 } });
  expect(out.stats).toMatchObject({ planId: 'browser:ertacache-6-b3', computedSteps: 3, reusedSteps: 3 });
  expect(reuseOf(out.stats)).toEqual(out.result.reuse);
  expect(out.events).toContain('erta-calibration:profile');
  expect(out.events).toContain('erta-calibration:fit');
  expect(out.events.at(-1)).toBe('erta-calibrated:');
});

test('the demo\'s Calibrate button fits a plan for the chosen steps, lists it and the next run uses it', async ({ page }) => {
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`/?${new URLSearchParams({ model: URL_.slice(1), provider: 'wasm', steps: '6', policy: 'ertacache' })}`);
  await expect(page.locator('#calibrate')).toBeEnabled({ timeout: 60_000 });
  await page.locator('#calibrate').click();
  // the manifest's 6-step ertacache plan is budget 4: the calibration replaces it in this browser
  await expect(page.locator('#run-status')).toContainText('Calibrated ertacache: 4 of 6 steps computed', { timeout: 120_000 });
  expect(await storedKeys(page)).toHaveLength(1);
  await page.locator('#generate').click();
  await expect(page.locator('#run-stats')).toContainText('browser:ertacache-6-b4', { timeout: 60_000 });
});

// WebGPU: the fit's arithmetic (residuals, errors, the rectification's sums) runs as WGSL on ORT's device and the
// graphs on the WebGPU provider, in fp32 but in another order than Node's CPU kernels; the reuse set comes from
// comparing errors, so it must come out the same unless two candidates tie within ~1e-6. A short case: 1 seed ×
// 2 labels, 5 steps, budget 3, no forecast, no error report.
test('WebGPU: a plan calibrated on the GPU gives the Node calibration\'s reuse set, and runs', async ({ harness }) => {
  const req = { steps: 5, budgets: [3], seeds: [0], labels: [0, 3] };
  const tmp = await mkdtemp(join(tmpdir(), 'erta-e2e-calib-gpu-'));
  let node: { reuse: number[]; phi: number[] };
  try {
    await cp(DIR, tmp, { recursive: true });
    const report = await nodeCalibrate({ model: tmp, ...req, forecast: false, evaluate: false });
    const entry = report.plans.find((p) => p.kind === 'ertacache' && p.space === 'output')!;
    node = { reuse: entry.reuse!, phi: (JSON.parse(await readFile(join(tmp, entry.file), 'utf8')) as { phi: number[] }).phi };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const info = ok(await load(harness, { provider: 'webgpu' }, URL_));
  expect(info.provider.used).toBe('webgpu');
  const r = ok(await calibrate(harness, { budget: 3, steps: 5, seeds: [0], labels: [0, 3], forecast: false, evaluate: false, store: false }));
  expect(r.computedSteps).toBe(3);
  expect(r.reuse).toEqual(node.reuse);
  // φ is searched on the same errors: equal up to the GPU's summation order
  const phi = (r.plan as { phi: number[] }).phi;
  phi.forEach((v, k) => expect(Math.abs(v - node.phi[k]!), `phi[${k}]`).toBeLessThan(1e-3));
  const run = ok(await generate(harness, { label: 3, seed: 5, steps: 5, policy: { kind: 'ertacache', budget: 3 } }));
  expect(run.stats.planId).toBe('browser:ertacache-5-b3');
  expect(reuseOf(run.stats)).toEqual(node.reuse);
});
