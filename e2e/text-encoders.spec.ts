// A pipeline with two text encoders in Chromium (WASM): the tiny Flux-style model whose context is a T5-like encoder's
// states and whose pooled vector is a CLIP-like encoder's pooler_output, each with its own tokenizer
// (public/models/imported-flux2te-tiny, imported by `npm run import-model` from tools/families/fixtures/flux2te-tiny).
// Through the real worker, prompt → image equals the PyTorch reference loop, and a new seed encodes nothing.

import { readFileSync } from 'node:fs';
import { expect, generate, load, maxAbsDiff, ok, test } from './fixtures.ts';

const GOLDEN = 'tools/golden/families/flux2te-tiny';
const golden = JSON.parse(readFileSync(`${GOLDEN}/golden.json`, 'utf8')) as {
  reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; embeddedGuidance: number };
};
const bytes = readFileSync(`${GOLDEN}/reference.output.image.bin`);
const reference = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

test('two text encoders (T5 context + CLIP pooled): prompt → image equals the PyTorch reference loop', async ({ harness, provider }) => {
  test.skip(provider !== 'wasm', 'WASM: the encoders run once per prompt; the transformer path is the families\' (e2e/families.spec.ts)');
  const info = ok(await load(harness, { provider }, '/models/imported-flux2te-tiny/manifest.json'));
  expect(info).toMatchObject({ conditioning: 'text', maxTokens: 10, pooledDim: 24, // CLIP's 10 > T5's 8
    image: { channels: 3, height: 32, width: 32 } });
  const r = golden.reference;
  const run = ok(await generate(harness, { prompt: r.prompt, seed: r.seed, steps: r.steps, guidance: r.guidance, embeddedGuidance: r.embeddedGuidance }));
  expect(maxAbsDiff(run.image, reference)).toBeLessThan(1e-3);
  expect(run.stats).toMatchObject({ encodedPrompts: 1, provider }); // guidance 1: the prompt alone, through both encoders
  const again = ok(await generate(harness, { prompt: r.prompt, seed: 1, steps: 1, guidance: r.guidance }));
  expect(again.stats).toMatchObject({ encodedPrompts: 0 }); // the worker's LRU, keyed on both tokenizers' ids
});
