// Bad command lines exit non-zero with the command's usage and never a stack trace; good ones
// parse to the documented defaults. In process (fast), plus one real process for the exit code.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseCalibrateArgs } from './calibrate-args.ts';
import { parseGenerateArgs } from './generate-args.ts';
import { runCli } from './main.ts';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const STACK = /\n\s+at /;

describe('CLI argument errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /commands:/],
    ['an unknown command', ['paint'], /unknown command "paint"/],
    ['generate without --class', ['generate'], /--class \(class models\) or --prompt \(text models\) is required/],
    ['both --class and --prompt', ['generate', '--class', '7', '--prompt', 'a cat'], /--class and --prompt exclude each other/],
    ['a non-integer class', ['generate', '--class', 'seven'], /--class must be an integer/],
    ['an unknown flag', ['generate', '--class', '7', '--colour', 'red'], /Unknown option '--colour'/],
    ['an unknown policy', ['generate', '--class', '7', '--policy', 'deepcache'], /--policy must be one of none/],
    ['a bad graphs mode', ['generate', '--class', '7', '--graphs', 'both'], /--graphs must be one of split, single/],
    ['a non-numeric guidance', ['generate', '--class', '7', '--guidance', 'lots'], /--guidance must be a number/],
    ['calibrate without --budget', ['calibrate'], /--budget is required/],
    ['a budget below 2', ['calibrate', '--budget', '1'], /--budget takes integers ≥ 2/],
    ['a backwards seed range', ['calibrate', '--budget', '25', '--seeds', '9-3'], /--seeds: range "9-3" runs backwards/],
    ['a bad space', ['calibrate', '--budget', '25', '--space', 'latent'], /--space must be one of output, hidden, both/],
  ];
  for (const [what, argv, message] of cases) {
    it(`rejects ${what} with status 2 and usage`, async () => {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/usage: /);
      expect(r.err).not.toMatch(STACK);
    });
  }

  it('prints typed errors as message + hint with status 1', async () => {
    const r = await cli('generate', '--model', '/nonexistent/model', '--class', '3');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error \[MODEL_FILE_MISSING\]: cannot read the model manifest/);
    expect(r.err).toMatch(/hint: Point --model at a model directory/);
    expect(r.err).not.toMatch(STACK);
  });

  it('--help prints usage and succeeds', async () => {
    const r = await cli('generate', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: npm run generate/);
  });

  it('exits non-zero from a real process (tsx), stderr holding the usage', () => {
    const p = spawnSync('node_modules/.bin/tsx', ['src/cli/main.ts', 'generate', '--class'], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/usage: npm run generate/);
    expect(p.stderr).not.toMatch(STACK);
    expect(p.stdout).toBe('');
  });
});

describe('CLI defaults', () => {
  it('generate: seed 0, policy none, split graphs, steps/guidance from the manifest', () => {
    expect(parseGenerateArgs(['--class', '7'])).toEqual({
      model: 'public/models/mnist-dit',
      label: 7,
      seed: 0,
      policy: 'none',
      timeMode: 'actual',
      graphs: 'split',
      json: false,
    });
  });

  it('calibrate: budgets from repeated and comma-separated flags, seed ranges expanded', () => {
    const a = parseCalibrateArgs(['--budget', '25', '--budget', '34,17', '--seeds', '0-2,7', '--space', 'both']);
    expect(a?.budgets).toEqual([34, 25, 17]);
    expect(a?.seeds).toEqual([0, 1, 2, 7]);
    expect(a?.spaces).toEqual(['output', 'hidden']);
    expect(a?.evaluate).toBe(true);
    expect([a?.sweeps, a?.phiGroups, a?.reusePasses]).toEqual([undefined, undefined, undefined]);
  });

  it('calibrate: the search knobs (--sweeps, --phi-groups, --reuse-passes)', () => {
    const a = parseCalibrateArgs(['--budget', '34', '--sweeps', '3', '--phi-groups', '16', '--reuse-passes', '0']);
    expect([a?.sweeps, a?.phiGroups, a?.reusePasses, a?.peers]).toEqual([3, 16, 0, true]);
    expect(parseCalibrateArgs(['--budget', '34', '--no-peers'])?.peers).toBe(false);
    expect([a?.ertacache, parseCalibrateArgs(['--budget', '34', '--peers-only'])?.ertacache]).toEqual([true, false]);
    expect(() => parseCalibrateArgs(['--budget', '34', '--peers-only', '--no-peers'])).toThrow(/nothing to calibrate/);
    expect(a?.phiRamps).toBe(false);
    expect(parseCalibrateArgs(['--budget', '34', '--phi-ramps'])?.phiRamps).toBe(true);
    expect(() => parseCalibrateArgs(['--budget', '34', '--phi-groups', '0'])).toThrow(/phi-groups/);
  });
});
