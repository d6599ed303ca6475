// ortCpuOps does the reference arithmetic on ORT CPU tensors, returns ORT tensors that feed
// straight into a session, counts read-backs, and refuses GPU-resident tensors loudly.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gpuTensor, fakeOrt } from './fake-ort.ts';
import { ortCpuOps } from './ort-cpu-ops.ts';

describe('ortCpuOps', () => {
  it('computes guidance, Euler steps and rectification on onnxruntime-node tensors', async () => {
    const ops = ortCpuOps(ort);
    const v2 = ops.fromHost(Float32Array.of(1, 2, 3, 5, 5, 5), [2, 1, 1, 3]); // [cond, uncond]
    const v = ops.guidance(v2, 2); // vU + 2·(vC − vU) = 2·vC − vU
    expect(v).toBeInstanceOf(ort.Tensor);
    expect(ops.dims(v)).toEqual([1, 1, 1, 3]);
    expect(await ops.read(v)).toEqual(Float32Array.of(-3, -1, 1));
    const x = ops.fromHost(Float32Array.of(1, 1, 1), [1, 1, 1, 3]);
    expect(await ops.read(ops.axpy(x, v, -0.5))).toEqual(Float32Array.of(2.5, 1.5, 0.5));
    const r = ops.rectifyAffine(v, Float32Array.of(0.5), Float32Array.of(1), { channels: 1, inner: 3 });
    expect(await ops.read(r)).toEqual(Float32Array.of(-2.5, -1.5, -0.5)); // t − (0.5·t + 1)
    expect(await ops.relL1(x, x)).toBe(0);
    expect(ops.readbacks).toBe(4);
  });

  it('refuses tensors that live on the GPU', () => {
    const ops = ortCpuOps(fakeOrt());
    expect(() => ops.add(gpuTensor([1, 3]), gpuTensor([1, 3]))).toThrow(/CPU tensors only/);
  });
});
