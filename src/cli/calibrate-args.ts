// `calibrate` arguments: flags → a validated CalibrateArgs. Model-dependent defaults (steps,
// guidance) stay undefined here and come from the manifest; the others from calibrateModel.

import type { TimeMode } from '../core/schedules.ts';
import type { RectificationSpace } from '../manifest/types.ts';
import { ArgReader, DEFAULT_MODEL_DIR, parseIntList, parseOrUsage } from './args.ts';

export const CALIBRATE_USAGE = `usage: npm run calibrate -- --budget <n> [--budget <n> ...] [options]

Fits ERTACache (with its residual forecast), TeaCache, MagCache and EasyCache plans per budget
on full-compute trajectories, writes them to <model>/plans/ and lists them in
<model>/manifest.json (rewritten atomically). ERTACache's φ and time rule are chosen by direct
search of mean PSNR against full compute on the calibration seeds.

  --model <dir>        model directory with manifest.json (default ${DEFAULT_MODEL_DIR})
  --steps <n>          sampling steps the plans are for (default: the manifest's scheduler.defaultSteps)
  --budget <n>         computed steps per plan (2…steps); repeat or comma-separate for several (required)
  --seeds <list>       calibration noise seeds, e.g. 0-19 or 1,2,3 (default 0,1; 1000-1009 are held out)
  --labels <list>      class models: classes in the calibration batch (default 0-9)
  --prompts <file>     text models: calibration prompts, a JSON array or one a line (default: the
                       manifest's calibrationPrompts; its evaluationPrompts are refused)
  --guidance <w>       CFG weight to calibrate at (default: the manifest's)
  --embedded-guidance <g>  guidance-distilled models (Flux dev style): the guidance scale to calibrate at
                       (default: the manifest's)
  --space <s>          output | hidden | both: where ERTACache's rectification is fitted (default output)
  --time-mode <m>      actual | nominal (default actual; must match the runtime's)
  --phi <m>            search | paper | lsq: how ERTACache's step factor φ is chosen (default search:
                       direct search on the calibration seeds; paper: ertacache.md (b)'s formula;
                       lsq is an experiment: argmin ‖φ·ṽ − v‖, plans named …-lsq.json)
  --sweeps <n>         coordinate-descent sweeps of per-step φ after the grid (default 1)
  --phi-groups <n>     runs of consecutive reused steps one φ move covers (default 4; ≥ the
                       reused-step count: one φ per step)
  --reuse-passes <n>   passes of the reuse-set search by the final image (default 1; 0 keeps the
                       λ threshold's set)
  --phi-ramps          also try φ linear over the reused steps (5 × 5 end points) on the λ set and
                       on the forecast's reuse set; kept when it beats the grid's one φ
  --no-forecast        skip calibrating the residual forecast (ertacache-forecast)
  --no-peers           only the ERTACache plans (TeaCache, MagCache and EasyCache plans left as they are)
  --peers-only         only the TeaCache, MagCache and EasyCache plans (ERTACache plans left as they are)
  --skip-eval          skip measuring each plan's error with the real sampler (faster; no error report)
  --threads <n>        onnxruntime intra-op threads
  --json               print one JSON object (λ, S, errors per plan) as the last stdout line
  --help               show this message`;

export interface CalibrateArgs {
  model: string;
  steps?: number;
  budgets: number[];
  seeds?: number[];
  labels?: number[];
  prompts?: string;
  guidance?: number;
  embeddedGuidance?: number;
  spaces?: RectificationSpace[];
  timeMode: TimeMode;
  phi: 'search' | 'paper' | 'lsq';
  sweeps?: number;
  phiGroups?: number;
  reusePasses?: number;
  phiRamps: boolean;
  forecast: boolean;
  peers: boolean;
  ertacache: boolean;
  evaluate: boolean;
  threads?: number;
  json: boolean;
}

const OPTIONS = {
  model: { type: 'string' },
  steps: { type: 'string' },
  budget: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  labels: { type: 'string' },
  prompts: { type: 'string' },
  guidance: { type: 'string' },
  'embedded-guidance': { type: 'string' },
  space: { type: 'string' },
  'time-mode': { type: 'string' },
  phi: { type: 'string' },
  sweeps: { type: 'string' },
  'phi-groups': { type: 'string' },
  'reuse-passes': { type: 'string' },
  'phi-ramps': { type: 'boolean' },
  'no-forecast': { type: 'boolean' },
  'no-peers': { type: 'boolean' },
  'peers-only': { type: 'boolean' },
  'skip-eval': { type: 'boolean' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function spaces(r: ArgReader): RectificationSpace[] | undefined {
  if (r.str('space') === undefined) return undefined;
  const s = r.oneOf('space', ['output', 'hidden', 'both'], 'output');
  return s === 'both' ? ['output', 'hidden'] : [s];
}

/** Parses `calibrate` flags; null means --help was asked for. Throws UsageError. */
export function parseCalibrateArgs(argv: readonly string[]): CalibrateArgs | null {
  const r: ArgReader = new ArgReader(parseOrUsage(argv, OPTIONS, CALIBRATE_USAGE), CALIBRATE_USAGE);
  if (r.flag('help')) return null;
  const budgets = [...new Set(r.ints('budget', 2))].sort((a, b) => b - a);
  if (budgets.length === 0) r.fail('--budget is required (e.g. --budget 25 for 25 computed steps of 50)');
  if (r.flag('peers-only') && r.flag('no-peers')) r.fail('--peers-only and --no-peers leave nothing to calibrate: pass one of them');
  const args: CalibrateArgs = {
    model: r.str('model') ?? DEFAULT_MODEL_DIR,
    budgets,
    timeMode: r.oneOf('time-mode', ['actual', 'nominal'], 'actual'),
    phi: r.oneOf('phi', ['search', 'paper', 'lsq'], 'search'),
    phiRamps: r.flag('phi-ramps'),
    forecast: !r.flag('no-forecast'),
    peers: !r.flag('no-peers'),
    ertacache: !r.flag('peers-only'),
    evaluate: !r.flag('skip-eval'),
    json: r.flag('json'),
  };
  const list = (name: string) => {
    const spec = r.str(name);
    return spec === undefined ? undefined : parseIntList(spec, (m) => r.fail(`--${name}: ${m}`));
  };
  const optional = {
    steps: r.int('steps', 2, 10_000),
    guidance: r.num('guidance'),
    embeddedGuidance: r.num('embedded-guidance'),
    spaces: spaces(r),
    threads: r.int('threads', 1, 1024),
    sweeps: r.int('sweeps', 0, 20),
    phiGroups: r.int('phi-groups', 1, 10_000),
    reusePasses: r.int('reuse-passes', 0, 100),
    seeds: list('seeds'),
    labels: list('labels'),
    prompts: r.str('prompts'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(args, { [k]: v });
  return args;
}
