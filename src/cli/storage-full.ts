// `npm run check:storage-full -- --fs DIR`: the large-model storage on a real, nearly full disk.
// DIR must be the mount point of a small file system of its own (a few hundred MB; as root, e.g.
// `mkdir -p /mnt/erta-small && mount -t tmpfs -o size=300m tmpfs /mnt/erta-small`): this fills it
// to the brim. Chromium runs with its profile on DIR (a persistent profile: OPFS on disk, as in a
// user's browser, unlike Playwright's default contexts, whose OPFS is kept in memory: step 5).
// A small random sharded model (fp16, 8 MiB shards) is served from a local Range server:
//   1. cold load: downloaded and stored on DIR;
//   2. DIR filled (1 MiB left); a new tab's warm load must come from storage with no model request;
//   3. the model deleted, DIR filled to leave half the model's shard bytes; a load: STORAGE_QUOTA,
//      once as Chromium's quota answers it (the estimate) and once with a large quota forced
//      (DevTools protocol), so that the disk itself refuses the write;
//   4. the filler removed: the next load resumes (only the missing chunks are served) and completes;
//      then the model deleted, DIR filled to the last byte, and a load again;
//   5. what FileSystemSyncAccessHandle.write() returns, 1 MiB at a time, with 2.5 MiB free;
//   6. for comparison, a Playwright (off-the-record) context: 64 MiB written into its OPFS, and
//      how much the browser's profile folder grew (nothing: such a context keeps OPFS in memory).
// Prints a JSON report (--out FILE writes it too). Not part of CI (it needs a file system to fill).
//
//   npm run check:storage-full -- --fs DIR [--bytes 3e7] [--out FILE]

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM, chromiumArgs } from '../../e2e/browser.ts';
import { writeRandomModel } from '../model-tool/random-model.ts';
import { serveModel } from './model-server.ts';

type Outcome = { ok: true; value: { downloadedBytes: number; warnings: string[] }; events: { type: string; message?: string }[] }
  | { ok: false; error: { code: string; message: string; hint: string }; events: { type: string; message?: string }[] };
type H = { harness: { load(u: string, o: object): Promise<Outcome>; deleteCachedModel(u: string): Promise<unknown> } };

const MiB = 2 ** 20;
const free = (dir: string) => { const s = statfsSync(dir); return s.bavail * s.bsize; };

/** Leaves about `leave` bytes free on the file system of `dir` (a filler file; grown, never shrunk). */
function fill(dir: string, leave: number): void {
  rmSync(join(dir, 'filler'), { force: true });
  const size = Math.max(0, free(dir) - leave);
  if (size > 0) execFileSync('fallocate', ['-l', String(size), join(dir, 'filler')]);
}

/** The --user-data-dir of the Chromium this process started (from /proc). */
function userDataDir(): string | null {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid !== process.pid) continue;
      const arg = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').find((a) => a.startsWith('--user-data-dir='));
      if (arg) return arg.slice('--user-data-dir='.length);
    } catch { /* gone */ }
  }
  return null;
}

const duBytes = (dir: string) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);

function summary(o: Outcome) {
  const warnings = o.events.filter((e) => e.type === 'warning').map((e) => e.message);
  return o.ok ? { ok: true, downloadedBytes: o.value.downloadedBytes, warnings }
    : { ok: false, code: o.error.code, message: o.error.message, hint: o.error.hint, warnings };
}

async function check(fsDir: string, bytes: number, modelDir: string,
  served: { server: Awaited<ReturnType<typeof serveModel>> | null }, vites: { server: Awaited<ReturnType<typeof createServer>> | null }) {
  const log = (m: string) => process.stderr.write(`check:storage-full: ${m}\n`);
  const report: Record<string, unknown> = { date: new Date().toISOString(), fs: fsDir, fsFreeBytes: free(fsDir) };
  await writeRandomModel({ base: 'public/models/mnist-dit', out: modelDir, layers: 2, bytes,
    weights: 'float16', shardBytes: 8 * MiB });
  const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));
  const shardBytes = (manifest.graphs.blocks.externalData as { bytes: number }[]).reduce((s, x) => s + x.bytes, 0);
  report['model'] = { shards: manifest.graphs.blocks.externalData.length, shardBytes };
  const model = (served.server = await serveModel(modelDir));
  const vite = (vites.server = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', server: { port: 5198, strictPort: false, hmr: false } }));
  await vite.listen();
  const base = vite.resolvedUrls?.local[0] ?? 'http://localhost:5198/';
  const profile = join(fsDir, 'profile');
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) });
    const open = async (): Promise<Page> => {
      const page = await context!.newPage();
      await page.goto(new URL('e2e/harness.html', base).href);
      await page.waitForFunction(() => 'harness' in globalThis);
      return page;
    };
    const load = (page: Page) => page.evaluate((u) => (globalThis as unknown as H).harness.load(u, { provider: 'wasm' }), model.url);
    const served = async (page: Page) => {
      const mark = model.requests.length;
      const sent = model.bytes();
      const r = summary(await load(page));
      return { ...r, requests: model.requests.slice(mark), servedBytes: model.bytes() - sent, fsFreeBytes: free(fsDir) };
    };

    let page = await open();
    report['cold'] = await served(page);
    log(`cold ${JSON.stringify(report['cold'])}`);
    await page.close();

    fill(fsDir, MiB);
    report['filledFreeBytes'] = free(fsDir);
    page = await open();
    report['warmOnFullDisk'] = await served(page);
    log(`warm, disk full ${JSON.stringify(report['warmOnFullDisk'])}`);

    await page.evaluate((u) => (globalThis as unknown as H).harness.deleteCachedModel(u), model.url);
    await page.close();
    fill(fsDir, Math.round(shardBytes / 2));
    page = await open();
    report['coldHalfFree'] = await served(page);
    log(`cold, half free ${JSON.stringify(report['coldHalfFree'])}`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(base).origin, quotaSize: 2 ** 30 });
    report['coldHalfFreeQuotaForced'] = await served(page);
    log(`cold, half free, quota forced ${JSON.stringify(report['coldHalfFreeQuotaForced'])}`);

    rmSync(join(fsDir, 'filler'), { force: true });
    report['resumed'] = await served(page);
    log(`resumed ${JSON.stringify(report['resumed'])}`);
    await page.evaluate((u) => (globalThis as unknown as H).harness.deleteCachedModel(u), model.url);

    fill(fsDir, 0); // not a byte left: the first write of a chunk has nothing to write into
    report['coldNoSpace'] = await served(page);
    log(`cold, no space ${JSON.stringify(report['coldNoSpace'])}`);

  } finally {
    await context?.close();
    rmSync(join(fsDir, 'filler'), { force: true });
    rmSync(profile, { recursive: true, force: true });
  }

  // 5. What FileSystemSyncAccessHandle.write() itself returns as the disk fills: 1 MiB writes into
  //    a new OPFS file (a worker: sync handles exist only there) with about 2.5 MiB free, in a fresh
  //    profile. (Chromium's browser process may die once its own databases cannot write: reported.)
  const probeProfile = join(fsDir, 'probe-profile');
  let probe: BrowserContext | null = null;
  try {
    probe = await chromium.launchPersistentContext(probeProfile, { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) });
    const page = await probe.newPage();
    await page.goto(new URL('e2e/harness.html', base).href);
    fill(fsDir, 2.5 * MiB);
    report['syncWrites'] = await page.evaluate(async () => {
      const src = `onmessage = async () => {
        const root = await navigator.storage.getDirectory();
        const h = await (await root.getFileHandle('fill-probe', { create: true })).createSyncAccessHandle();
        const out = [];
        const mib = new Uint8Array(1048576).fill(1);
        for (let k = 0; k < 5; k++) out.push(h.write(mib, { at: k * mib.byteLength }));
        h.close();
        postMessage(out);
      };`;
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      const out = await new Promise<number[]>((resolve) => { w.onmessage = (e) => resolve(e.data as number[]); w.postMessage(0); });
      w.terminate();
      return out;
    });
  } catch (e) {
    report['syncWrites'] = { failed: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  } finally {
    await probe?.close().catch(() => {});
    rmSync(join(fsDir, 'filler'), { force: true });
    rmSync(probeProfile, { recursive: true, force: true });
  }
  log(`sync writes of 1 MiB returned ${JSON.stringify(report['syncWrites'])}`);

  // 6. Playwright's default (off-the-record) context: where does OPFS keep its bytes?
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(new URL('e2e/harness.html', base).href);
    const dataDir = userDataDir();
    const before = dataDir ? duBytes(dataDir) : null;
    await page.evaluate(async (n) => {
      const w = await (await (await navigator.storage.getDirectory()).getFileHandle('probe', { create: true })).createWritable();
      for (let k = 0; k < n; k++) await w.write(new Uint8Array(2 ** 20).fill(k));
      await w.close();
    }, 64);
    report['offTheRecord'] = { wroteBytes: 64 * MiB, profileDir: dataDir,
      profileGrowthBytes: dataDir ? duBytes(dataDir) - before! : null };
    log(`off the record ${JSON.stringify(report['offTheRecord'])}`);
  } finally {
    await browser.close();
  }
  return report;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { fs: { type: 'string' }, bytes: { type: 'string' }, out: { type: 'string' } } });
  if (!values.fs) throw new Error('--fs DIR: the mount point of a small file system this check may fill (see the comment at the top)');
  const modelDir = join(tmpdir(), `erta-storage-full-${Date.now()}`);
  const model = { server: null as Awaited<ReturnType<typeof serveModel>> | null };
  const vite = { server: null as Awaited<ReturnType<typeof createServer>> | null };
  let report: Record<string, unknown>;
  try {
    report = await check(values.fs, Number(values.bytes ?? 3e7), modelDir, model, vite);
  } finally {
    await vite.server?.close();
    model.server?.server.close();
    rmSync(modelDir, { recursive: true, force: true });
  }
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  console.log(JSON.stringify(report));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`check:storage-full failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
