// The Node speed rows timed in processes of their own (bench-speed.ts): a real child process,
// the real model and plan files, the row sent back over IPC; a bad job fails with the child's error.

import { describe, expect, it } from 'vitest';
import { timeRowApart, timeRowsApart } from './bench-speed.ts';

const job = { model: 'public/models/mnist-dit', steps: 8, budget: 5, variants: false, threads: 1, repeats: 3 };

describe('timeRowApart', () => {
  it('times a row in a child process and returns its pairs', async () => {
    const logs: string[] = [];
    const [uniform, erta] = await timeRowsApart([{ ...job, policy: 'uniform' }, { ...job, policy: 'ertacache' }], (m) => logs.push(m));
    expect(uniform!.policy).toBe('uniform');
    expect(uniform!.budget).toBe(5);
    expect(uniform!.computedSteps).toBe(5);
    expect(uniform!.pairMs).toHaveLength(3);
    expect(uniform!.speedup).toBeGreaterThan(0);
    expect(erta!.policy).toBe('ertacache'); // the model's calibrated 8-step plan, read in the child
    expect(erta!.computedSteps).toBe(5);
    expect(logs).toEqual(['speed: uniform budget 5', 'speed: ertacache budget 5']);
  }, 60_000);

  it('times a text model\'s transformer loop on its encoded evaluation prompts', async () => {
    const row = await timeRowApart({ ...job, model: 'public/models/emoji-dit', policy: 'uniform', repeats: 2 });
    expect([row.policy, row.budget, row.computedSteps]).toEqual(['uniform', 5, 5]);
    expect(row.pairMs).toHaveLength(2);
    expect(Number.isFinite(row.msNone)).toBe(true);
  }, 60_000);

  it('rejects with the child\'s error for a policy the model has no plan for', async () => {
    await expect(timeRowApart({ ...job, policy: 'no-such-policy' })).rejects.toThrow("no policy 'no-such-policy' at budget 5 of 8 steps");
  }, 30_000);
});
