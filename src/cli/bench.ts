// `bench`: fidelity of every policy at matched budgets against full compute, on the evaluation
// set, with onnxruntime-node (shared/design/evaluation.md). The pure part is src/bench/.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPolicy, type PolicyOptions } from '../cache/registry.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { loadNodeClassifier } from '../backend/node-classifier.ts';
import { loadNodeModel, type NodeModel } from '../backend/node-model.ts';
import { evaluateFidelity, evaluationCases, type FidelityRow, type PolicyUnderTest } from '../bench/fidelity.ts';
import { nodeOverhead } from './bench-overhead.ts';
import type { OverheadResult } from '../bench/overhead.ts';
import { qualitySpeedSvg } from '../bench/chart.ts';
import { benchMarkdown, overheadMarkdown, type BenchReport, type BenchRow } from '../bench/report.ts';
import type { SpeedRow } from '../bench/speed.ts';
import { speedJobs, timeRowsApart } from './bench-speed.ts';
import { classAccuracy, argmaxRows } from '../core/metrics.ts';
import { SHIPPED_DENOISERS, TEST_DENOISERS, type BenchArgs } from './bench-args.ts';
import type { BrowserBenchResult } from '../bench/browser/page.ts';
import { loadHeldOutDigits } from './mnist-digits.ts';
import { readPlanFor } from './plan-files.ts';
import type { PlanQuery } from '../manifest/plans.ts';
import { browserRuns, runBrowserBench } from './browser-bench.ts';
import { runScaling } from '../bench/scaling.ts';
import { bestPeer, headlineBudget, summarisePhi, type PhiSummary } from '../bench/analysis.ts';
import type { ErtaCachePlan } from '../cache/plan.ts';
import { classConditioning } from '../manifest/conditioning.ts';
import { stepRatios } from '../calibrate/direct-search.ts';

/**
 * The policies compared at one budget; plan-driven ones are skipped (with a note) when no plan
 * exists. `variants` adds the hidden-space and φ-lsq experiments (left out by --quick).
 */
export async function policiesAt(model: NodeModel, steps: number, budget: number, variants: boolean,
  log: (m: string) => void): Promise<PolicyUnderTest[]> {
  const m = model.manifest;
  const base: PolicyOptions = { steps, modelHash: m.modelHash };
  // uniform and TaylorSeer spread exactly `budget` computed steps (TaylorSeer after its warm-up)
  const out: PolicyUnderTest[] = ['uniform', 'taylorseer', 'taylorseer-2'].map((kind) => (
    { policy: kind, budget, create: () => createPolicy(kind, { uniformBudget: budget }) }));
  const planned: [string, string, PlanQuery][] = [
    ['teacache', 'teacache', {}], ['magcache', 'magcache', {}], ['easycache', 'easycache', {}],
    ['ertacache-schedule', 'ertacache-schedule', {}], ['ertacache-paper', 'ertacache-paper', {}],
    ['ertacache-schedule+dt', 'ertacache-schedule+dt', {}], ['ertacache', 'ertacache', {}],
    ['ertacache-forecast', 'ertacache-forecast', {}], ['ertacache-forecast+rect', 'ertacache-forecast+rect', {}],
    ['ertacache (hidden)', 'ertacache', { space: 'hidden' }],
    // the φ experiment (src/calibrate/fit.ts), present only when calibrated with --phi lsq
    ['ertacache-schedule+dt (φ lsq)', 'ertacache-schedule+dt', { phi: 'lsq' }],
    ['ertacache (φ lsq)', 'ertacache', { phi: 'lsq' }],
    ['ertacache (hidden, φ lsq)', 'ertacache', { space: 'hidden', phi: 'lsq' }],
  ];
  for (const [name, kind, query] of planned) {
    if (!variants && Object.keys(query).length > 0) continue;
    try {
      const { plan } = await readPlanFor(m, kind, steps, { budget, ...query });
      createPolicy(kind, { ...base, plan }); // a plan without a forecast fails here, not mid-run
      out.push({ policy: name, budget, create: () => createPolicy(kind, { ...base, plan }) });
    } catch (e) {
      log(`bench: no ${name} plan for budget ${budget} (${(e as Error).message}); skipped`);
    }
  }
  return out;
}

/**
 * The policies the speed table times: every one, or with --quick only those at the headline budget
 * (25 of 50), so that the quick run can give each row QUICK_NODE_PAIRS pairs: with 3 pairs a row
 * (the old quick setting) measured/ideal scattered over 0.85–1.17, noise on a machine where one
 * 50-step run varies by ~6.5 %.
 */
export function timedPolicies<P extends { budget: number | null }>(policies: P[], args: Pick<BenchArgs, 'quick' | 'budgets'>): P[] {
  if (!args.quick) return policies;
  const b = headlineBudget(args.budgets);
  return policies.filter((p) => p.budget === b);
}

/** The runtime overhead on the bench's model, every shipped model and the test models, in that order. */
export async function measureOverheads(args: BenchArgs, log: (m: string) => void): Promise<OverheadResult[]> {
  const clean = (d: string) => d.replace(/\/+$/, '');
  const tests = new Set(TEST_DENOISERS.map(clean));
  const dirs = [...new Set([args.model, ...SHIPPED_DENOISERS, ...TEST_DENOISERS].map(clean))];
  const out: OverheadResult[] = [];
  for (const dir of dirs) {
    log(`overhead: runtime vs bare session.run loop on ${dir}`);
    // at least 25 pairs: a pair is two generations, cheap next to the fidelity runs, and on a
    // shared machine the medians need them
    const r = await nodeOverhead(dir, Math.max(25, args.repeats), args.threads);
    out.push(tests.has(dir) ? { ...r, testModel: true } : r);
  }
  return out;
}

/** `bench --overhead`: the overhead section alone, written to <out>/overhead.json and overhead.md. */
export interface OverheadReport {
  command: string;
  date: string;
  threads: number;
  overheads: OverheadResult[];
}

export async function runOverheadOnly(args: BenchArgs, argv: readonly string[], log: (m: string) => void): Promise<OverheadReport> {
  const r: OverheadReport = {
    command: `npm run bench -- ${argv.join(' ')}`.trim(), date: new Date().toISOString(), threads: args.threads,
    overheads: await measureOverheads(args, log),
  };
  await mkdir(args.out, { recursive: true });
  await writeFile(join(args.out, 'overhead.json'), `${JSON.stringify(r, null, 1)}\n`);
  await writeFile(join(args.out, 'overhead.md'), `# Runtime overhead\n\nMade by \`${r.command}\` on ${r.date.slice(0, 10)} `
    + `(onnxruntime-node, ${r.threads} intra-op thread${r.threads === 1 ? '' : 's'}).\n\n${overheadMarkdown(r.overheads)}\n`);
  return r;
}

export async function runBench(args: BenchArgs, argv: readonly string[], log: (m: string) => void): Promise<BenchReport> {
  const model = await loadNodeModel(args.model);
  const clf = await loadNodeClassifier(args.classifier);
  try {
    const m = model.manifest;
    const steps = args.steps ?? m.scheduler.defaultSteps;
    const real = await loadHeldOutDigits();
    const realScored = await clf.classify(real.images, real.labels.length);
    const policies = [];
    for (const b of args.budgets) policies.push(...(await policiesAt(model, steps, b, !args.quick, log)));
    const setup = {
      denoiser: model.denoiser, ops: model.ops, sigmas: flowMatchSigmas(steps, m.scheduler.shift),
      guidance: m.scheduler.defaultGuidance, nullLabel: classConditioning(m, 'the bench').nullLabel,
      xDims: [1, m.latent.channels, m.latent.height, m.latent.width],
    };
    const none = () => createPolicy('none');
    const fidelity = await evaluateFidelity({
      ...setup, cases: evaluationCases(classConditioning(m, 'the bench').classes, args.seedsPerClass), policies,
      classify: (images, n) => clf.classify(images, n), realFeatures: realScored.features, onProgress: log,
    }, { policy: 'none', budget: null, create: none });
    // Timing runs on sessions of their own with `--threads` intra-op threads (default 1): with
    // ORT's thread pool on a small shared CPU, the same run varies by ±20 %; single-threaded, the
    // ratios are steady (measured/ideal within a few %). Each row in a fresh process (bench-speed.ts).
    const speed = await timeRowsApart(speedJobs(timedPolicies(policies, args),
      { model: args.model, steps, variants: !args.quick, threads: args.threads, repeats: args.repeats }), log);
    const overheads = await measureOverheads(args, log);
    const overhead = overheads.find((o) => o.model === m.name) ?? null;
    const rows = combineRows(fidelity, speed, model.provider === 'cpu' ? 'onnxruntime-node' : model.provider, steps);
    let browser: BenchReport['browser'] = null;
    if (args.browser) {
      const peer = bestPeer(fidelity, headlineBudget(args.budgets)!)?.policy ?? 'magcache';
      const runs = browserRuns(m, args.budgets, args.quick, args.repeats, peer, steps);
      browser = await runBrowserBench(args.model, runs, log);
      if (browser.skipped) log(`bench: Chromium runs skipped: ${browser.skipped}`);
      rows.push(...browserRows(browser.results));
    }
    const phi: PhiSummary[] = [];
    for (const b of args.budgets) {
      try {
        const { plan } = await readPlanFor(m, 'ertacache', steps, { budget: b });
        const p = plan as ErtaCachePlan;
        const sigmas = flowMatchSigmas(steps, m.scheduler.shift);
        const maxStep = (kind: string) => Math.max(...stepRatios(createPolicy(kind, { plan }), sigmas));
        phi.push(summarisePhi(b, p.phi, p.reuse, p, { searched: maxStep('ertacache-schedule+dt'), paper: maxStep('ertacache-paper') }));
      } catch {
        // no ertacache plan at this budget: policiesAt already said so
      }
    }
    let scaling: BenchReport['scaling'] = null;
    if (args.scaling) {
      // the scaling study's variants reach ~50× mnist-dit's step: 7 pairs at most (its own noise is reported there)
      scaling = await runScaling({ quick: args.quick, repeats: args.quick ? 3 : Math.min(args.repeats, 7), threads: args.threads }, log);
      if (scaling.skipped) log(`bench: scaling study skipped: ${scaling.skipped}`);
    }
    const report: BenchReport = {
      rows, overhead, overheads, scaling, browser, phi, speed, fidelity,
      threads: args.threads, date: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`.trim(),
      model: m.name, modelHash: m.modelHash, steps, guidance: m.scheduler.defaultGuidance,
      cases: classConditioning(m, 'the bench').classes * args.seedsPerClass,
      classifierHeldOutAccuracy: classAccuracy(argmaxRows(realScored.logits, 10), real.labels),
    };
    await writeReport(args.out, report);
    return report;
  } finally {
    await clf.release();
    await model.release();
  }
}

/** Report rows of the Chromium runs: speed plus PSNR/SSIM on the timed pairs (no class metrics). */
function browserRows(results: BrowserBenchResult[]): BenchRow[] {
  return results.flatMap((res) => res.rows.map((r) => ({
    policy: r.policy, provider: `chromium-${res.provider.used}`, steps: res.steps, budget: r.budget,
    computedSteps: r.computedSteps, speedup: r.speedup, idealSpeedup: r.idealSpeedup,
    ...(r.efficiencyCi ? { efficiencyCi: r.efficiencyCi } : {}), psnr: r.psnr, ssim: r.ssim,
    classAccuracy: null, fd: null,
  })));
}

function combineRows(fidelity: FidelityRow[], speed: SpeedRow[], provider: string, steps: number): BenchRow[] {
  return fidelity.map((f) => {
    const s = speed.find((r) => r.policy === f.policy && r.budget === f.budget);
    const isRef = f.budget === null;
    return {
      policy: f.policy, provider, steps, budget: f.budget, computedSteps: f.computedSteps,
      speedup: isRef ? 1 : s?.speedup ?? null, idealSpeedup: isRef ? 1 : s?.idealSpeedup ?? null,
      ...(s?.efficiencyCi && !isRef ? { efficiencyCi: s.efficiencyCi } : {}),
      psnr: f.psnr, ssim: f.ssim, classAccuracy: f.classAccuracy, fd: f.fd,
    };
  });
}

async function writeReport(dir: string, r: BenchReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(r, null, 1)}\n`);
  await writeFile(join(dir, 'report.md'), benchMarkdown(r));
  await writeFile(join(dir, 'chart.svg'), qualitySpeedSvg(r.rows.filter((row) => row.provider === 'onnxruntime-node'),
    `${r.model}: PSNR vs speedup, ${r.steps} steps, onnxruntime-node (${r.date.slice(0, 10)})`));
}
