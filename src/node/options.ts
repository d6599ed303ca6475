// Checks on the Node API's options. The CLI's flag parser already guarantees these for its own
// calls; programs calling generate()/calibrate() directly get the same typed BAD_INPUT errors,
// each naming the option (OptionError.option), so the CLI can re-word them as flags.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError } from '../core/errors.ts';

/** A bad option value of the Node API. `option` is its name in the options object. */
export class OptionError extends BadInputError {
  /** The option's name, e.g. 'label'. */
  readonly option: string;
  /** The message without the option's name, e.g. 'must be below 10 for mnist-dit'. */
  readonly problem: string;
  constructor(option: string, problem: string, hint = `fix the ${option} option`) {
    super(`${option} ${problem}`, hint);
    this.option = option;
    this.problem = problem;
  }
}

/**
 * The model shipped in the package (public/models/mnist-dit), found relative to this module:
 * from lib/node.js in the package, or from src/node/ in a checkout.
 */
export const PACKAGED_MODEL_DIR = ((): string => {
  const candidates = ['../public/models/mnist-dit/', '../../public/models/mnist-dit/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'manifest.json'))) ?? candidates[0]!;
})();

/** An integer option in [min, max]; undefined passes. */
export function checkInt(option: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OptionError(option, `must be an integer ≥ ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}, got ${String(v)}`);
  }
}

/** A finite number option; undefined passes. */
export function checkNumber(option: string, v: number | undefined): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new OptionError(option, `must be a finite number, got ${String(v)}`);
  }
}

/** One of a fixed set of strings; undefined passes. */
export function checkOneOf(option: string, v: string | undefined, choices: readonly string[]): void {
  if (v !== undefined && !choices.includes(v)) throw new OptionError(option, `must be one of ${choices.join(', ')}, got "${String(v)}"`);
}
