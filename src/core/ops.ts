// The Float32Array reference implementation of TensorOps (src/core/types.ts). It is the
// oracle the WGSL ops are tested against, and the ops the CLI and calibration use in Node.

import { BadInputError } from './errors.ts';
import type { ChannelLayout, Dims, TensorOps } from './types.ts';

/** A host tensor: row-major data and its shape. */
export interface CpuTensor {
  readonly data: Float32Array;
  readonly dims: Dims;
}

/** CPU ops plus the number of read-backs performed (read and relL1), as a GPU backend counts. */
export interface CpuOps extends TensorOps<CpuTensor> {
  readonly readbacks: number;
}

export function cpuTensor(data: Float32Array, dims: Dims): CpuTensor {
  const n = dims.reduce((p, d) => p * d, 1);
  if (n !== data.length) {
    throw new BadInputError(`tensor data has ${data.length} elements but dims [${dims}] need ${n}`,
      'pass dims whose product equals the data length');
  }
  return { data, dims: [...dims] };
}

function sameShape(a: CpuTensor, b: CpuTensor, op: string): void {
  if (a.data.length !== b.data.length || a.dims.length !== b.dims.length
    || a.dims.some((d, k) => d !== b.dims[k])) {
    throw new BadInputError(`${op}: shapes [${a.dims}] and [${b.dims}] differ`, 'pass tensors of one shape');
  }
}

// Element-wise loops are written out per op, not as one loop over a callback: a shared loop
// calling add/sub/axpy closures is a megamorphic call per element, which made these ops ~7 % of
// a no-cache generation on the embedded model (the runtime-overhead bench).
function add(a: CpuTensor, b: CpuTensor): CpuTensor {
  sameShape(a, b, 'add');
  const x = a.data;
  const y = b.data;
  const out = new Float32Array(x.length);
  for (let k = 0; k < out.length; k++) out[k] = x[k]! + y[k]!;
  return { data: out, dims: a.dims };
}

function sub(a: CpuTensor, b: CpuTensor): CpuTensor {
  sameShape(a, b, 'sub');
  const x = a.data;
  const y = b.data;
  const out = new Float32Array(x.length);
  for (let k = 0; k < out.length; k++) out[k] = x[k]! - y[k]!;
  return { data: out, dims: a.dims };
}

/** x + scale·v. */
function axpy(a: CpuTensor, b: CpuTensor, scale: number): CpuTensor {
  sameShape(a, b, 'axpy');
  const x = a.data;
  const v = b.data;
  const out = new Float32Array(x.length);
  for (let k = 0; k < out.length; k++) out[k] = x[k]! + scale * v[k]!;
  return { data: out, dims: a.dims };
}

/** vU + w·(vC − vU) on a batch of 2 ordered [cond, uncond] → batch 1 (classifier-free guidance). */
function guidance(v2: CpuTensor, w: number): CpuTensor {
  if (v2.dims[0] !== 2) {
    throw new BadInputError(`guidance needs a batch of 2 [cond, uncond], got [${v2.dims}]`,
      'run the cond and uncond branches as one batch of 2');
  }
  const v = v2.data; // read once: on an ORT tensor `data` is a getter (a call per element otherwise)
  const half = v.length / 2;
  const out = new Float32Array(half);
  for (let k = 0; k < half; k++) {
    const vc = v[k]!;
    const vu = v[half + k]!;
    out[k] = vu + w * (vc - vu);
  }
  return { data: out, dims: [1, ...v2.dims.slice(1)] };
}

/**
 * t − (a⊙t + b), channel of flat element k = floor(k / inner) % channels (ertacache.md (c)).
 * Exported on plain arrays so calibration rectifies with exactly the runtime's arithmetic.
 */
export function rectifyAffineData(t: Float32Array, a: Float32Array, b: Float32Array, layout: ChannelLayout): Float32Array {
  const { channels, inner } = layout;
  if (a.length !== channels || b.length !== channels || t.length % (channels * inner) !== 0) {
    throw new BadInputError(
      `rectifyAffine: a/b have ${a.length}/${b.length} channels, layout ${channels}×${inner}, tensor of ${t.length}`,
      'the rectification was fitted for another model; re-run calibration for this model');
  }
  const out = new Float32Array(t.length);
  for (let k = 0; k < out.length; k++) {
    const ch = Math.floor(k / inner) % channels;
    const x = t[k]!;
    out[k] = x - (a[ch]! * x + b[ch]!);
  }
  return out;
}

function tile(x: CpuTensor, n: number): CpuTensor {
  if (x.dims[0] !== 1) throw new BadInputError(`tile needs batch 1, got [${x.dims}]`, 'tile a batch-1 tensor');
  const out = new Float32Array(x.data.length * n);
  for (let r = 0; r < n; r++) out.set(x.data, r * x.data.length);
  return { data: out, dims: [n, ...x.dims.slice(1)] };
}

/** mean|a − b| / mean|b| (TeaCache's indicator). */
function relL1Sync(a: CpuTensor, b: CpuTensor): number {
  sameShape(a, b, 'relL1');
  const x = a.data; // read once: on an ORT tensor `data` is a getter (three calls per element otherwise)
  const y = b.data;
  let num = 0;
  let den = 0;
  for (let k = 0; k < x.length; k++) {
    num += Math.abs(x[k]! - y[k]!);
    den += Math.abs(y[k]!);
  }
  return den > 0 ? num / den : num > 0 ? Infinity : 0;
}

/** A fresh CPU ops instance (each with its own read-back counter). */
export function createCpuOps(): CpuOps {
  let readbacks = 0;
  return {
    get readbacks() { return readbacks; },
    fromHost: (data, dims) => cpuTensor(data, dims),
    read: async (t) => { readbacks++; return t.data.slice(); }, // a copy: callers may write to it
    dims: (t) => t.dims,
    dispose: () => {},
    tile,
    add,
    sub,
    guidance,
    axpy,
    rectifyAffine: (t, a, b, layout) => ({ data: rectifyAffineData(t.data, a, b, layout), dims: t.dims }),
    relL1: async (a, b) => { readbacks++; return relL1Sync(a, b); },
  };
}
