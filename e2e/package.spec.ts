// The package from its tarball, as users install it: `npm pack`, then three consumers made in
// temporary directories (e2e/consumers/, quoted by the README): (a) a Vite app that imports the
// page API and the element, type-checked and built by Vite, served statically; (b) a plain HTML
// page with no build using the prebuilt element module from node_modules; (c) a Node script
// calling erta-diffusion/node. WASM in Chromium; few steps.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { canvasSpread } from './fixtures/element-page.ts';
import { startStaticServer, type StaticServer } from './fixtures/static-server.ts';
import { CONSUMERS, installedVersion, packTarball, ROOT, run, type Workspace } from './fixtures/tarball.ts';
import { expect, test } from './fixtures.ts';

const PREFIX = '/apps/erta/'; // a sub-path: nothing may assume the site root
const ORT_MJS = 'ort-wasm-simd-threaded.jspi.mjs'; // the build Chromium runs (it has JSPI)
const DEV_PORT = 52160; // issue 16's range; a consumer's dev server must not meet another checkout's

const RESULT = { model: 'mnist-dit', provider: 'wasm', steps: 8, computed: 5 };

test.describe.configure({ mode: 'serial' });

let ws: Workspace;
let server: StaticServer | null = null;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  ws = await packTarball();
});
let stopDev: (() => void) | null = null; // also after a test timed out, when its finally never ran
test.afterEach(async () => {
  stopDev?.();
  stopDev = null;
  await server?.close();
  server = null;
});
test.afterAll(() => ws?.remove());

type El = HTMLElement & { generate(): Promise<{ stats: { steps: number; computedSteps: number; provider: string } }> };

/** el.generate() on the page: the stats, or the typed error as data. */
function generateOn(page: Page, selector: string) {
  return page.evaluate(async (sel) => {
    const el = document.querySelector(sel) as unknown as El;
    try {
      const r = await el.generate();
      return { ok: true as const, stats: r.stats };
    } catch (e) {
      const c = e as { code?: string; message?: string };
      return { ok: false as const, code: c.code ?? 'NONE', message: c.message ?? String(e) };
    }
  }, selector);
}

/** What the Vite app's main.ts wrote into #out: its JSON result (a typed error's text fails here, as is). */
async function appResult(page: Page): Promise<unknown> {
  const out = page.locator('#out');
  await expect(out).not.toHaveText('working…', { timeout: 120_000 });
  const text = await out.innerText();
  expect(text, 'the app reported an error').toMatch(/^\{/);
  return JSON.parse(text);
}

test('(a) a fresh Vite app: type-checks against the package, builds, and generates with the API and the element', async ({ page }) => {
  test.setTimeout(240_000);
  const app = await ws.consumer('vite-app', [`vite@${installedVersion('vite')}`]);
  // Compile-time type tests of the public API (and the app's own code), against the tarball's .d.ts.
  cpSync(join(CONSUMERS, 'types'), join(app, 'types'), { recursive: true });
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'types/tsconfig.json'], app);
  await run(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], app);
  expect(existsSync(join(app, 'dist/index.html'))).toBe(true);

  server = await startStaticServer({ root: join(app, 'dist'), prefix: PREFIX });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(server.url);
  expect(await appResult(page)).toEqual(RESULT);
  expect(await page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('#seven')!;
    const d = c.getContext('2d')!.getImageData(0, 0, 28, 28).data;
    return Math.max(...d.filter((_, k) => k % 4 === 0)) - Math.min(...d.filter((_, k) => k % 4 === 0));
  })).toBeGreaterThan(50);

  await page.waitForFunction(() => customElements.get('erta-diffusion') !== undefined);
  const r = await generateOn(page, '#digit');
  expect(r).toMatchObject({ ok: true, stats: { steps: 8, computedSteps: 5, provider: 'wasm' } });
  expect(await canvasSpread(page, 'digit')).toBeGreaterThan(50);
  // With no model attribute the element loads its default, the text-to-emoji model the package ships.
  const emoji = await generateOn(page, '#emoji');
  expect(emoji).toMatchObject({ ok: true, stats: { steps: 8, provider: 'wasm' } });
  expect(server.requests.some((p) => p.endsWith('/models/emoji-dit/manifest.json'))).toBe(true);
  expect(await canvasSpread(page, 'emoji')).toBeGreaterThan(50);
  // Vite copied the worker and ORT's files into the app's build; nothing came from elsewhere.
  expect(server.requests.filter((p) => !p.startsWith(PREFIX))).toEqual([]);
  expect(server.requests.some((p) => p.includes('ort-wasm-simd-threaded.jspi') && p.endsWith('.wasm'))).toBe(true);

  // The same app on Vite's dev server (dependency pre-bundling and all) needs nothing more.
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }; // a plain "localhost:PORT/" to wait for
  const dev = spawn(join(app, 'node_modules/.bin/vite'), ['--port', String(DEV_PORT), '--strictPort'], { cwd: app, env, stdio: 'pipe' });
  stopDev = () => dev.kill();
  try {
    let log = '';
    await new Promise<void>((resolve, reject) => {
      dev.stdout.on('data', (d: Buffer) => { log += d.toString(); if (log.includes(`:${DEV_PORT}/`)) resolve(); });
      dev.stderr.on('data', (d: Buffer) => { log += d.toString(); });
      dev.on('exit', (code) => reject(new Error(`vite dev exited with ${code}:\n${log}`)));
    });
    await page.goto(`http://localhost:${DEV_PORT}/`);
    expect(await appResult(page)).toEqual(RESULT);
  } finally {
    dev.kill();
  }
});

test('(b) a plain HTML page, no build: the prebuilt element module from node_modules; a wrong ORT location is a typed error', async ({ page }) => {
  const dir = await ws.consumer('static');
  server = await startStaticServer({ root: dir, prefix: PREFIX });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => customElements.get('erta-diffusion') !== undefined);
  const r = await generateOn(page, 'erta-diffusion');
  expect(r).toMatchObject({ ok: true, stats: { steps: 8, computedSteps: 5, provider: 'wasm' } });
  await expect(page.locator('erta-diffusion').getByRole('status')).toContainText('Done');
  // ORT's files were found beside the package's module, in node_modules.
  expect(server.requests).toContain(`${PREFIX}node_modules/erta-diffusion/lib/ort/${ORT_MJS}`);

  // One option points elsewhere; a wrong place fails with the URL it tried.
  await page.evaluate(() => {
    const el = document.createElement('erta-diffusion');
    el.id = 'lost';
    for (const [k, v] of Object.entries({ 'ort-base-url': 'nowhere/ort/', model: document.querySelector('erta-diffusion')!.getAttribute('model')!,
      label: '1', steps: '2', policy: 'none', provider: 'wasm' })) el.setAttribute(k, v);
    document.body.append(el);
  });
  const lost = await generateOn(page, '#lost');
  expect(lost).toMatchObject({ ok: false, code: 'ORT_FILES_NOT_FOUND' });
  expect(lost.ok ? '' : lost.message).toContain(`${server.url}nowhere/ort/${ORT_MJS} answered HTTP 404`);
});

test('(c) a Node script: erta-diffusion/node generates a PNG with onnxruntime-node', async () => {
  const dir = await ws.consumer('node', [`onnxruntime-node@${installedVersion('onnxruntime-node')}`]);
  const out = await run(process.execPath, ['generate.mjs'], dir);
  const report = JSON.parse(out.trim().split('\n').at(-1)!);
  expect(report).toMatchObject({ policy: 'ertacache', steps: 8, computedSteps: 5, reusedSteps: 3, label: 7, seed: 3, provider: 'cpu' });
  const png = readFileSync(join(dir, 'seven.png'));
  expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
});
