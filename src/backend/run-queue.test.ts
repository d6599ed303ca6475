// The run queue never lets two tasks overlap, keeps their order, and survives a failing task.

import { describe, expect, it } from 'vitest';
import { createRunQueue } from './run-queue.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('createRunQueue', () => {
  it('runs tasks one at a time, in order', async () => {
    const q = createRunQueue();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const task = (n: number) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      order.push(n);
      running--;
      return n;
    };
    const results = await Promise.all([1, 2, 3, 4].map((n) => q.enqueue(task(n))));
    expect(results).toEqual([1, 2, 3, 4]);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(maxRunning).toBe(1);
    expect(q.pending).toBe(0);
  });

  it('rejects only the failing task; later tasks still run', async () => {
    const q = createRunQueue();
    const bad = q.enqueue(async () => {
      throw new Error('boom');
    });
    const good = q.enqueue(async () => 'ok');
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe('ok');
  });
});
