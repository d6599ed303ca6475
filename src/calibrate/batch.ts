// The calibration batch and a host-side view of the split denoiser over it.
// Calibration needs per-sample statistics, so every graph output is read back to the host
// (ops.read) and every input is uploaded (ops.fromHost): it only uses Denoiser + TensorOps,
// so the same code runs on CPU ops in tests and on onnxruntime-node in the CLI.

import { BadInputError, DiffusionError } from '../core/errors.ts';
import { gaussianNoise } from '../core/rng.ts';
import type { ChannelLayout, Denoiser, Dims, SplitDenoiser, TensorOps } from '../core/types.ts';

/** Evaluation seeds (shared/design/evaluation.md): calibration must never see them. */
export const EVAL_SEEDS: readonly number[] = Array.from({ length: 10 }, (_, k) => 1000 + k);

export class CalibrationSeedError extends DiffusionError {
  constructor(seeds: number[]) {
    super('CALIBRATION_SEED', `calibration seeds ${seeds.join(', ')} are evaluation seeds (1000–1009)`,
      'pick calibration seeds outside 1000–1009 (the default is 0 and 1), so evaluation stays held out');
  }
}

/** N samples = seeds × labels, each run as `branches` rows [cond, uncond] (interleaved per sample). */
export interface CalibBatch {
  samples: number;
  sampleSize: number; // elements of one sample x: C·H·W
  xDims: Dims; // one sample, [1, C, H, W]
  branches: 1 | 2;
  seeds: number[]; // per sample
  classes: number[]; // per sample
  rowLabels: Int32Array; // per row: [label_0, null, label_1, null, …]
  noise: Float32Array; // N × sampleSize, sample p from gaussianNoise(seed_p), as the runtime draws it
}

export function makeBatch(seeds: number[], labels: number[], nullLabel: number, xDims: Dims, guidance: number): CalibBatch {
  const bad = seeds.filter((s) => EVAL_SEEDS.includes(s));
  if (bad.length > 0) throw new CalibrationSeedError(bad);
  if (seeds.length === 0 || labels.length === 0 || xDims[0] !== 1) {
    throw new BadInputError('calibration needs ≥ 1 seed, ≥ 1 label and xDims [1, C, H, W]', 'pass seeds, labels and xDims');
  }
  const sampleSize = xDims.reduce((p, d) => p * d, 1);
  const branches = guidance === 1 ? 1 : 2;
  const pairs = seeds.flatMap((seed) => labels.map((label) => [seed, label] as const));
  const noise = new Float32Array(pairs.length * sampleSize);
  pairs.forEach(([seed], p) => noise.set(gaussianNoise(seed, sampleSize), p * sampleSize));
  const rowLabels = Int32Array.from(pairs.flatMap(([, l]) => (branches === 2 ? [l, nullLabel] : [l])));
  return {
    samples: pairs.length, sampleSize, xDims: [...xDims], branches,
    seeds: pairs.map(([s]) => s), classes: pairs.map(([, l]) => l), rowLabels, noise,
  };
}

/** Host arrays of one embed call over all rows. */
export interface Embedded {
  h: Float32Array;
  c: Float32Array;
  mod0: Float32Array;
}

/** The split denoiser over host arrays of the whole batch, `chunk` samples per graph call. */
export interface HostModel {
  readonly batch: CalibBatch;
  readonly guidance: number;
  readonly hiddenLayout: ChannelLayout;
  readonly outputLayout: ChannelLayout;
  embed(x: Float32Array, sigma: number): Promise<Embedded>;
  blocks(e: Embedded): Promise<Float32Array>;
  /** Raw head output per row (before guidance). */
  head(z: Float32Array, e: Embedded): Promise<Float32Array>;
}

function requireSplit<T>(denoiser: Denoiser<T>): SplitDenoiser<T> {
  if (denoiser.kind !== 'split') {
    throw new BadInputError('calibration needs the split model (embed | blocks | head)',
      'load the split graphs; a single-graph model has no residual to calibrate');
  }
  return denoiser;
}

export function createHostModel<T>(denoiser: Denoiser<T>, ops: TensorOps<T>, batch: CalibBatch,
  guidance: number, chunk = batch.samples): HostModel {
  const den = requireSplit(denoiser);
  const rowsPerCall = Math.max(1, Math.floor(chunk)) * batch.branches;
  const totalRows = batch.samples * batch.branches;
  const rowDims = new Map<string, Dims>(); // learned from the first embed call
  const xRow = batch.xDims.slice(1);

  /** Split host arrays by rows, run `call` per chunk, concatenate its host outputs. */
  async function chunked(inputs: { name: string; data: Float32Array }[], outputs: string[],
    call: (ts: T[], labels: Int32Array) => Promise<T[]>): Promise<Float32Array[]> {
    const out: Float32Array[][] = outputs.map(() => []);
    for (let r0 = 0; r0 < totalRows; r0 += rowsPerCall) {
      const rows = Math.min(rowsPerCall, totalRows - r0);
      const ts = inputs.map(({ name, data }) => {
        const per = data.length / totalRows;
        return ops.fromHost(data.slice(r0 * per, (r0 + rows) * per), [rows, ...rowDims.get(name)!]);
      });
      const results = await call(ts, batch.rowLabels.slice(r0, r0 + rows));
      for (const t of ts) ops.dispose(t);
      for (let k = 0; k < results.length; k++) {
        rowDims.set(outputs[k]!, ops.dims(results[k]!).slice(1));
        out[k]!.push(await ops.read(results[k]!));
        ops.dispose(results[k]!);
      }
    }
    return out.map(concat);
  }

  rowDims.set('x', xRow);
  return {
    batch, guidance, hiddenLayout: den.hiddenLayout, outputLayout: den.outputLayout,
    async embed(x, sigma) {
      const [h, c, mod0] = await chunked([{ name: 'x', data: tileRows(x, batch) }], ['h', 'c', 'mod0'],
        async ([xt], labels) => {
          const e = await den.embed(xt!, sigma, labels);
          return [e.h, e.c, e.mod0];
        });
      return { h: h!, c: c!, mod0: mod0! };
    },
    async blocks(e) {
      const [z] = await chunked([{ name: 'h', data: e.h }, { name: 'c', data: e.c }], ['z'],
        async ([h, c], labels) => [await den.blocks(h!, c!, labels)]);
      return z!;
    },
    async head(z, e) {
      const [v] = await chunked([{ name: 'h', data: z }, { name: 'c', data: e.c }], ['v'],
        async ([zt, c]) => [await den.head(zt!, c!)]);
      return v!;
    },
  };
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** One row per branch for every sample: [x_0, x_0, x_1, x_1, …] (the sampler's tile, batched). */
function tileRows(x: Float32Array, batch: CalibBatch): Float32Array {
  if (batch.branches === 1) return x;
  const n = batch.sampleSize;
  const out = new Float32Array(x.length * 2);
  for (let p = 0; p < batch.samples; p++) {
    const s = x.subarray(p * n, (p + 1) * n);
    out.set(s, 2 * p * n);
    out.set(s, (2 * p + 1) * n);
  }
  return out;
}
