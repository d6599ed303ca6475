// Calibration error of a plan: run the real sampler (the inference code path) on every
// calibration sample and compare its final sample with the full-compute one.

import { psnr, toUnitRange } from '../core/metrics.ts';
import { sample } from '../core/sampler.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { CachePolicy, Denoiser, TensorOps } from '../core/types.ts';
import type { VariantError } from '../cache/plan.ts';
import type { CalibBatch } from './batch.ts';

export interface EvalSetup<T> {
  denoiser: Denoiser<T>;
  ops: TensorOps<T>;
  batch: CalibBatch;
  sigmas: Float64Array;
  guidance: number;
  timeMode: TimeMode;
  nullLabel: number;
  /** Model pixel range mapped to [0, 1] for PSNR. Default [−1, 1]. */
  pixelRange?: readonly [number, number];
}

/** Mean L1, mean PSNR and mean computed steps of `policy` vs `reference` (N × sampleSize). */
export async function evaluatePolicy<T>(setup: EvalSetup<T>, policy: CachePolicy, reference: Float32Array): Promise<VariantError> {
  const { batch, ops } = setup;
  const [lo, hi] = setup.pixelRange ?? [-1, 1];
  const n = batch.sampleSize;
  let l1 = 0;
  let db = 0;
  let computed = 0;
  for (let p = 0; p < batch.samples; p++) {
    const noise = ops.fromHost(batch.noise.slice(p * n, (p + 1) * n), batch.xDims);
    const { x, stats } = await sample({
      denoiser: setup.denoiser, ops, sigmas: setup.sigmas, policy, noise, guidance: setup.guidance,
      cond: { label: batch.classes[p]!, nullLabel: setup.nullLabel }, timeMode: setup.timeMode,
    });
    const out = await ops.read(x);
    ops.dispose(x);
    ops.dispose(noise);
    const ref = reference.subarray(p * n, (p + 1) * n);
    for (let k = 0; k < n; k++) l1 += Math.abs(out[k]! - ref[k]!) / (n * batch.samples);
    db += psnr(toUnitRange(out, lo, hi), toUnitRange(ref, lo, hi)) / batch.samples;
    computed += stats.computedSteps / batch.samples;
  }
  return { computedSteps: computed, l1, psnr: Number.isFinite(db) ? db : null };
}
