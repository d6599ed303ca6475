// `npm run bench:families`: the imported families at a bench size (issue 13 item 4), made on
// demand and never committed: tools/families/export_family.py exports each family's single
// graph (PyTorch, /usr/bin/python3), `import-model`'s importModel splits it, the Node
// calibration fits one ERTACache plan (few samples, no forecast: the plan's cost, not its
// quality, is measured here), then the same runtime (createRuntime: load, generate) is timed in
// Node (onnxruntime-node, in a fresh process per family: bench-families-child.ts) and in Chromium
// (the real worker, WASM) with the interleaved A/B protocol of `npm run bench` (src/bench/speed.ts):
// per-step cost, reuse cost, ERTACache's measured vs ideal speedup. Work folders under bench/.families/ (git-ignored) are reused.
//
//   npm run bench:families -- [--families dit,pixart,sd3,flux] [--size medium|tiny] [--steps 20]
//       [--budget 10] [--repeats 3] [--threads 1] [--no-browser] [--no-node] [--out bench/families]

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { familiesMarkdown, type FamiliesResult, type Family, type FamilyRow } from '../bench/families.ts';
import { parseFamiliesArgs, type FamiliesOptions as Options } from './families-args.ts';
import type { SpeedRow } from '../bench/speed.ts';
import { runApart, siblingUrl } from '../node/apart.ts';
import type { FamilyTimeJob } from './bench-families-child.ts';
import { importModel } from '../import/import-model.ts';
import type { ModelManifest } from '../manifest/types.ts';
import { calibrate } from '../node/calibrate.ts';
import { runBrowserBench } from './browser-bench.ts';

const run = promisify(execFile);
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const WORK = 'bench/.families';

/** Export (PyTorch) and import (split) a family once; later runs reuse the folders. */
async function prepare(family: Family, o: Options, log: (m: string) => void) {
  const root = resolve(WORK, `${family}-${o.size}`);
  const exported = join(root, 'export');
  const model = join(root, 'model');
  const text = family !== 'dit';
  let exportMs: number | null = null;
  let importMs: number | null = null;
  let calibrateMs: number | null = null;
  const source = text ? join(exported, 'transformer', 'model.onnx') : join(exported, 'model.onnx');
  if (!existsSync(source)) {
    log(`${family}: exporting the ${o.size} size (tools/families/export_family.py)`);
    const t0 = performance.now();
    await run(PYTHON, ['tools/families/export_family.py', '--family', family, '--size', o.size, '--out', exported],
      { maxBuffer: 1 << 26, timeout: 1_800_000 });
    exportMs = performance.now() - t0;
  }
  const promptFile = join(exported, 'calibration-prompts.json');
  if (text && !existsSync(promptFile)) {
    // The committed tiny fixture's calibration prompts (the families share one tokenizer).
    await writeFile(promptFile, await readFile(`tools/families/fixtures/${family}-tiny/calibration-prompts.json`, 'utf8'));
  }
  if (!existsSync(join(model, 'manifest.json'))) {
    log(`${family}: importing`);
    const t0 = performance.now();
    await rm(model, { recursive: true, force: true });
    await importModel({
      model: source, out: model, name: `${family}-${o.size}`,
      ...(text ? { components: exported, timestepScale: 1000, prompts: promptFile } : {}),
    });
    importMs = performance.now() - t0;
  }
  const manifest = () => readFile(join(model, 'manifest.json'), 'utf8').then((s) => JSON.parse(s) as ModelManifest);
  const has = (m: ModelManifest) => m.plans.some((p) => p.kind === 'ertacache' && p.steps === o.steps && p.budget === o.budget && (p.space ?? 'output') === 'output');
  if (!has(await manifest())) {
    log(`${family}: calibrating ertacache for ${o.steps} steps, budget ${o.budget} (1 seed × 2 labels or prompts, no forecast, the paper's φ)`);
    const t0 = performance.now();
    let prompts: string | undefined;
    if (text) {
      const list = JSON.parse(await readFile(promptFile, 'utf8')) as string[];
      prompts = join(root, 'bench-prompts.json');
      await writeFile(prompts, JSON.stringify(list.slice(0, 2)));
    }
    await calibrate({
      model, steps: o.steps, budgets: [o.budget], seeds: [0], ...(text ? { prompts } : { labels: [0, 1] }),
      forecast: false, evaluate: false, threads: o.threads, peers: false,
      // φ by the paper's formula (no direct search): the bench measures what a plan costs to run,
      // not how good it is, and the search's hundreds of passes would dominate the bench's time.
      phi: 'paper', onProgress: (line) => log(`${family}: ${line}`),
    });
    calibrateMs = performance.now() - t0;
  }
  const m = await manifest();
  const entry = m.plans.find((p) => p.kind === 'ertacache' && p.steps === o.steps && p.budget === o.budget && (p.space ?? 'output') === 'output')!;
  const plan = JSON.parse(await readFile(join(model, entry.file), 'utf8')) as { reuse: number[] };
  return { model, manifest: m, exportMs, importMs, calibrateMs, reuse: plan.reuse };
}

const params = (m: ModelManifest): number | null => (m.architecture as { params?: number } | undefined)?.params ?? null;

/** The Node row of a family, timed in a fresh process (bench-families-child.ts) that loads only its model. */
async function nodeRow(family: Family, model: string, m: ModelManifest, o: Options, log: (s: string) => void): Promise<FamilyRow> {
  const job: FamilyTimeJob = { family, model, steps: o.steps, budget: o.budget, threads: o.threads, repeats: o.repeats };
  const speed = await runApart<FamilyTimeJob, SpeedRow>(siblingUrl(import.meta.url, 'bench-families-child'), job, `the Node run of ${family}`, log);
  return row(family, 'node', o.threads, m, o, speed);
}

function row(family: Family, engine: FamilyRow['engine'], threads: number, m: ModelManifest, o: Options, speed: SpeedRow): FamilyRow {
  const stepMs = speed.msNone / o.steps;
  return { family, size: o.size, engine, threads, steps: o.steps, budget: o.budget, params: params(m), stepMs, reuseMs: stepMs * speed.reuseCost, speed };
}

export async function main(argv: string[]): Promise<void> {
  const o = parseFamiliesArgs(argv);
  const log = (m: string) => console.error(m);
  const result: FamiliesResult = {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run bench:families -- ${argv.join(' ')}`.trim(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`,
    rows: [], prepare: [], skipped: [],
  };
  const ready: { family: Family; model: string; manifest: ModelManifest }[] = [];
  for (const family of o.families) {
    try {
      const p = await prepare(family, o, log);
      result.prepare.push({ family, exportMs: p.exportMs, importMs: p.importMs, calibrateMs: p.calibrateMs, reuse: p.reuse });
      ready.push({ family, model: p.model, manifest: p.manifest });
    } catch (e) {
      const why = `${family}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      log(`skipped ${why}`);
      result.skipped.push(why);
    }
  }
  if (o.node) for (const r of ready) result.rows.push(await nodeRow(r.family, r.model, r.manifest, o, log));
  if (o.browser && ready.length > 0) {
    // The dev server serves the work folders through /@fs/ (inside the project root).
    const runs = ready.map((r) => ({
      manifestUrl: `/@fs${r.model}/manifest.json`,
      run: { provider: 'wasm' as const, steps: o.steps, repeats: o.repeats, warmup: 'every-case' as const, cases: [{ policy: 'ertacache', kind: 'ertacache', budget: o.budget }] },
    }));
    for (const [k, r] of ready.entries()) {
      try {
        const outcome = await runBrowserBench(r.model, [runs[k]!.run], log, runs[k]!.manifestUrl);
        if (outcome.skipped) {
          result.skipped.push(`chromium: ${outcome.skipped}`);
          break;
        }
        const b = outcome.results[0]!;
        result.rows.push(row(r.family, 'chromium-wasm', b.provider.threads, r.manifest, o, b.rows[0]!));
      } catch (e) {
        const why = `${r.family} chromium-wasm: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
        log(`skipped ${why}`);
        result.skipped.push(why);
      }
    }
  }
  await mkdir(o.out, { recursive: true });
  const md = familiesMarkdown(result);
  await writeFile(join(o.out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(o.out, 'report.md'), md);
  console.log(md);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
