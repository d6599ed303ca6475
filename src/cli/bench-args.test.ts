import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseBenchArgs, QUICK_NODE_PAIRS } from './bench-args.ts';
import { timedPolicies } from './bench.ts';

describe('parseBenchArgs', () => {
  it('defaults to the full evaluation set, every part on', () => {
    expect(parseBenchArgs([])).toMatchObject({
      budgets: [34, 25, 17], seedsPerClass: 10, repeats: 64, quick: false, json: false, browser: true, scaling: true, threads: 1,
    });
  });

  it('--quick shortens the run; explicit numbers still win', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ seedsPerClass: 2, repeats: QUICK_NODE_PAIRS, quick: true });
    expect(parseBenchArgs(['--quick', '--repeats', '3'])).toMatchObject({ repeats: 3 });
    expect(parseBenchArgs(['--quick', '--seeds', '5'])).toMatchObject({ seedsPerClass: 5, quick: true });
  });

  it('--quick writes to bench/quick, never over the committed full report, unless --out says so', () => {
    expect(parseBenchArgs([])!.out).toBe('bench');
    expect(parseBenchArgs(['--quick'])!.out).toBe('bench/quick');
    expect(parseBenchArgs(['--quick', '--out', 'bench'])!.out).toBe('bench');
    expect(parseBenchArgs(['--out', '/tmp/b'])!.out).toBe('/tmp/b');
  });

  it('--no-browser and --no-scaling turn those parts off; budgets are deduplicated, largest first', () => {
    expect(parseBenchArgs(['--no-browser', '--no-scaling', '--budgets', '17,34,17'])).toMatchObject({
      browser: false, scaling: false, budgets: [34, 17],
    });
  });

  it('--steps runs another step count: budgets required, the report in its own folder', () => {
    expect(parseBenchArgs([])!.steps).toBeUndefined();
    expect(parseBenchArgs(['--steps', '8', '--budgets', '5'])).toMatchObject({ steps: 8, budgets: [5], out: 'bench/steps-8' });
    expect(parseBenchArgs(['--quick', '--steps', '8', '--budgets', '5'])!.out).toBe('bench/quick/steps-8');
    expect(() => parseBenchArgs(['--steps', '8'])).toThrow(/--steps needs --budgets/);
    expect(() => parseBenchArgs(['--steps', '8', '--budgets', '5,9'])).toThrow(/9 exceed --steps 8/);
  });

  it('rejects unknown flags and bad numbers with the usage', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--seeds', '0'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--threads', '0'])).toThrow(UsageError);
  });

  it('--quick times only the headline budget\'s rows (every row gets its pairs); a full run times all', () => {
    const ps = [34, 34, 25, 25, 17].map((budget, i) => ({ policy: `p${i}`, budget }));
    expect(timedPolicies(ps, parseBenchArgs(['--quick'])!).map((p) => p.policy)).toEqual(['p2', 'p3']);
    expect(timedPolicies(ps, parseBenchArgs([])!)).toHaveLength(5);
    expect(timedPolicies(ps, parseBenchArgs(['--quick', '--budgets', '34,17'])!).map((p) => p.budget)).toEqual([17]); // the middle one
  });
});
