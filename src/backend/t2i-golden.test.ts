// The tiny text-to-image pipeline against PyTorch (tools/export_t2i.py wrote the goldens):
// every graph (max abs diff ≤ 1e-4), the tokenizer's ids (@huggingface/tokenizers vs the Python
// `tokenizers` library), the runtime's seeded noise (bit for bit: the reference loop re-implements
// it in Python), and a whole prompt → image run through createRuntime on onnxruntime-node against
// the PyTorch reference loop (Euler, CFG with the empty negative prompt, VAE decode).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianNoise } from '../core/rng.ts';
import type { GraphName } from '../manifest/types.ts';
import type { GenerateEvent, RuntimeApi } from '../runtime/api.ts';
import { createRuntime } from '../runtime/create-runtime.ts';
import { createNodeBackend } from './node-backend.ts';
import { loadNodeModel, type NodeModel } from './node-model.ts';
import { maxAbsDiff, readGoldenIndex, readGoldenTensor, runPipelineGraphGolden, type GoldenIndex } from './test-model.ts';

export const T2I_DIR = 'public/models/tiny-t2i';
export const T2I_GOLDEN = 'tools/golden/tiny-t2i';
const HAVE = existsSync(`${T2I_DIR}/manifest.json`) && existsSync(`${T2I_GOLDEN}/golden.json`);

interface T2iGolden extends GoldenIndex {
  tokens: { text: string; ids: number[]; length: number }[];
  reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; tolerance: number };
}

describe.skipIf(!HAVE)('tiny-t2i against PyTorch', () => {
  let index: T2iGolden;
  let model: NodeModel;
  const golden = (graph: string, side: 'inputs' | 'outputs', name: string) => readGoldenTensor(index.graphs[graph]![side][name]!, T2I_GOLDEN);

  beforeAll(async () => {
    index = (await readGoldenIndex(T2I_GOLDEN)) as T2iGolden;
    model = await loadNodeModel(T2I_DIR);
  });
  afterAll(() => model?.release());

  for (const name of ['textEncoder', 'context', 'embed', 'blocks', 'head', 'vaeDecoder'] as GraphName[]) {
    it(`${name} reproduces PyTorch (max abs diff ≤ 1e-4)`, async () => {
      for (const r of await runPipelineGraphGolden(T2I_DIR, T2I_GOLDEN, index, name)) {
        expect(r.dims).toEqual(r.goldenDims);
        expect(r.diff, `${name}.${r.output}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('tokenizes as the Python tokenizers library does (truncated / padded to maxTokens)', () => {
    for (const t of index.tokens) {
      const got = model.tokenizer!.tokenize(t.text);
      expect([...got.ids], t.text).toEqual(t.ids);
      expect(got.length, t.text).toBe(t.length);
    }
  });

  it('the runtime noise is the reference loop\'s noise, bit for bit', async () => {
    const ref = await golden('reference', 'inputs', 'noise');
    expect(Buffer.from(gaussianNoise(index.reference.seed, ref.length).buffer).equals(Buffer.from(ref.buffer))).toBe(true);
  });

  describe('prompt → image through createRuntime on onnxruntime-node', () => {
    let rt: RuntimeApi;
    beforeAll(async () => {
      rt = createRuntime(createNodeBackend(), { baseUrl: pathToFileURL(resolve(T2I_DIR)).href + '/' });
      const info = await rt.load('manifest.json');
      expect(info).toMatchObject({ conditioning: 'text', maxTokens: 8, image: { channels: 3, height: 32, width: 32 }, classes: 0 });
    });
    afterAll(() => rt?.dispose());

    it('matches the PyTorch reference loop (Euler, CFG vs the negative prompt, VAE decode)', async () => {
      const r = index.reference;
      const events: GenerateEvent[] = [];
      const out = await rt.generate({ prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps, guidance: r.guidance, previewEvery: 3 },
        (e) => void events.push(e));
      const want = await golden('reference', 'outputs', 'image');
      expect(out.image.length).toBe(3 * 32 * 32);
      expect(maxAbsDiff(out.image, want)).toBeLessThanOrEqual(r.tolerance);
      expect(out.frame).toMatchObject({ width: 32, height: 32 });
      const previews = events.filter((e) => e.type === 'preview');
      expect(previews.map((e) => e.i)).toEqual([2, 5]);
      expect(previews.map((e) => e.type === 'preview' && [e.frame.width, e.frame.height])).toEqual([[8, 8], [8, 8]]);
      expect(out.stats).toMatchObject({ encodedPrompts: 2, steps: r.steps, computedSteps: r.steps, previews: 2 });
      // 2 prompts encoded, 2 previews, 1 decoded image: every read-back of the run
      expect(out.stats.readbacks).toBe(5);
    });

    it('a new seed with the same prompts re-encodes nothing (the embedding LRU)', async () => {
      const r = index.reference;
      const a = await rt.generate({ prompt: r.prompt, seed: 99, steps: 2, guidance: r.guidance });
      expect(a.stats.encodedPrompts).toBe(0);
      const b = await rt.generate({ prompt: 'a blue fish', seed: 99, steps: 2, guidance: r.guidance });
      expect(b.stats.encodedPrompts).toBe(1); // the empty negative prompt is still cached
      expect(maxAbsDiff(a.image, b.image)).toBeGreaterThan(1e-3); // the prompt changes the image
      const c = await rt.generate({ prompt: 'a blue fish', seed: 99, steps: 2, guidance: 1 });
      expect(c.stats.encodedPrompts).toBe(0); // w = 1: the negative prompt is not needed at all
    });

    it('runs the shipped ertacache plan (fitted on the calibration prompts) on an evaluation prompt', async () => {
      const plan = JSON.parse(await readFile(`${T2I_DIR}/plans/ertacache-8-b5.json`, 'utf8')) as { reuse: number[] };
      const out = await rt.generate({ prompt: 'a silver robot', seed: 3, steps: 8, policy: { kind: 'ertacache', budget: 5 } });
      expect(out.stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []))).toEqual(plan.reuse);
      expect(out.stats.planId).toBe('plans/ertacache-8-b5.json');
    });

    it('truncates an over-long prompt with a warning event', async () => {
      const events: GenerateEvent[] = [];
      const long = 'a tiny glossy gold star on a dark blue cloud with a sad ghost';
      const out = await rt.generate({ prompt: long, seed: 1, steps: 1 }, (e) => void events.push(e));
      const warning = events.find((e) => e.type === 'warning');
      expect(warning).toMatchObject({ type: 'warning', jobId: out.jobId });
      expect(warning?.type === 'warning' && warning.message).toMatch(/14 tokens; the text encoder reads 8/);
    });

    it('a label on a text model, or no prompt, is CONDITIONING_MISMATCH', async () => {
      await expect(rt.generate({ label: 3, seed: 1 })).rejects.toMatchObject({ code: 'CONDITIONING_MISMATCH' });
      await expect(rt.generate({ seed: 1 })).rejects.toMatchObject({ code: 'CONDITIONING_MISMATCH' });
      await expect(rt.generate({ prompt: 7 as unknown as string, seed: 1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    });
  });
});
