// Command-line parsing with node:util parseArgs. Every bad argument becomes a UsageError, which
// main.ts prints with the command's usage (never a stack trace) and exits with status 2.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BadInputError } from '../core/errors.ts';
import { OptionError } from '../node/options.ts';

export const DEFAULT_MODEL_DIR = 'public/models/mnist-dit';

export class UsageError extends BadInputError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, 'see the usage above');
  }
}

/**
 * A bad option reported by the Node API (src/node) as the flag it came from, with the command's
 * usage: `label must be below 10` → `--class must be below 10`. Other errors pass unchanged.
 */
export function asUsageError(e: unknown, flags: Record<string, string>, usage: string): unknown {
  if (!(e instanceof OptionError)) return e;
  return new UsageError(`--${flags[e.option] ?? e.option} ${e.problem}`, usage);
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** parseArgs, with its errors (unknown option, missing value, stray positional) as UsageErrors. */
export function parseOrUsage(argv: readonly string[], options: Options, usage: string): Values {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!, usage);
  }
}

/** Typed accessors over the parsed values; each failure names the flag. */
export class ArgReader {
  constructor(
    private readonly values: Values,
    readonly usage: string,
  ) {}

  fail(message: string): never {
    throw new UsageError(message, this.usage);
  }

  str(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** An integer flag in [min, max]; absent → undefined. */
  int(name: string, min = -Infinity, max = Infinity): number | undefined {
    const s = this.str(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!/^-?\d+$/.test(s.trim()) || n < min || n > max) {
      this.fail(`--${name} must be an integer${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}, got "${s}"`);
    }
    return n;
  }

  num(name: string): number | undefined {
    const s = this.str(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) this.fail(`--${name} must be a number, got "${s}"`);
    return n;
  }

  /** All values of a repeatable integer flag (--budget 25 --budget 34, or --budget 25,34). */
  ints(name: string, min = 0): number[] {
    const v = this.values[name];
    const raw = (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).flatMap((s) => s.split(','));
    return raw.map((s) => {
      if (!/^\d+$/.test(s.trim()) || Number(s) < min) this.fail(`--${name} takes integers ≥ ${min}, got "${s}"`);
      return Number(s);
    });
  }

  oneOf<K extends string>(name: string, choices: readonly K[], fallback: K): K {
    const s = this.str(name) ?? fallback;
    if (!(choices as readonly string[]).includes(s)) this.fail(`--${name} must be one of ${choices.join(', ')}, got "${s}"`);
    return s as K;
  }
}

/**
 * Integer ranges and lists: "0-19" → 0..19, "1,5,9" → [1, 5, 9], combinable ("0-3,10").
 */
export function parseIntList(spec: string, fail: (message: string) => never): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) fail(`cannot read "${part}" as an integer or a range a-b`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) fail(`range "${part}" runs backwards`);
    for (let k = lo; k <= hi; k++) out.push(k);
  }
  return out;
}
