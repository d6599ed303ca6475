// `generate`: the CLI's adapter over the Node API's generate() (src/node/generate.ts): flags in,
// files (PNG, raw float32) and the report out.

import { writeFile } from 'node:fs/promises';
import { generate, type GenerateReport } from '../node/generate.ts';
import { asUsageError, UsageError } from './args.ts';
import { GENERATE_USAGE, type GenerateArgs } from './generate-args.ts';

export type { GenerateReport } from '../node/generate.ts';

/** Little-endian float32 bytes, whatever the host's byte order. */
export function float32LE(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, k) => view.setFloat32(4 * k, v, true));
  return out;
}

/** The API's option names as this command's flags (for errors worded as flags). */
const FLAGS: Record<string, string> = { label: 'class', timeMode: 'time-mode', negativePrompt: 'negative-prompt', embeddedGuidance: 'embedded-guidance' };

export async function runGenerate(args: GenerateArgs): Promise<GenerateReport> {
  const { out, raw, strip, fps, json: _json, ...options } = args;
  const r = await generate(options).catch((e: unknown) => { throw asUsageError(e, FLAGS, GENERATE_USAGE); });
  if ((strip || fps !== undefined) && r.frames === undefined) {
    throw new UsageError(`--strip and --fps are for video models; ${options.model} makes still images`, GENERATE_USAGE);
  }
  // a video model's clip: an animated PNG, or with --strip the frames side by side
  if (out) await writeFile(out, r.png({ ...(strip ? { strip } : {}), ...(fps !== undefined ? { fps } : {}) }));
  if (raw) await writeFile(raw, float32LE(r.image));
  return r.report;
}

/** The human-readable summary printed without --json. */
export function describeRun(r: GenerateReport, args: GenerateArgs): string {
  const files = [args.out, args.raw].filter(Boolean).join(', ') || 'no file (use --out / --raw)';
  const plan = r.plan ? `, plan ${r.plan}` : '';
  const what = r.prompt === null ? `class ${r.label}` : `prompt "${r.prompt}"`;
  const warnings = r.warnings.map((w) => `\nwarning: ${w}`).join('');
  return `${files}: ${what}, seed ${r.seed}, ${r.policy}${plan}; ${r.steps} steps = ` +
    `${r.computedSteps} computed + ${r.reusedSteps} reused, ${r.ms} ms on ${r.provider} (${r.graphs} graphs)${warnings}`;
}
