// The class-conditional path must not change while pipelines are added (issue 11, item 7):
// a few (seed, label, policy) runs of the embedded model through the core sampler on
// onnxruntime-node, pinned by the sha256 of their exact output bytes. A change to the sampler,
// the denoiser, the policies or the noise that moves one bit fails here.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicy } from '../cache/registry.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { loadNodeModel, type NodeModel } from '../backend/node-model.ts';
import { HAVE_MODEL, MODEL_DIR, skipReason } from '../backend/test-model.ts';
import { findPlan } from '../manifest/plans.ts';
import { classConditioning } from '../manifest/conditioning.ts';

interface Case {
  seed: number;
  label: number;
  policy: string;
  budget?: number;
  graphs: 'split' | 'single';
  sha256: string;
}

// Pinned from main at 353789a (before any pipeline code), 8 steps, the manifest's guidance. One
// intra-op thread: the same bytes came out with ORT's default (2 threads here); one keeps a
// many-core CI machine from splitting reductions differently. The ertacache case was re-pinned by
// issue 10: its plan was recalibrated (plan version 2: φ by direct search), which moves its image
// by design; the sampler's arithmetic for the other policies is unchanged (their hashes stand).
// Re-pinned again when the 8-step plans were recalibrated with the reuse-set search and three
// per-step φ sweeps (φ at the reused steps 0.25 → 0.1875, 0.25, 0.25): an intended change.
const CASES: Case[] = [
  { seed: 1, label: 7, policy: 'none', graphs: 'split', sha256: '216e2845de8d1e58dde1733896bec005d982f2ada533eea39eb87f98d34b6e40' },
  { seed: 42, label: 3, policy: 'uniform', graphs: 'split', sha256: '2791aa954b15cbb1c94bf96fea50df4e077caa00d873c95d0901d1ecce95c190' },
  { seed: 5, label: 0, policy: 'ertacache', budget: 5, graphs: 'split', sha256: 'ac86ea07fdc2329de3b23a111d1f8bb190933404d704158e45e50fa3e2913936' },
  { seed: 9, label: 9, policy: 'teacache', budget: 5, graphs: 'split', sha256: '4c1903ecb3cfe2249374efc0c5f846c9bbe2759f2d3a2809e1bcc11670a0735f' },
  { seed: 11, label: 4, policy: 'magcache', budget: 5, graphs: 'single', sha256: '4eb48a8f28640dc5c0351b63bd3a22c380b8c38ccc812d48964bfec0481bdc33' },
];
const STEPS = 8;

async function runCase(model: NodeModel, c: Case): Promise<string> {
  const m = model.manifest;
  let plan: unknown;
  if (c.budget !== undefined) {
    const entry = findPlan(m, c.policy, STEPS, { budget: c.budget });
    plan = JSON.parse(await readFile(join(MODEL_DIR, entry.file), 'utf8'));
  }
  const policy = createPolicy(c.policy, { plan, steps: STEPS, modelHash: m.modelHash });
  const { channels, height, width } = m.latent;
  const noise = model.ops.fromHost(gaussianNoise(c.seed, channels * height * width), [1, channels, height, width]);
  const r = await sample({
    denoiser: model.denoiser, ops: model.ops, policy, noise, guidance: m.scheduler.defaultGuidance,
    sigmas: flowMatchSigmas(STEPS, m.scheduler.shift), cond: { label: c.label, nullLabel: classConditioning(m).nullLabel },
  });
  const x = await model.ops.read(r.x);
  model.ops.dispose(r.x);
  model.ops.dispose(noise);
  return createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
}

const suite = `class-conditional goldens on ${MODEL_DIR}`;
if (!HAVE_MODEL) console.warn(`${suite} ${skipReason('model')}`);

describe.skipIf(!HAVE_MODEL || MODEL_DIR !== 'public/models/mnist-dit')(suite, () => {
  const models: Partial<Record<'split' | 'single', NodeModel>> = {};
  beforeAll(async () => {
    models.split = await loadNodeModel(MODEL_DIR, { graphs: 'split', sessionOptions: { intraOpNumThreads: 1 } });
    models.single = await loadNodeModel(MODEL_DIR, { graphs: 'single', sessionOptions: { intraOpNumThreads: 1 } });
  });
  afterAll(async () => {
    await models.split?.release();
    await models.single?.release();
  });

  for (const c of CASES) {
    it(`seed ${c.seed}, label ${c.label}, ${c.policy}${c.budget ? ` b${c.budget}` : ''} (${c.graphs}) is bit-identical`, async () => {
      expect(await runCase(models[c.graphs]!, c)).toBe(c.sha256);
    });
  }
});
