// `bench` arguments: flags → a validated BenchArgs.

import { ArgReader, DEFAULT_MODEL_DIR, parseOrUsage } from './args.ts';

/** The shipped (trained) models the runtime overhead is measured on (the bench's --model besides). */
export const SHIPPED_DENOISERS = ['public/models/mnist-dit', 'public/models/emoji-dit'];
/** Test models (random weights, tools/) measured beside them and marked as such: tiny-t2i's 0.4 ms
 *  steps make its fixed per-step cost the largest share of any model's; the tiny Wan model is the
 *  demo's video entry (random weights, labelled a test model there). */
export const TEST_DENOISERS = ['public/models/tiny-t2i', 'public/models/imported-wan-tiny'];

export const BENCH_USAGE = `usage: npm run bench -- [options]

Fidelity of every cache policy against full compute on the evaluation set (10 classes ×
seeds 1000–1009, 50 steps), at matched computed-step budgets, with onnxruntime-node.
Then the wall-clock speedup of each against none, interleaved A/B, median of repeats, in
this process and in Debian's Chromium (WASM, and WebGPU on SwiftShader: 8-step plans), the
runtime's overhead against a bare session.run loop, and step time and speedup on random-weight
DiTs of growing size. Writes bench/results.json, bench/report.md and bench/chart.svg.

  --model <dir>        model directory (default ${DEFAULT_MODEL_DIR}); a text model (emoji-dit) is
                       measured on its evaluation prompts × seeds from 1000 at 50 steps, PSNR on
                       the decoded image, and writes bench/<model name>/ (src/cli/bench-text.ts)
  --classifier <dir>   evaluation classifier (default public/models/mnist-classifier; for a text
                       model public/models/emoji-classifier)
  --steps <n>          sampling steps (default: the model's, 50 for mnist-dit); with --steps,
                       --budgets is required (e.g. --steps 8 --budgets 5: the 8-step plans) and
                       the report goes to bench/steps-<n> (--quick: bench/quick/steps-<n>)
  --budgets <list>     computed-step budgets (default 34,25,17, for 50 steps)
  --seeds <n>          seeds per class, from 1000 (default 10; --quick: 2)
  --repeats <n>        timed A/B pairs per policy for the speed table (default 64; --quick: 20,
                       at the headline budget only)
  --quick              a short run (~10 minutes): 2 seeds per class, speed timed at budget 25
                       only (40 pairs in Node, 20 in Chromium), no hidden-space / φ-lsq variants,
                       3 scaling variants
  --threads <n>        onnxruntime-node intra-op threads for the timed runs (default 1:
                       steadier ratios on a small shared CPU; fidelity uses ORT's default)
  --overhead           only the runtime-overhead measurement, on every shipped model
                       (${SHIPPED_DENOISERS.join(', ')}): ~1 minute
  --no-browser         skip the Chromium speed runs (WASM and WebGPU)
  --no-scaling         skip the scaling study on random-weight DiTs (needs Python + PyTorch)
  --out <dir>          where the report goes (default bench; --quick: bench/quick, so a
                       quick run never overwrites the committed full report)
  --json               print one JSON object as the last stdout line
  --help               show this message`;

/**
 * Timed A/B pairs per row by default. One 50-step run on this 2-core machine varies by ~6.5 %
 * (coefficient of variation; process CPU time alike, so it is the machine, not other processes'
 * load), and a pair's log ratio by ~10 %: the median of n pairs has a standard error of about
 * 12.5 %/√n. --quick times only the headline budget's rows, with QUICK_NODE_PAIRS: 40, a
 * standard error of ~2 % a row (at 20 a row's 95 % interval was ±5 %, and the committed quick
 * run had 2 of 12 Node rows outside 5 % that the 64-pair runs put within 1 %). Each Node row
 * (41 pairs with its warm-up, ~0.4 s a pair) takes ~20 s.
 */
export const QUICK_NODE_PAIRS = 40;
/**
 * The full run's pairs per row: 64. At 32 pairs, Node at 50 steps had 33–35 of 36 rows within
 * 5 %, different rows outside in each run; at 64 the 95 % interval of a row is about ±3 %.
 * A full run takes about an hour here (Node ~18 min, Chromium WASM ~28 min for 3 budgets).
 */
export const FULL_PAIRS = 64;

/** The committed full report, and where --quick runs write unless --out says otherwise. */
export const FULL_OUT = 'bench';
export const QUICK_OUT = 'bench/quick';

export interface BenchArgs {
  model: string;
  classifier: string;
  budgets: number[];
  /** Sampling steps; undefined: the manifest's default. */
  steps?: number;
  seedsPerClass: number;
  repeats: number;
  quick: boolean;
  out: string;
  json: boolean;
  browser: boolean;
  scaling: boolean;
  threads: number;
  overheadOnly: boolean;
}

const OPTIONS = {
  model: { type: 'string' },
  classifier: { type: 'string' },
  budgets: { type: 'string', multiple: true },
  steps: { type: 'string' },
  seeds: { type: 'string' },
  repeats: { type: 'string' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  threads: { type: 'string' },
  'no-browser': { type: 'boolean' },
  'no-scaling': { type: 'boolean' },
  overhead: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Parses `bench` flags; null means --help was asked for. Throws UsageError. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs | null {
  const r = new ArgReader(parseOrUsage(argv, OPTIONS, BENCH_USAGE), BENCH_USAGE);
  if (r.flag('help')) return null;
  const budgets = r.ints('budgets', 2);
  const quick = r.flag('quick');
  const steps = r.int('steps', 2, 10_000);
  if (steps !== undefined && budgets.length === 0) r.fail('--steps needs --budgets (the budgets of the plans at that step count, e.g. --steps 8 --budgets 5)');
  const tooBig = budgets.filter((b) => b > (steps ?? Infinity));
  if (tooBig.length > 0) r.fail(`--budgets ${tooBig.join(', ')} exceed --steps ${steps}`);
  const out = steps === undefined ? (quick ? QUICK_OUT : FULL_OUT) : `${quick ? QUICK_OUT : FULL_OUT}/steps-${steps}`;
  return {
    model: r.str('model') ?? DEFAULT_MODEL_DIR,
    classifier: r.str('classifier') ?? 'public/models/mnist-classifier',
    ...(steps === undefined ? {} : { steps }),
    budgets: budgets.length > 0 ? [...new Set(budgets)].sort((a, b) => b - a) : [34, 25, 17],
    seedsPerClass: r.int('seeds', 1, 10) ?? (quick ? 2 : 10),
    repeats: r.int('repeats', 1, 100) ?? (quick ? QUICK_NODE_PAIRS : FULL_PAIRS),
    quick,
    out: r.str('out') ?? out,
    json: r.flag('json'),
    browser: !r.flag('no-browser'),
    scaling: !r.flag('no-scaling'),
    threads: r.int('threads', 1, 64) ?? 1,
    overheadOnly: r.flag('overhead'),
  };
}
