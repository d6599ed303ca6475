// The overhead bench compares like with like: its bare session.run loop computes the same image
// as the runtime's no-cache sampler, on a class model and on a text model.

import { describe, expect, it } from 'vitest';
import { loadNodeModel } from '../backend/node-model.ts';
import { bareLoop, classFeeds, textFeeds } from '../bench/overhead.ts';
import { createPolicy } from '../cache/registry.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { latentDims } from '../manifest/types.ts';
import { encodePrompts } from '../runtime/prompts.ts';
import { nodeOverhead, OVERHEAD_PROMPT } from './bench-overhead.ts';

async function bothLoops(dir: string, steps: number) {
  const model = await loadNodeModel(dir);
  try {
    const m = model.manifest;
    const xDims = [1, ...latentDims(m.latent)];
    const sigmas = flowMatchSigmas(steps, m.scheduler.shift);
    const text = m.conditioning.type === 'text'
      ? (await encodePrompts({ tokenizer: model.tokenizer!, graphs: model.pipeline!, modelHash: m.modelHash }, [OVERHEAD_PROMPT, ''])).rows
      : null;
    const feeds = text ? textFeeds(model.ort, m, text) : classFeeds(model.ort, m, 3);
    const denoiser = text ? model.pipeline!.bind(text) : model.denoiser;
    const cond = text ? { label: 0, nullLabel: 1 } : { label: 3, nullLabel: m.conditioning.type === 'class' ? m.conditioning.nullLabel : 0 };
    const bare = await bareLoop({ ort: model.ort, sessions: model.sessions, sigmas, guidance: 2.5, feeds, xDims }, 7);
    const noise = model.ops.fromHost(gaussianNoise(7, bare.length), xDims);
    const { x } = await sample({ denoiser, ops: model.ops, sigmas, policy: createPolicy('none'), noise, cond, guidance: 2.5 });
    feeds.release();
    return { bare, runtime: await model.ops.read(x) };
  } finally {
    await model.release();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);

describe('runtime overhead bench', () => {
  it('bare loop = runtime sampler on the class model (mnist-dit, 6 steps)', async () => {
    const { bare, runtime } = await bothLoops('public/models/mnist-dit', 6);
    expect(bare.length).toBe(784);
    expect(maxDiff(bare, runtime)).toBeLessThan(1e-5);
  });

  it('bare loop = runtime sampler on the text model (tiny-t2i, 6 steps)', async () => {
    const { bare, runtime } = await bothLoops('public/models/tiny-t2i', 6);
    expect(maxDiff(bare, runtime)).toBeLessThan(1e-5);
    expect(bare.some((v) => v !== 0)).toBe(true);
  });

  it('bare loop = runtime sampler on a model with pooled text and a guidance embedding (imported Flux dev, 4 steps)', async () => {
    const { bare, runtime } = await bothLoops('public/models/imported-flux-tiny', 4);
    expect(maxDiff(bare, runtime)).toBeLessThan(1e-5);
    expect(bare.some((v) => v !== 0)).toBe(true);
  });

  it('bare loop = runtime sampler on a video model, and the bench measures it (imported Wan, [1, C, F, H, W] latents)', async () => {
    const { bare, runtime } = await bothLoops('public/models/imported-wan-tiny', 3);
    expect(maxDiff(bare, runtime)).toBeLessThan(1e-5);
    const o = await nodeOverhead('public/models/imported-wan-tiny', 2, 1);
    expect(o).toMatchObject({ model: 'wan-tiny', pairs: 2 });
    expect(o.msRuntime).toBeGreaterThan(0);
  });

  it('measures both sides on the text test model', async () => {
    const o = await nodeOverhead('public/models/tiny-t2i', 3, 1);
    expect(o).toMatchObject({ model: 'tiny-t2i', pairs: 3, steps: 8 });
    for (const v of [o.msRuntime, o.msBare, o.cpuMsRuntime!, o.cpuMsBare!]) expect(v).toBeGreaterThan(0);
    expect(o.overheadOfMedians).toBeCloseTo(o.msRuntime / o.msBare - 1, 10);
    expect(o.overhead).toBeGreaterThan(-1); // the pairs' median ratio − 1 (its arithmetic: speed.test.ts pairedSpeedup)
    expect(Number.isFinite(o.overhead)).toBe(true);
  });
});
