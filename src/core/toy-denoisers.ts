// Analytic split denoisers over CpuTensor, for tests and for checking calibration end to end.
// Not used at run time. Tensors are allocated through the injected ops so tests can count
// what the sampler disposes.

import type { CpuTensor } from './ops.ts';
import type { Dims, SingleDenoiser, SplitDenoiser, TensorOps } from './types.ts';

type Row = (row: Float32Array, sigma: number, label: number) => Float32Array;

/**
 * Build a split denoiser with one token per pixel and hidden size 2: h = (x, 0),
 * c = (σ, label), z = h + (res0, res1), v = z₀. `residual` gives res0 per row from (x, σ, label),
 * so v = x + residual(x, σ, label) at computed steps and x + the stale residual at reused ones.
 * mod0 = h·(1 + σ) + σ stands in for block 0's modulated input.
 */
export function createToySplit(ops: TensorOps<CpuTensor>, xDims: Dims, residual: Row): SplitDenoiser<CpuTensor> {
  const pixels = xDims.slice(1).reduce((p, d) => p * d, 1);
  const channels = xDims[1] ?? 1;
  return {
    kind: 'split',
    hiddenLayout: { channels: 2, inner: 1 },
    outputLayout: { channels, inner: pixels / channels },
    async embed(x, sigma, labels) {
      const rows = labels.length;
      const h = new Float32Array(rows * pixels * 2);
      const mod0 = new Float32Array(rows * pixels * 2);
      const c = new Float32Array(rows * 2);
      for (let r = 0; r < rows; r++) {
        c[2 * r] = sigma;
        c[2 * r + 1] = labels[r]!;
        for (let p = 0; p < pixels; p++) {
          const v = x.data[r * pixels + p]!;
          h[2 * (r * pixels + p)] = v;
          mod0[2 * (r * pixels + p)] = v * (1 + sigma) + sigma;
          mod0[2 * (r * pixels + p) + 1] = sigma;
        }
      }
      return {
        h: ops.fromHost(h, [rows, pixels, 2]), c: ops.fromHost(c, [rows, 2]), mod0: ops.fromHost(mod0, [rows, pixels, 2]),
      };
    },
    async blocks(h, c) {
      const rows = h.dims[0]!;
      const z = Float32Array.from(h.data);
      for (let r = 0; r < rows; r++) {
        const x = new Float32Array(pixels);
        for (let p = 0; p < pixels; p++) x[p] = h.data[2 * (r * pixels + p)]!;
        const res = residual(x, c.data[2 * r]!, c.data[2 * r + 1]!);
        for (let p = 0; p < pixels; p++) {
          z[2 * (r * pixels + p)]! += res[p]!;
          z[2 * (r * pixels + p) + 1]! += c.data[2 * r]! * x[p]!; // a σ-dependent hidden channel
        }
      }
      return ops.fromHost(z, h.dims);
    },
    async head(z) {
      const rows = z.dims[0]!;
      const v = new Float32Array(rows * pixels);
      for (let k = 0; k < v.length; k++) v[k] = z.data[2 * k]!;
      return ops.fromHost(v, [rows, ...xDims.slice(1)]);
    },
  };
}

/**
 * The golden toy: residual = σ·g(label) with g(label) = 1 + label/4, and g(null) = 0
 * (null = 10), so v = x + σ·g. Every number of a short run can be computed by hand.
 */
export function createGoldenToy(ops: TensorOps<CpuTensor>, xDims: Dims = [1, 1, 1, 1], nullLabel = 10) {
  return createToySplit(ops, xDims, (x, sigma, label) => {
    const g = label === nullLabel ? 0 : 1 + label / 4;
    return new Float32Array(x.length).fill(sigma * g);
  });
}

/** Class-conditional Gaussian data x₀ ~ N(μ_label, s²) per pixel (null label: its own μ, s). */
export interface GaussianClasses {
  mean: (label: number, pixel: number) => number;
  std: (label: number) => number;
}

/**
 * The exact rectified-flow velocity for Gaussian data: with a = 1 − σ,
 * x = a·x₀ + σ·ε ⇒ v*(x, σ) = E[ε − x₀ | x] = (σ − a·s²)/(a²s² + σ²)·(x − a·μ) − μ.
 * As a split toy the blocks add v* − x, so the residual is state- and σ-dependent.
 */
export function createGaussianFlowToy(ops: TensorOps<CpuTensor>, xDims: Dims, data: GaussianClasses) {
  return createToySplit(ops, xDims, (x, sigma, label) => {
    const a = 1 - sigma;
    const s2 = data.std(label) ** 2;
    const gain = (sigma - a * s2) / (a * a * s2 + sigma * sigma);
    const res = new Float32Array(x.length);
    for (let p = 0; p < x.length; p++) {
      const mu = data.mean(label, p);
      res[p] = gain * (x[p]! - a * mu) - mu - x[p]!;
    }
    return res;
  });
}

/** A split denoiser run as one graph: forward = head(blocks(embed(x))). */
export function asSingle(split: SplitDenoiser<CpuTensor>, ops: TensorOps<CpuTensor>): SingleDenoiser<CpuTensor> {
  return {
    kind: 'single',
    outputLayout: split.outputLayout,
    async forward(x, sigma, labels) {
      const { h, c, mod0 } = await split.embed(x, sigma, labels);
      const z = await split.blocks(h, c);
      const v = await split.head(z, c);
      for (const t of [h, c, mod0, z]) ops.dispose(t);
      return v;
    },
  };
}
