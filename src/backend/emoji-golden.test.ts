// The trained text-to-emoji pipeline (issue 12) against PyTorch (tools/emoji/export.py --golden wrote
// the goldens): every graph, the tokenizer's ids (@huggingface/tokenizers vs the Python `tokenizers`
// library over a 4k-word vocabulary), and a whole prompt → image run through createRuntime on
// onnxruntime-node against the PyTorch reference loop (Euler, CFG against the empty prompt, VAE decode).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphName } from '../manifest/types.ts';
import type { RuntimeApi } from '../runtime/api.ts';
import { createRuntime } from '../runtime/create-runtime.ts';
import { createNodeBackend } from './node-backend.ts';
import { loadNodeModel, type NodeModel } from './node-model.ts';
import { maxAbsDiff, readGoldenIndex, readGoldenTensor, runPipelineGraphGolden, type GoldenIndex } from './test-model.ts';

const DIR = 'public/models/emoji-dit';
const GOLDEN = 'tools/golden/emoji-dit';
const HAVE = existsSync(`${DIR}/manifest.json`) && existsSync(`${GOLDEN}/golden.json`);

interface EmojiGolden extends GoldenIndex {
  tokens: { text: string; ids: number[]; length: number }[];
  reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; tolerance: number };
}

describe.skipIf(!HAVE)('emoji-dit against PyTorch', () => {
  let index: EmojiGolden;
  let model: NodeModel;
  const golden = (graph: string, side: 'inputs' | 'outputs', name: string) => readGoldenTensor(index.graphs[graph]![side][name]!, GOLDEN);

  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as EmojiGolden;
    model = await loadNodeModel(DIR);
  });
  afterAll(() => model?.release());

  for (const name of ['textEncoder', 'context', 'embed', 'blocks', 'head', 'vaeDecoder'] as GraphName[]) {
    it(`${name} reproduces PyTorch (max abs diff ≤ 1e-3)`, async () => {
      for (const r of await runPipelineGraphGolden(DIR, GOLDEN, index, name)) {
        expect(r.dims).toEqual(r.goldenDims);
        expect(r.diff, `${name}.${r.output}`).toBeLessThanOrEqual(1e-3);
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

  describe('prompt → image through createRuntime on onnxruntime-node', () => {
    let rt: RuntimeApi;
    beforeAll(async () => {
      rt = createRuntime(createNodeBackend(), { baseUrl: pathToFileURL(resolve(DIR)).href + '/' });
      const info = await rt.load('manifest.json');
      expect(info).toMatchObject({ conditioning: 'text', maxTokens: 16, image: { channels: 3, height: 64, width: 64 }, classes: 0 });
    });
    afterAll(() => rt?.dispose());

    it('matches the PyTorch reference loop (Euler, CFG vs the empty prompt, VAE decode)', async () => {
      const r = index.reference;
      const out = await rt.generate({ prompt: r.prompt, negativePrompt: r.negative, seed: r.seed, steps: r.steps, guidance: r.guidance });
      const want = await golden('reference', 'outputs', 'image');
      expect(out.image.length).toBe(3 * 64 * 64);
      expect(maxAbsDiff(out.image, want)).toBeLessThanOrEqual(r.tolerance);
      expect(out.stats).toMatchObject({ encodedPrompts: 2, steps: r.steps, computedSteps: r.steps });
    });
  });
});
