// `calibrate`: the CLI's adapter over the Node API's calibrate() (src/node/calibrate.ts).

import type { VariantError } from '../cache/plan.ts';
import { calibrate, type CalibrateReport, type NodeCalibrateOptions } from '../node/calibrate.ts';
import { asUsageError } from './args.ts';
import { CALIBRATE_USAGE, type CalibrateArgs } from './calibrate-args.ts';

export type { CalibrateReport, PlanSummary } from '../node/calibrate.ts';

/** The API's option names as this command's flags. */
const FLAGS: Record<string, string> = { budgets: 'budget', spaces: 'space', timeMode: 'time-mode', phiGroups: 'phi-groups', reusePasses: 'reuse-passes',
  embeddedGuidance: 'embedded-guidance', phiRamps: 'phi-ramps' };

export function runCalibrate(args: CalibrateArgs, log: (line: string) => void): Promise<CalibrateReport> {
  const { json: _json, ...rest } = args;
  const options: NodeCalibrateOptions = { ...rest, onProgress: log };
  return calibrate(options).catch((e: unknown) => { throw asUsageError(e, FLAGS, CALIBRATE_USAGE); });
}

function describeError(error: Record<string, VariantError>): string {
  const parts = Object.entries(error).map(
    ([k, e]) => `${k}: L1 ${e.l1.toPrecision(3)}, PSNR ${e.psnr === null ? '∞' : e.psnr.toFixed(2)} dB`,
  );
  return parts.length > 0 ? parts.join('; ') : 'not evaluated';
}

/** The human-readable summary printed without --json. */
export function describeCalibration(r: CalibrateReport): string {
  const lines = [`${r.plans.length} plans for ${r.model} (${r.steps} steps, guidance ${r.guidance}, ${r.samples} samples, ${r.ms} ms):`];
  for (const p of r.plans) {
    const knob = p.lambda !== undefined ? `λ = ${p.lambda.toPrecision(4)}, S = [${p.reuse?.join(',')}]` : `δ = ${p.delta?.toPrecision(4)}`;
    lines.push(`  ${p.file}: ${p.computedSteps} computed (budget ${p.budget}), ${knob}`);
    lines.push(`    calibration error — ${describeError(p.error)}`);
  }
  return lines.join('\n');
}
