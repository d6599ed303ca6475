// TensorOps over CPU-resident ORT tensors: the arithmetic of the Float32Array reference ops
// (src/core/ops.ts), with ORT tensors as the handle type so graph outputs feed straight in and
// results feed straight back into the next session. For onnxruntime-node and the wasm EP;
// GPU-resident tensors need the WGSL ops instead.

import { UnsupportedError } from '../core/errors.ts';
import { createCpuOps, type CpuTensor } from '../core/ops.ts';
import type { Dims, TensorOps } from '../core/types.ts';
import type { OrtNamespace, OrtTensorLike } from './ort-types.ts';

export interface OrtCpuOps<T> extends TensorOps<T> {
  /** Host read-backs performed (read and relL1), counted as the GPU ops count them. */
  readonly readbacks: number;
}

export function ortCpuOps<T extends OrtTensorLike>(ort: OrtNamespace<T>): OrtCpuOps<T> {
  const ref = createCpuOps();
  const toCpu = (t: T): CpuTensor => {
    if (t.location !== 'cpu' || t.type !== 'float32') {
      throw new UnsupportedError(
        `ortCpuOps got a ${t.type} tensor on '${t.location}'; it handles float32 CPU tensors only`,
        "create sessions without preferredOutputLocation 'gpu-buffer', or use the WebGPU ops",
      );
    }
    return t as unknown as CpuTensor; // an ORT float32 CPU tensor is a CpuTensor (data, dims): no wrapper per op
  };
  const toOrt = (c: CpuTensor): T => new ort.Tensor('float32', c.data, [...c.dims]);
  return {
    get readbacks() {
      return ref.readbacks;
    },
    fromHost: (data: Float32Array, dims: Dims) => toOrt(ref.fromHost(data, dims)),
    read: (t) => ref.read(toCpu(t)),
    dims: (t) => t.dims,
    dispose: (t) => t.dispose(),
    tile: (x, n) => toOrt(ref.tile(toCpu(x), n)),
    add: (a, b) => toOrt(ref.add(toCpu(a), toCpu(b))),
    sub: (a, b) => toOrt(ref.sub(toCpu(a), toCpu(b))),
    guidance: (v2, w) => toOrt(ref.guidance(toCpu(v2), w)),
    axpy: (x, v, scale) => toOrt(ref.axpy(toCpu(x), toCpu(v), scale)),
    rectifyAffine: (t, a, b, layout) => toOrt(ref.rectifyAffine(toCpu(t), a, b, layout)),
    relL1: (a, b) => ref.relL1(toCpu(a), toCpu(b)),
  };
}
