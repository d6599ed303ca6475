// The Chromium half of `npm run bench`: serves the project with Vite (as `npm start` does, COOP/
// COEP included), opens src/bench/browser/bench.html in Debian's Chromium through Playwright and
// runs the interleaved A/B speed protocol in the page against the real worker, once per provider.
// WebGPU here is SwiftShader (a CPU rasteriser): its absolute times mean nothing.

import { existsSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM, chromiumArgs } from '../../e2e/browser.ts';
import { headlineBudget, PEERS } from '../bench/analysis.ts';
import type { BrowserBenchConfig, BrowserBenchResult, BrowserCase } from '../bench/browser/page.ts';
import { planKindFor } from '../manifest/plans.ts';
import type { ModelManifest } from '../manifest/types.ts';
import type { ProviderName } from '../runtime/api.ts';

export interface BrowserRun {
  provider: ProviderName;
  steps: number;
  cases: BrowserCase[];
  repeats: number;
  warmup: 'every-case' | 'first-case';
  /** The worker's WASM threads (default min(4, cores)). */
  wasmThreads?: number;
}

export interface BrowserBenchOutcome {
  results: BrowserBenchResult[];
  /** Why the browser part did not run (e.g. no Chromium), or null. */
  skipped: string | null;
}

const PAGE = 'src/bench/browser/bench.html';

/** The model's URL as the dev server serves it (public/ is the web root). */
export function manifestUrlFor(modelDir: string): string | null {
  const m = /(?:^|\/)public\/(.+?)\/?$/.exec(modelDir.replace(/\\/g, '/'));
  return m ? `/${m[1]}/manifest.json` : null;
}

/** `manifestUrl`: the model's URL on the dev server, when it is not under public/ (e.g. `/@fs/…`). */
export async function runBrowserBench(modelDir: string, runs: BrowserRun[], log: (m: string) => void,
  manifestUrl?: string): Promise<BrowserBenchOutcome> {
  const url = manifestUrl ?? manifestUrlFor(modelDir);
  if (!url) return { results: [], skipped: `the browser bench serves models from public/; ${modelDir} is not under it` };
  if (!existsSync(CHROMIUM)) {
    return { results: [], skipped: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)` };
  }
  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', server: { port: 5198, strictPort: false, hmr: false } });
    await server.listen();
    const base = server.resolvedUrls?.local[0] ?? 'http://localhost:5198/';
    browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs({ webgpu: true }) });
    const results: BrowserBenchResult[] = [];
    for (const r of runs) {
      const page = await browser.newPage();
      page.on('console', (m) => log(`chromium: ${m.text()}`));
      page.on('pageerror', (e) => log(`chromium page error: ${e.message}`));
      await page.goto(new URL(PAGE, base).href);
      await page.waitForFunction(() => 'ertaBench' in globalThis);
      const cfg: BrowserBenchConfig = { manifestUrl: url, ...r };
      log(`bench: Chromium ${r.provider}, ${r.steps} steps, ${r.cases.length} cases × ${r.repeats} pairs`);
      results.push(await page.evaluate((c) => (globalThis as unknown as {
        ertaBench: { run: (c: BrowserBenchConfig) => Promise<BrowserBenchResult> };
      }).ertaBench.run(c), cfg));
      await page.close();
    }
    return { results, skipped: null };
  } finally {
    await browser?.close();
    await server?.close();
  }
}

/**
 * Timed pairs per case of the WASM run with --quick. Two pairs (the old setting) scattered
 * measured/ideal over 0.72–1.22; 10 pairs gave 7 of 8 cases within 5 % twice (0.950–1.026,
 * 0.971–1.069, a different case outside each time); 20 pairs 8 of 8 (0.990–1.030), at ~2 more
 * minutes for the 8 cases at 50 steps.
 */
export const QUICK_WASM_PAIRS = 20;

/**
 * WASM threads of the timed worker: one. With ORT's default (min(4, cores)) on a 2-core machine the
 * worker's threads fight the page, Chromium's own processes, Vite and Playwright for the cores, and
 * a run's time depends on who wins; one thread leaves a core for the rest, as the Node bench's one
 * intra-op thread does.
 */
export const BENCH_WASM_THREADS = 1;

/** The policy kinds timed in Chromium: ERTACache, its forecast and the peers a user would pick instead. */
const BROWSER_KINDS = [...PEERS, 'ertacache', 'ertacache-forecast'];
const NO_PLAN = ['uniform', 'taylorseer', 'taylorseer-2'];

/**
 * What Chromium runs. WASM: `steps` (default: the model's) at the bench's budgets (only 25, or
 * the middle one, with --quick, QUICK_WASM_PAIRS pairs), on BENCH_WASM_THREADS threads. WebGPU on SwiftShader runs ~10× slower than WASM, so it uses the
 * shortest step count below `steps` the manifest has an ertacache plan for (8 steps here), warms up once, and
 * times ertacache against `bestPeer` (ertacache alone with --quick).
 */
export function browserRuns(m: Pick<ModelManifest, 'plans' | 'scheduler'>, budgets: number[], quick: boolean,
  repeats: number, bestPeer: string, steps = m.scheduler.defaultSteps): BrowserRun[] {
  const has = (kind: string, steps: number, budget: number) =>
    NO_PLAN.includes(kind) || m.plans.some((p) => p.kind === planKindFor(kind) && p.steps === steps && p.budget === budget && (p.space ?? 'output') === 'output' && (p.phi ?? 'paper') === 'paper');
  const wasmBudgets = quick ? [headlineBudget(budgets)!] : budgets;
  const runs: BrowserRun[] = [{
    provider: 'wasm', steps, repeats: quick ? QUICK_WASM_PAIRS : repeats, warmup: 'every-case', wasmThreads: BENCH_WASM_THREADS,
    cases: wasmBudgets.flatMap((budget) => BROWSER_KINDS.filter((k) => has(k, steps, budget)).map((kind) => ({ policy: kind, kind, budget }))),
  }];
  const short = m.plans.filter((p) => p.kind === 'ertacache' && p.steps < steps && p.budget !== undefined)
    .sort((a, b) => a.steps - b.steps)[0];
  if (short) {
    const kinds = quick ? ['ertacache', 'ertacache-forecast'] : [bestPeer, 'ertacache', 'ertacache-forecast'];
    runs.push({
      provider: 'webgpu', steps: short.steps, repeats: quick ? 1 : Math.min(repeats, 3), warmup: 'first-case',
      cases: kinds.filter((k) => has(k, short.steps, short.budget!)).map((kind) => ({ policy: kind, kind, budget: short.budget! })),
    });
  }
  return runs.filter((r) => r.cases.length > 0);
}
