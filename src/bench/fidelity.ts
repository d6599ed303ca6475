// Fidelity of cache policies against full compute, on one model, same seeds and conditions
// (shared/design/evaluation.md): PSNR / SSIM vs the no-cache image, class accuracy and the
// Fréchet distance of classifier features. Pure: the denoiser, ops and classifier are injected.

import { classAccuracy, argmaxRows, frechetDistance, psnr, ssim, toUnitRange } from '../core/metrics.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import type { CachePolicy, Denoiser, Dims, TensorOps } from '../core/types.ts';

export interface EvalCase {
  label: number;
  seed: number;
}

/** The evaluation set of evaluation.md: 10 classes × seeds 1000–1009. */
export function evaluationCases(classes = 10, seeds = 10, firstSeed = 1000): EvalCase[] {
  const out: EvalCase[] = [];
  for (let label = 0; label < classes; label++) {
    for (let s = 0; s < seeds; s++) out.push({ label, seed: firstSeed + s });
  }
  return out;
}

export interface Classified {
  logits: Float32Array; // [n, classes]
  features: Float32Array; // [n, featureDim]
  featureDim: number;
}

export interface PolicyUnderTest {
  /** Row name, e.g. 'ertacache'. */
  policy: string;
  /** Target computed steps (null for 'none'). */
  budget: number | null;
  /** A fresh policy instance per sample. */
  create: () => CachePolicy;
}

export interface FidelityRow {
  policy: string;
  budget: number | null;
  computedSteps: number; // mean over the evaluation set
  psnr: number; // mean dB vs full compute, images clamped to [−1, 1] and mapped to [0, 1]
  ssim: number;
  classAccuracy: number | null;
  fd: number | null;
}

export interface FidelityOptions<T> {
  denoiser: Denoiser<T>;
  ops: TensorOps<T>;
  sigmas: ArrayLike<number>;
  guidance: number;
  nullLabel: number;
  xDims: Dims; // [1, C, H, W]
  cases: EvalCase[];
  policies: PolicyUnderTest[];
  /** Scores a batch of images [n, C, H, W] in model space. */
  classify?: (images: Float32Array, n: number) => Promise<Classified>;
  /** Features of real held-out images, [m, featureDim], for the Fréchet distance. */
  realFeatures?: Float32Array;
  onProgress?: (message: string) => void;
}

/** Generate every case with one policy; returns the final samples, concatenated, and mean computed steps. */
export async function generateAll<T>(o: FidelityOptions<T>, create: () => CachePolicy): Promise<{ images: Float32Array; computed: number }> {
  const n = o.xDims.reduce((p, d) => p * d, 1);
  const images = new Float32Array(o.cases.length * n);
  let computed = 0;
  for (const [k, c] of o.cases.entries()) {
    const noise = o.ops.fromHost(gaussianNoise(c.seed, n), o.xDims);
    try {
      const { x, stats } = await sample({
        denoiser: o.denoiser, ops: o.ops, sigmas: o.sigmas, policy: create(), noise,
        cond: { label: c.label, nullLabel: o.nullLabel }, guidance: o.guidance,
      });
      images.set(await o.ops.read(x), k * n);
      o.ops.dispose(x);
      computed += stats.computedSteps;
    } finally {
      o.ops.dispose(noise);
    }
  }
  return { images, computed: computed / o.cases.length };
}

function imageSlice(all: Float32Array, k: number, n: number): Float32Array {
  return toUnitRange(all.subarray(k * n, (k + 1) * n));
}

async function scoreSamples<T>(o: FidelityOptions<T>, images: Float32Array) {
  if (!o.classify) return { classAccuracy: null, fd: null };
  const { logits, features, featureDim } = await o.classify(images, o.cases.length);
  const acc = classAccuracy(argmaxRows(logits, logits.length / o.cases.length), o.cases.map((c) => c.label));
  const fd = o.realFeatures ? frechetDistance(features, o.realFeatures, featureDim) : null;
  return { classAccuracy: acc, fd };
}

/** One row per policy; the first row is always the full-compute reference ('none'). */
export async function evaluateFidelity<T>(o: FidelityOptions<T>, reference: PolicyUnderTest): Promise<FidelityRow[]> {
  const [, c, h, w] = o.xDims as [number, number, number, number];
  const n = c * h * w;
  const ref = await generateAll(o, reference.create);
  const rows: FidelityRow[] = [{
    policy: reference.policy, budget: reference.budget, computedSteps: ref.computed, psnr: Infinity, ssim: 1,
    ...(await scoreSamples(o, ref.images)),
  }];
  for (const p of o.policies) {
    o.onProgress?.(`fidelity: ${p.policy} budget ${p.budget}`);
    const run = await generateAll(o, p.create);
    let ps = 0;
    let ss = 0;
    for (let k = 0; k < o.cases.length; k++) {
      const a = imageSlice(run.images, k, n);
      const b = imageSlice(ref.images, k, n);
      ps += Math.min(psnr(a, b), 100); // identical images count as 100 dB, not Infinity
      ss += ssim(a, b, w, h, { channels: c });
    }
    rows.push({
      policy: p.policy, budget: p.budget, computedSteps: run.computed,
      psnr: ps / o.cases.length, ssim: ss / o.cases.length, ...(await scoreSamples(o, run.images)),
    });
  }
  return rows;
}
