// `npm run bench:large`: the large-model bench. Makes (or takes) a random-weight model with
// external-data shards, serves it from a local HTTP server that honours Range requests, and
// measures in Debian's Chromium (the real worker, WASM by default): cold load (download in
// chunks into storage + sessions), warm load (from storage: the server must see no model
// request), per-step time, and memory during each phase, sampled from /proc every 200 ms:
// - the renderer: the RSS of the Chromium renderer process that hosts the page and its worker
//   (where ONNX Runtime's WASM heap and every JS buffer of the load live): peak, and the
//   resident size once the load has settled (a forced full GC in the page and the worker, then
//   2 s idle); peak − resident is what the load costs beyond what the model keeps;
// - all Chromium processes: the sum of their PSS (proportional set size: shared pages counted
//   once, split between sharers), peak per phase.
// With --generations N, N more generations of 1 step each, memory sampled every N/10 of them.
// --ort-build asyncify runs ONNX Runtime's asyncify build (the fallback where a browser has no
// JSPI) instead of the JSPI build Chromium gets by default. --reload-at 0.4 reloads the page once
// 40 % of the model has been served during the cold load, which must then resume, not restart. With --node, the same model in
// onnxruntime-node too. --out FILE writes the JSON report there as well. --profile DIR runs
// Chromium with a persistent profile in DIR (OPFS on disk; by default Playwright's context keeps
// OPFS in memory, in the browser process, where the summed PSS counts the stored model).
//
//   npm run bench:large -- [--dir DIR | --bytes 1.2e9 [--fp32] --layers 12 --shard-mb 512]   (fp16 weights by default)
//                          [--steps 2] [--chunk-mb 8] [--provider wasm|webgpu] [--node] [--keep] [--generations N]
//                          [--ort-build auto|asyncify] [--reload-at FRACTION] [--profile DIR] [--out FILE]

import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM, chromiumArgs } from '../../e2e/browser.ts';
import { writeRandomModel } from '../model-tool/random-model.ts';
import { serveModel } from './model-server.ts';

interface Phase { ms: number; peakRendererRssMiB: number; peakTotalPssMiB: number }

/** Every Chromium process this process started (and their descendants), from /proc. */
function chromiumTree(parent: number): { pid: number; renderer: boolean }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(name));
    } catch { /* gone */ }
  }
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  const out: { pid: number; renderer: boolean }[] = [];
  const stack = (children.get(parent) ?? []).filter((pid) => cmdline(pid).includes('chrom'));
  while (stack.length) {
    const pid = stack.pop()!;
    out.push({ pid, renderer: cmdline(pid).includes('--type=renderer') });
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** kB of one /proc file's field, 0 when the process is gone. */
function procKiB(path: string, field: RegExp): number {
  try {
    const m = field.exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The largest renderer's RSS (the page's; an idle spare renderer is small) and all processes' summed PSS, MiB. */
function memoryMiB(parent: number): { rendererRss: number; totalPss: number } {
  let rendererRss = 0;
  let totalPss = 0;
  for (const { pid, renderer } of chromiumTree(parent)) {
    if (renderer) rendererRss = Math.max(rendererRss, procKiB(`/proc/${pid}/status`, /VmRSS:\s+(\d+)/));
    totalPss += procKiB(`/proc/${pid}/smaps_rollup`, /^Pss:\s+(\d+)/m);
  }
  return { rendererRss: Math.round(rendererRss / 1024), totalPss: Math.round(totalPss / 1024) };
}

async function measured<V>(pid: number, fn: () => Promise<V>): Promise<[V, Phase]> {
  const peak = memoryMiB(pid);
  const sample = () => {
    const m = memoryMiB(pid);
    peak.rendererRss = Math.max(peak.rendererRss, m.rendererRss);
    peak.totalPss = Math.max(peak.totalPss, m.totalPss);
  };
  const timer = setInterval(sample, 200);
  const t0 = performance.now();
  try {
    const v = await fn();
    const ms = Math.round(performance.now() - t0);
    sample();
    return [v, { ms, peakRendererRssMiB: peak.rendererRss, peakTotalPssMiB: peak.totalPss }];
  } finally {
    clearInterval(timer);
  }
}

/**
 * Memory once a phase has settled: a full garbage collection in the page and its worker
 * (Chromium runs with --expose-gc), then 2 s idle; and the phase's peak above it.
 */
async function settled(pid: number, page: Page, phase: Phase, shardBytes: number) {
  const gc = () => (globalThis as unknown as { gc?: () => void }).gc?.();
  await page.evaluate(gc);
  // The runtime's worker only: ORT's WASM threads are workers too, blocked in Atomics.wait.
  for (const worker of page.workers().filter((w) => w.url().includes('diffusion.worker'))) {
    await Promise.race([worker.evaluate(gc), new Promise((r) => setTimeout(r, 10_000))]);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const m = memoryMiB(pid);
  const over = phase.peakRendererRssMiB - m.rendererRss;
  return { residentRendererRssMiB: m.rendererRss, residentTotalPssMiB: m.totalPss, peakOverResidentMiB: over,
    peakOverResidentShards: Number((over / (shardBytes / 2 ** 20)).toFixed(2)) };
}

type Outcome<V> = { ok: true; value: V; events: { type: string; ms?: number }[] } | { ok: false; error: { code: string; message: string } };
type H = { harness: { load(u: string, o: object): Promise<Outcome<{ downloadedBytes: number; provider: { used: string } }>>; generate(r: object): Promise<Outcome<unknown>> } };

function unwrap<V>(o: Outcome<V>): Outcome<V> & { ok: true } {
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o as Outcome<V> & { ok: true };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    dir: { type: 'string' }, bytes: { type: 'string' }, fp32: { type: 'boolean' }, layers: { type: 'string' },
    'shard-mb': { type: 'string' }, steps: { type: 'string' }, 'chunk-mb': { type: 'string' },
    provider: { type: 'string' }, node: { type: 'boolean' }, keep: { type: 'boolean' }, generations: { type: 'string' },
    'ort-build': { type: 'string' }, out: { type: 'string' }, 'reload-at': { type: 'string' }, profile: { type: 'string' },
  } });
  const ortBuild = values['ort-build'] ?? 'auto';
  if (ortBuild !== 'auto' && ortBuild !== 'asyncify') throw new Error(`--ort-build is auto or asyncify, not ${ortBuild}`);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const steps = Number(values.steps ?? 2);
  const provider = values.provider ?? 'wasm';
  let dir = values.dir;
  const report: Record<string, unknown> = {};
  if (!dir) {
    dir = join(tmpdir(), `erta-large-${Date.now()}`);
    log(`bench:large: writing a random model to ${dir}`);
    const t0 = performance.now();
    const r = await writeRandomModel({ base: 'public/models/mnist-dit', out: dir, layers: Number(values.layers ?? 12),
      bytes: Number(values.bytes ?? 1.2e9), weights: values.fp32 ? 'float32' : 'float16',
      shardBytes: Number(values['shard-mb'] ?? 512) * 2 ** 20 });
    report['writeMs'] = Math.round(performance.now() - t0);
    report['parameters'] = r.parameters;
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const files = readdirSync(dir).filter((f) => f !== 'manifest.json');
  const shards: { bytes: number }[] = manifest.graphs.blocks.externalData ?? [];
  const shardBytes = Math.max(0, ...shards.map((x) => x.bytes));
  report['model'] = { dir, name: manifest.name, bytes: files.reduce((s, f) => s + statSync(join(dir!, f)).size, 0),
    shards: shards.length, largestShardBytes: shardBytes, largestTensorBytes: manifest.graphs.blocks.largestTensorBytes ?? null };
  report['date'] = new Date().toISOString();
  report['loadavg'] = (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2)));
  log(`bench:large: ${JSON.stringify(report['model'])}`);

  if (values.node) {
    const { generate } = await import('../node/generate.ts');
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
    const t0 = performance.now();
    const r = await generate({ model: dir, label: 1, seed: 1, steps, guidance: 1, policy: 'none' });
    clearInterval(timer);
    report['node'] = { totalMs: Math.round(performance.now() - t0), loadMs: r.report.loadMs, stepMs: r.report.ms / steps,
      peakRssMiB: Math.round(peak / 2 ** 20) };
    log(`bench:large: node ${JSON.stringify(report['node'])}`);
  }

  const model = await serveModel(dir);
  let vite: ViteDevServer | null = null;
  // Playwright's contexts are off the record: Chromium keeps their OPFS in memory (in its browser
  // process). --profile DIR runs a persistent profile there instead: OPFS on disk, as users have it.
  const launch = { executablePath: CHROMIUM, args: [...chromiumArgs({ webgpu: true }), '--js-flags=--expose-gc'] };
  const profile = values.profile;
  if (profile) mkdirSync(profile, { recursive: true });
  const browser = profile ? null : await chromium.launch(launch);
  report['storage'] = profile ? `disk (profile ${profile})` : 'memory (off-the-record context)';
  let context: BrowserContext | null = null;
  try {
    vite = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', server: { port: 5197, strictPort: false, hmr: false } });
    await vite.listen();
    const base = vite.resolvedUrls?.local[0] ?? 'http://localhost:5197/';
    const rootPid = process.pid; // Playwright starts Chromium as a child of this process
    // One profile: the warm load's new tab shares its storage.
    context = browser ? await browser.newContext() : await chromium.launchPersistentContext(profile!, launch);
    let page: Page = await context.newPage();
    page.on('pageerror', (e) => log(`chromium: ${e.message}`));
    const open = async () => {
      await page.goto(new URL(`e2e/harness.html${ortBuild === 'asyncify' ? '?ort-build=asyncify' : ''}`, base).href);
      await page.waitForFunction(() => 'harness' in globalThis);
    };
    await open();
    const opts = { provider, chunkBytes: Number(values['chunk-mb'] ?? 8) * 2 ** 20 };
    const loadOnce = () => page.evaluate(([u, o]) => (globalThis as unknown as H).harness.load(u, o), [model.url, opts] as const);
    // ONNX Runtime starts once per worker (compiling its .wasm takes seconds here): start it on the
    // small shipped model first, so the cold and warm numbers are the large model's own.
    const startOrt = async () => {
      const [, phase] = await measured(rootPid, async () => unwrap(await page.evaluate((o) =>
        (globalThis as unknown as H).harness.load('/models/mnist-dit/manifest.json', o), { provider, cache: false })));
      return phase;
    };
    const reloadAt = values['reload-at'] !== undefined ? Number(values['reload-at']) : null;
    if (reloadAt !== null) {
      // The acceptance's "survives a reload mid-download": start the cold load, reload the page
      // once that fraction of the model has been served, then load again: it must resume (the
      // server sends only what was not stored), not restart.
      const total = report['model'] as { bytes: number };
      const t0 = performance.now();
      void loadOnce().catch(() => undefined); // the reload ends it
      while (model.bytes() < reloadAt * total.bytes) await new Promise((r) => setTimeout(r, 200));
      const before = model.bytes();
      await open();
      report['reload'] = { atServedBytes: before, ms: Math.round(performance.now() - t0) };
      log(`bench:large: reloaded after ${before} bytes served`);
    }
    report['ortStart'] = await startOrt();
    const servedBefore = model.bytes();
    const [cold, coldPhase] = await measured(rootPid, async () => unwrap(await loadOnce()));
    if (reloadAt !== null) {
      const r = report['reload'] as { atServedBytes: number };
      Object.assign(r, { servedAfterReload: model.bytes() - servedBefore, downloadedAfterReload: cold.value.downloadedBytes,
        servedInAll: model.bytes() });
    }
    const coldProvider = cold.value.provider as { used: string; ortBuild?: string };
    const progress = cold.events.filter((e) => e.type === 'download').length;
    log(`bench:large: cold load done in ${coldPhase.ms} ms (${progress} download progress events); settling`);
    report['cold'] = { ...coldPhase, ...await settled(rootPid, page, coldPhase, shardBytes), progressEvents: progress, downloadedBytes: cold.value.downloadedBytes,
      servedBytes: model.bytes(), provider: coldProvider.used, ortBuild: coldProvider.ortBuild };
    log(`bench:large: cold ${JSON.stringify(report['cold'])}`);
    const request = { label: 1, seed: 1, steps, guidance: 1, policy: { kind: 'none' } };
    const [gen, genPhase] = await measured(rootPid, async () => unwrap(await page.evaluate((r) => (globalThis as unknown as H).harness.generate(r), request)));
    const stepMs = gen.events.filter((e) => e.type === 'step').map((e) => Math.round(e.ms!));
    report['generate'] = { ...genPhase, steps, stepMs };
    log(`bench:large: generate ${JSON.stringify(report['generate'])}`);
    const repeats = Number(values.generations ?? 0);
    if (repeats > 0) {
      // Memory across generations (1 step each): after the first, then every tenth of them.
      const one = { ...request, steps: 1 };
      const samples: { after: number; rendererRssMiB: number; totalPssMiB: number }[] = [];
      const every = Math.max(1, Math.round(repeats / 10));
      const t0 = performance.now();
      for (let k = 1; k <= repeats; k++) {
        unwrap(await page.evaluate((r) => (globalThis as unknown as H).harness.generate(r), one));
        if (k === 1 || k % every === 0 || k === repeats) {
          const m = memoryMiB(rootPid);
          samples.push({ after: k, rendererRssMiB: m.rendererRss, totalPssMiB: m.totalPss });
        }
      }
      const first = samples[0]!;
      const last = samples.at(-1)!;
      report['generations'] = { count: repeats, stepsEach: 1, ms: Math.round(performance.now() - t0), samples,
        rendererGrowthMiB: last.rendererRssMiB - first.rendererRssMiB, totalPssGrowthMiB: last.totalPssMiB - first.totalPssMiB };
      log(`bench:large: generations ${JSON.stringify(report['generations'])}`);
    }
    // Warm: a new tab of the same profile (a new renderer and worker), storage only.
    await page.close();
    page = await context.newPage();
    page.on('pageerror', (e) => log(`chromium: ${e.message}`));
    await open();
    report['ortStartWarm'] = await startOrt();
    const mark = model.requests.length;
    const [warm, warmPhase] = await measured(rootPid, async () => unwrap(await loadOnce()));
    report['warm'] = { ...warmPhase, ...await settled(rootPid, page, warmPhase, shardBytes), downloadedBytes: warm.value.downloadedBytes,
      requests: model.requests.slice(mark) };
    log(`bench:large: warm ${JSON.stringify(report['warm'])}`);
    if (!values.keep) {
      await page.evaluate((u) => (globalThis as unknown as { harness: { deleteCachedModel(u: string): Promise<unknown> } }).harness.deleteCachedModel(u), model.url);
    }
  } finally {
    await (browser ?? context)?.close();
    await vite?.close();
    model.server.close();
    if (!values.dir && !values.keep) rmSync(dir, { recursive: true, force: true });
  }
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  console.log(JSON.stringify(report));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench:large failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
