import { describe, expect, it } from 'vitest';
import { createCpuOps, cpuTensor } from './ops.ts';

const ops = createCpuOps();
const t = (values: number[], dims: number[]) => cpuTensor(Float32Array.from(values), dims);

describe('cpu ops', () => {
  it('guidance on [cond, uncond] is vU + w(vC − vU)', () => {
    const v = ops.guidance(t([1, 2, 3, 5], [2, 1, 1, 2]), 3);
    expect(Array.from(v.data)).toEqual([3 + 3 * (1 - 3), 5 + 3 * (2 - 5)]);
    expect(v.dims).toEqual([1, 1, 1, 2]);
  });

  it('rectifyAffine maps flat element k to channel floor(k/inner) % channels', () => {
    // [B=2, C=2, HW=2]: channels go 0,0,1,1,0,0,1,1
    const x = t([1, 1, 1, 1, 2, 2, 2, 2], [2, 2, 1, 2]);
    const out = ops.rectifyAffine(x, Float32Array.of(0.5, 0), Float32Array.of(0, 1), { channels: 2, inner: 2 });
    expect(Array.from(out.data)).toEqual([0.5, 0.5, 0, 0, 1, 1, 1, 1]);
    expect(() => ops.rectifyAffine(x, Float32Array.of(1), Float32Array.of(1), { channels: 2, inner: 2 }))
      .toThrow(expect.objectContaining({ code: 'BAD_INPUT', hint: expect.stringMatching(/re-run calibration/) }));
  });

  it('tile repeats batch 1; axpy, add and sub are elementwise; inputs are not mutated', () => {
    const x = t([1, 2], [1, 2]);
    expect(Array.from(ops.tile(x, 3).data)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(Array.from(ops.axpy(x, t([4, 8], [1, 2]), -0.5).data)).toEqual([-1, -2]);
    expect(Array.from(ops.sub(ops.add(x, x), x).data)).toEqual([1, 2]);
    expect(Array.from(x.data)).toEqual([1, 2]);
    expect(() => ops.add(x, t([1, 2, 3], [1, 3]))).toThrow(/shapes/);
  });

  it('relL1 = mean|a − b| / mean|b| and counts as a read-back, like read()', async () => {
    const counted = createCpuOps();
    expect(await counted.relL1(t([1, 3], [2]), t([2, 2], [2]))).toBe(0.5);
    const host = await counted.read(t([1], [1]));
    host[0] = 9; // the copy is the caller's
    expect(counted.readbacks).toBe(2);
  });
});
