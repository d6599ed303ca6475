// `npm run bench:families` flags → FamiliesOptions (src/cli/bench-families.ts runs the bench).

import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from '../bench/families.ts';

export interface FamiliesOptions {
  families: Family[];
  size: 'tiny' | 'medium';
  steps: number;
  budget: number;
  repeats: number;
  threads: number;
  node: boolean;
  browser: boolean;
  out: string;
}

/** `npm run bench:families` flags (see src/cli/bench-families.ts); throws with the flag's name. */
export function parseFamiliesArgs(argv: string[]): FamiliesOptions {
  const { values: v } = parseArgs({
    args: argv, options: {
      families: { type: 'string' }, size: { type: 'string' }, steps: { type: 'string' }, budget: { type: 'string' },
      repeats: { type: 'string' }, threads: { type: 'string' }, 'no-browser': { type: 'boolean' }, 'no-node': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const families = (v.families?.split(',') ?? [...FAMILIES]) as Family[];
  const bad = families.filter((f) => !FAMILIES.includes(f));
  if (bad.length > 0) throw new Error(`--families: unknown ${bad.join(', ')} (use ${FAMILIES.join(',')})`);
  const size = (v.size ?? 'medium') as FamiliesOptions['size'];
  if (size !== 'tiny' && size !== 'medium') throw new Error('--size: tiny or medium');
  const int = (flag: string, s: string | undefined, d: number, min: number) => {
    const n = s === undefined ? d : Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer ≥ ${min}, got ${s}`);
    return n;
  };
  const steps = int('steps', v.steps, 20, 2);
  const budget = int('budget', v.budget, Math.ceil(steps / 2), 2);
  if (budget > steps) throw new Error(`--budget ${budget} is more than --steps ${steps}`);
  return {
    families, size, steps, budget, repeats: int('repeats', v.repeats, 3, 1), threads: int('threads', v.threads, 1, 1),
    node: !v['no-node'], browser: !v['no-browser'], out: v.out ?? 'bench/families',
  };
}
