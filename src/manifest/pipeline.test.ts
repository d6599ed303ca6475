// Manifest version 2 (components): the shipped tiny-t2i manifest parses into a text model whose
// graph I/O names come from its io maps, and every broken field fails at load with a typed
// error that names the field and says what to fix.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classConditioning, textConditioning } from './conditioning.ts';
import { pipelineGraphNames } from './pipeline.ts';
import { parseManifest } from './validate.ts';

const shipped = readFileSync('public/models/tiny-t2i/manifest.json', 'utf8');
const fixture = (): Record<string, any> => JSON.parse(shipped);

function expectCode(json: unknown, code: string, message: RegExp): void {
  let err: unknown;
  try {
    parseManifest(json, '.');
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toMatchObject({ code });
  expect((err as Error).message).toMatch(message);
  expect((err as { hint: string }).hint.length).toBeGreaterThan(10);
}

describe('pipeline manifest (version 2)', () => {
  it('parses the shipped text model: components, io maps, image size from the VAE', () => {
    const m = parseManifest(fixture(), '/m/');
    const { conditioning, pipeline } = textConditioning(m);
    expect(conditioning).toEqual({ type: 'text', maxTokens: 8, contextDim: 32, defaultNegativePrompt: '', examplePrompts: [] });
    expect(m.image).toEqual({ channels: 3, height: 32, width: 32 });
    expect(m.latent).toEqual({ channels: 4, height: 8, width: 8 });
    expect(pipeline.transformerIo.velocity).toBe('velocity');
    expect(pipeline.preview.matrix).toHaveLength(4);
    expect(pipeline.vaeDecoder).toMatchObject({ scalingFactor: 0.5, shiftFactor: 0.1 });
    expect(pipelineGraphNames(m)).toEqual(['textEncoder', 'context', 'vaeDecoder']);
    expect(Object.keys(m.graphs).sort()).toEqual(['blocks', 'context', 'embed', 'head', 'textEncoder', 'vaeDecoder']);
    expect(() => classConditioning(m, 'the bench')).toThrow(/the bench needs a class-conditional model/);
  });

  it('a class model stays version 1 and is not a text model', () => {
    const m = parseManifest(JSON.parse(readFileSync('public/models/mnist-dit/manifest.json', 'utf8')), '.');
    expect(m.pipeline).toBeNull();
    expect(() => textConditioning(m, 'a prompt')).toThrow(/a prompt needs a text-conditioned model/);
  });

  it('names an io entry that points at no graph input', () => {
    const j = fixture();
    j.components.transformer.io.context = 'encoder_states';
    expectCode(j, 'GRAPH_IO_MISSING', /blocks graph .* declares no input "encoder_states" \(the context role/);
  });

  it('rejects shapes that disagree with the stated sizes', () => {
    const j = fixture();
    j.conditioning.contextDim = 64;
    expectCode(j, 'GRAPH_SPEC_MISMATCH', /blocks\.inputs\.context \(context\) is float32 \["B",8,32\], expected float32 \[B, 8, 64\]/);
    const k = fixture();
    k.components.vaeDecoder.graph.inputs.latent_sample.shape = [1, 3, 8, 8];
    expectCode(k, 'GRAPH_SPEC_MISMATCH', /vaeDecoder\.inputs\.latent_sample/);
  });

  it('rejects a graph input no role feeds', () => {
    const j = fixture();
    j.components.transformer.graphs.head.inputs.extra = { dtype: 'float32', shape: ['B'] };
    expectCode(j, 'GRAPH_SPEC_MISMATCH', /head graph declares inputs extra that no role feeds/);
  });

  it('rejects implausible sizes and factors', () => {
    const cases: [(j: Record<string, any>) => void, RegExp][] = [
      [(j) => { j.conditioning.maxTokens = 1e6; }, /conditioning\.maxTokens.*\[1, 4096\]/],
      [(j) => { j.latent.channels = 500; }, /latent\.channels.*\[1, 64\]/],
      [(j) => { j.components.vaeDecoder.scalingFactor = 0; }, /scalingFactor/],
      [(j) => { j.components.preview.matrix.pop(); }, /preview\.matrix.*4 rows/],
      [(j) => { j.components.preview.bias = [0, 0]; }, /preview\.bias/],
      [(j) => { j.components.tokenizer.maxLength = 16; }, /tokenizer\.maxLength.*conditioning\.maxTokens/],
      [(j) => { j.components.tokenizer.sha256 = 'xyz'; }, /tokenizer\.sha256/],
      [(j) => { j.conditioning.defaultNegativePrompt = 3; }, /defaultNegativePrompt/],
      [(j) => { j.conditioning.examplePrompts = 'red apple'; }, /examplePrompts.*at most 32 non-empty strings/],
      [(j) => { j.conditioning.examplePrompts = ['red apple', 7]; }, /examplePrompts/],
      [(j) => { j.conditioning.examplePrompts = ['  ']; }, /examplePrompts/],
      [(j) => { j.conditioning.examplePrompts = ['x'.repeat(501)]; }, /examplePrompts.*500 characters/],
      [(j) => { j.conditioning.examplePrompts = Array(33).fill('sun'); }, /examplePrompts/],
      [(j) => { j.components.preview.type = 'graph'; }, /preview\.type/],
    ];
    for (const [mutate, message] of cases) {
      const j = fixture();
      mutate(j);
      expectCode(j, 'MANIFEST_FIELD_INVALID', message);
    }
  });

  it('reads the example prompts a text model offers', () => {
    const j = fixture();
    j.conditioning.examplePrompts = ['red apple', 'a rocket, noto style'];
    expect(textConditioning(parseManifest(j, '/m/')).conditioning.examplePrompts).toEqual(['red apple', 'a rocket, noto style']);
  });

  it('names a missing component', () => {
    const j = fixture();
    delete j.components.vaeDecoder;
    expectCode(j, 'MANIFEST_FIELD_MISSING', /components\.vaeDecoder/);
  });

  it('without a context graph, the encoder must emit contextDim itself', () => {
    const j = fixture();
    delete j.components.context;
    j.conditioning.contextDim = 32;
    expect(() => parseManifest(j, '.')).not.toThrow(); // text_dim = 32 = contextDim here
    j.conditioning.contextDim = 16;
    expectCode(j, 'GRAPH_SPEC_MISMATCH', /textEncoder\.outputs\.last_hidden_state/);
  });

  it('a video model (Wan style): latent frames [C, F, H, W] through every graph, the VAE\'s clip [1, 3, F, H\', W\']', () => {
    const video = (): Record<string, any> => JSON.parse(readFileSync('public/models/imported-wan-tiny/manifest.json', 'utf8'));
    const m = parseManifest(video(), '/m/');
    expect(m.latent).toEqual({ channels: 4, frames: 4, height: 8, width: 8 });
    expect(m.image).toEqual({ channels: 3, frames: 4, height: 32, width: 32 });
    const noFrames = video();
    delete noFrames.latent.frames; // the graphs still take [B, 4, 4, 8, 8]
    expectCode(noFrames, 'GRAPH_SPEC_MISMATCH', /embed\.inputs\.latent \(latent\) is float32 \["B",4,4,8,8\], expected float32 \[B, 4, 8, 8\]/);
    const wrongFrames = video();
    wrongFrames.latent.frames = 5;
    expectCode(wrongFrames, 'GRAPH_SPEC_MISMATCH', /expected float32 \[B, 4, 5, 8, 8\]/);
    const still = fixture();
    still.latent.frames = 4; // an image model's graphs are 4-D
    expectCode(still, 'GRAPH_SPEC_MISMATCH', /latent/);
    const cls = JSON.parse(readFileSync('public/models/mnist-dit/manifest.json', 'utf8'));
    cls.latent.frames = 2;
    expectCode(cls, 'MANIFEST_FIELD_INVALID', /latent\.frames/);
  });
});
