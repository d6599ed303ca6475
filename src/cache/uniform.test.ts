import { describe, expect, it } from 'vitest';
import { createUniformPolicy, uniformBudgetSteps } from './uniform.ts';

function decisions(budget: number, steps: number): string {
  const p = createUniformPolicy({ budget });
  let s = '';
  for (let i = 0; i < steps; i++) s += p.decide({ i, steps, sigma: 1 - i / steps }).kind === 'compute' ? 'C' : 'R';
  return s;
}

describe('uniform policy at a matched budget', () => {
  it('computes exactly `budget` steps for every budget of a 50-step run, first and last included', () => {
    for (let budget = 2; budget <= 50; budget++) {
      const d = decisions(budget, 50);
      expect([...d].filter((c) => c === 'C').length).toBe(budget);
      expect(d[0]).toBe('C');
      expect(d[49]).toBe('C');
    }
  });

  it('spreads the computed steps evenly: gaps differ by at most one step', () => {
    const set = [...uniformBudgetSteps(50, 17)].sort((a, b) => a - b);
    const gaps = set.slice(1).map((v, k) => v - set[k]!);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
  });

  it('pins the 10-step, budget-4 pattern', () => {
    expect(decisions(4, 10)).toBe('CRRCRRCRRC');
  });

  it('rejects a budget outside [2, steps] with a typed error', () => {
    expect(() => decisions(1, 10)).toThrow(/uniform budget/);
    expect(() => decisions(11, 10)).toThrow(/uniform budget/);
  });
});
