// End to end on onnxruntime-node: the sampler with policy `none` over the split graphs
// (embed | blocks | head) lands on the same final sample as an independent plain Euler + CFG
// loop over model.onnx. This ties together the denoiser's t/y feeds, the split, the CPU ops and
// the sampler's clock: any disagreement shows up as a difference far above 1e-4.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createPolicy } from '../cache/registry.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { loadNodeModel } from './node-model.ts';
import { HAVE_MODEL, MODEL_DIR, maxAbsDiff, skipReason } from './test-model.ts';
import { classConditioning } from '../manifest/conditioning.ts';

const STEPS = 12; // short: the point is agreement, not image quality
const GUIDANCE = 3;
const LABEL = 7;
const SEED = 3;

/** x ← x − Δ·(vU + w·(vC − vU)) with model.onnx on a [cond, uncond] batch; no sampler code. */
async function plainLoop(): Promise<Float32Array> {
  const m = await loadNodeModel(MODEL_DIR, { graphs: 'single' });
  try {
    const session = m.sessions.model!;
    const sigmas = flowMatchSigmas(STEPS, m.manifest.scheduler.shift);
    const n = 784;
    const x = gaussianNoise(SEED, n);
    for (let i = 0; i < STEPS; i++) {
      const batch = new Float32Array(2 * n);
      batch.set(x, 0);
      batch.set(x, n);
      const out = await session.run({
        x: new ort.Tensor('float32', batch, [2, 1, 28, 28]),
        t: new ort.Tensor('float32', Float32Array.of(sigmas[i]!, sigmas[i]!), [2]),
        y: new ort.Tensor('int32', Int32Array.of(LABEL, classConditioning(m.manifest).nullLabel), [2]),
      });
      const v = out['v']!.data as Float32Array;
      const dt = sigmas[i]! - sigmas[i + 1]!;
      for (let k = 0; k < n; k++) x[k] = x[k]! - dt * (v[n + k]! + GUIDANCE * (v[k]! - v[n + k]!));
    }
    return x;
  } finally {
    await m.release();
  }
}

async function splitSampler(): Promise<Float32Array> {
  const m = await loadNodeModel(MODEL_DIR, { graphs: 'split' });
  try {
    const noise = m.ops.fromHost(gaussianNoise(SEED, 784), [1, 1, 28, 28]);
    const { x, stats } = await sample({
      denoiser: m.denoiser,
      ops: m.ops,
      sigmas: flowMatchSigmas(STEPS, m.manifest.scheduler.shift),
      policy: createPolicy('none'),
      noise,
      cond: { label: LABEL, nullLabel: classConditioning(m.manifest).nullLabel },
      guidance: GUIDANCE,
    });
    expect(stats.computedSteps).toBe(STEPS);
    return m.ops.read(x);
  } finally {
    await m.release();
  }
}

const suite = `policy none: split graphs + sampler = plain loop over model.onnx (${MODEL_DIR})`;
if (!HAVE_MODEL) console.warn(`${suite} ${skipReason('model')}`);

describe.skipIf(!HAVE_MODEL)(suite, () => {
  it(`agrees to 1e-4 on the final sample (${STEPS} steps, w = ${GUIDANCE})`, async () => {
    const [reference, split] = [await plainLoop(), await splitSampler()];
    expect(split.some((v) => v !== 0)).toBe(true);
    expect(maxAbsDiff(split, reference)).toBeLessThanOrEqual(1e-4);
  });
});
