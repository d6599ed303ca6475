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
  --repeats <n>        timed A/B pairs per policy for the speed table (default 7; --quick: 3)
  --quick              a short run (under ~5 minutes): 2 seeds per class, 3 timed pairs,
                       no hidden-space / φ-lsq variants, Chromium at budget 25 only,
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
    repeats: r.int('repeats', 1, 100) ?? (quick ? 3 : 7),
    quick,
    out: r.str('out') ?? out,
    json: r.flag('json'),
    browser: !r.flag('no-browser'),
    scaling: !r.flag('no-scaling'),
    threads: r.int('threads', 1, 64) ?? 1,
    overheadOnly: r.flag('overhead'),
  };
}
