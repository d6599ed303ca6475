// `generate` arguments: flags → a validated GenerateArgs. Defaults that depend on the model
// (steps, guidance) stay undefined here and are taken from its manifest.

import { POLICY_KINDS } from '../cache/policy.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { GraphMode } from '../manifest/types.ts';
import { ArgReader, DEFAULT_MODEL_DIR, parseOrUsage } from './args.ts';

export const GENERATE_USAGE = `usage: npm run generate -- --class <0-9> [options]
       npm run generate -- --model <text model dir> --prompt "<text>" [options]

  --model <dir>        model directory with manifest.json (default ${DEFAULT_MODEL_DIR})
  --class <n>          class models: the digit to draw (required for them)
  --prompt <text>      text models: what to draw (required for them, e.g. public/models/tiny-t2i)
  --negative-prompt <text>  text models: the unconditional branch of CFG (default: the manifest's, "")
  --seed <n>           noise seed (default 0); same seed → same image on every backend
  --steps <n>          sampling steps (default: the manifest's scheduler.defaultSteps)
  --guidance <w>       classifier-free guidance weight (default: the manifest's; 1 = off, half the compute)
  --embedded-guidance <g>  guidance-distilled models (Flux dev style, a guidance input): the scale fed
                       to the model's guidance embedding (default: the manifest's; no extra compute)
  --policy <kind>      cache policy: ${POLICY_KINDS.join(' | ')} (default none)
  --budget <n>         computed-step budget: of the plan to use (plans are fitted per budget), or
                       for uniform / taylorseer, exactly n evenly spread computed steps
  --space <s>          output | hidden: which ertacache plan's rectification (default output)
  --interval <n>       uniform: compute every n-th step (default 3)
  --delta <x>          teacache / magcache: override the plan's threshold δ (higher = faster, worse)
  --time-mode <m>      actual | nominal: σ the model sees after shortened steps (default actual)
  --graphs <g>         split | single: embed|blocks|head, or model.onnx (output-level caching only)
  --threads <n>        onnxruntime intra-op threads (default: onnxruntime's choice)
  --out <file.png>     write the image as an 8-bit PNG (grayscale, or RGB for text models); a video
                       model's clip as an animated PNG (APNG, looping)
  --strip              video models: --out gets the frames side by side in one PNG instead
  --fps <n>            video models: frames per second of the animated PNG (default 8)
  --raw <file.f32>     write the final image as little-endian float32 in model space (planar C×H×W;
                       a video: C×F×H×W)
  --json               print one JSON object with the run's stats as the last stdout line
  --help               show this message`;

export interface GenerateArgs {
  model: string;
  label?: number;
  prompt?: string;
  negativePrompt?: string;
  seed: number;
  steps?: number;
  guidance?: number;
  embeddedGuidance?: number;
  policy: string;
  budget?: number;
  space?: 'output' | 'hidden';
  interval?: number;
  delta?: number;
  timeMode: TimeMode;
  graphs: GraphMode;
  threads?: number;
  out?: string;
  /** Video models: --out as a frame strip instead of an animated PNG. */
  strip?: boolean;
  /** Video models: frames per second of the animated PNG. */
  fps?: number;
  raw?: string;
  json: boolean;
}

const OPTIONS = {
  model: { type: 'string' },
  class: { type: 'string' },
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  'embedded-guidance': { type: 'string' },
  policy: { type: 'string' },
  budget: { type: 'string' },
  space: { type: 'string' },
  interval: { type: 'string' },
  delta: { type: 'string' },
  'time-mode': { type: 'string' },
  graphs: { type: 'string' },
  threads: { type: 'string' },
  out: { type: 'string' },
  raw: { type: 'string' },
  strip: { type: 'boolean' },
  fps: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Parses `generate` flags; null means --help was asked for. Throws UsageError. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs | null {
  const r: ArgReader = new ArgReader(parseOrUsage(argv, OPTIONS, GENERATE_USAGE), GENERATE_USAGE);
  if (r.flag('help')) return null;
  const label = r.int('class', 0);
  const prompt = r.str('prompt');
  if (label === undefined && prompt === undefined) r.fail('--class (class models) or --prompt (text models) is required');
  if (label !== undefined && prompt !== undefined) r.fail('--class and --prompt exclude each other: a model takes one or the other');
  const args: GenerateArgs = {
    model: r.str('model') ?? DEFAULT_MODEL_DIR,
    seed: r.int('seed', 0, 2 ** 32 - 1) ?? 0,
    policy: r.oneOf('policy', POLICY_KINDS, 'none'),
    timeMode: r.oneOf('time-mode', ['actual', 'nominal'], 'actual'),
    graphs: r.oneOf('graphs', ['split', 'single'], 'split'),
    json: r.flag('json'),
  };
  const optional = {
    label,
    prompt,
    negativePrompt: r.str('negative-prompt'),
    steps: r.int('steps', 1, 10_000),
    guidance: r.num('guidance'),
    embeddedGuidance: r.num('embedded-guidance'),
    budget: r.int('budget', 1),
    space: r.str('space') === undefined ? undefined : r.oneOf('space', ['output', 'hidden'], 'output'),
    interval: r.int('interval', 1),
    delta: r.num('delta'),
    threads: r.int('threads', 1, 1024),
    out: r.str('out'),
    raw: r.str('raw'),
    strip: r.flag('strip') || undefined,
    fps: r.num('fps'),
  };
  if (optional.fps !== undefined && !(optional.fps > 0 && optional.fps <= 1000)) r.fail(`--fps must be in (0, 1000], got ${optional.fps}`);
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(args, { [k]: v });
  return args;
}
