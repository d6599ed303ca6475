// What a model needs of a WebGPU adapter, from its manifest alone, and the typed errors when the
// adapter cannot give it (the browser test runs the same check against SwiftShader's adapter).

import { describe, expect, it } from 'vitest';
import { manifestFixture } from '../manifest/fixture.ts';
import { parseManifest } from '../manifest/validate.ts';
import { checkAdapter, modelNeeds } from './gpu-limits.ts';

const adapter = (binding: number, buffer: number, features: string[] = []) => ({
  limits: { maxStorageBufferBindingSize: binding, maxBufferSize: buffer }, features: new Set(features),
});

describe('modelNeeds / checkAdapter', () => {
  it('takes the largest declared weight tensor, or the largest activation at batch 2', () => {
    const plain = parseManifest(manifestFixture(), '/m');
    // h/mod0 [B, 49, 128] float32 at B = 2: 50176 bytes.
    expect(modelNeeds(plain, ['embed', 'blocks', 'head'])).toMatchObject({ largestBuffer: 2 * 49 * 128 * 4, shaderF16: false });
    const j = manifestFixture();
    Object.assign(j['graphs'].blocks, { largestTensorBytes: 300 * 2 ** 20, weightsDtype: 'float16' });
    const big = modelNeeds(parseManifest(j, '/m'), ['embed', 'blocks', 'head']);
    expect(big).toEqual({ largestBuffer: 300 * 2 ** 20, what: 'blocks: its largest weight tensor', shaderF16: true });
    expect(modelNeeds(parseManifest(j, '/m'), ['model']).shaderF16).toBe(false); // single mode does not load blocks
  });

  it('names the limit and both numbers; shader-f16 is required for fp16 weights', () => {
    const needs = { largestBuffer: 300 * 2 ** 20, what: 'blocks: its largest weight tensor', shaderF16: true };
    expect(() => checkAdapter(needs, adapter(128 * 2 ** 20, 2 ** 30, ['shader-f16']))).toThrow(
      expect.objectContaining({ code: 'ADAPTER_LIMITS', message: expect.stringContaining('maxStorageBufferBindingSize is 134217728 bytes (128.0 MiB)') }));
    expect(() => checkAdapter(needs, adapter(2 ** 30, 256 * 2 ** 20, ['shader-f16']))).toThrow(
      expect.objectContaining({ code: 'ADAPTER_LIMITS', message: expect.stringMatching(/needs a GPU buffer of 314572800 bytes .*maxBufferSize is 268435456/) }));
    expect(() => checkAdapter(needs, adapter(2 ** 30, 2 ** 30))).toThrow(expect.objectContaining({ code: 'SHADER_F16_UNAVAILABLE' }));
    expect(() => checkAdapter(needs, adapter(2 ** 30, 2 ** 30, ['shader-f16']))).not.toThrow();
  });

  it('refuses a bad weightsDtype or largestTensorBytes in the manifest', () => {
    const j = manifestFixture();
    j['graphs'].blocks.weightsDtype = 'bfloat16';
    expect(() => parseManifest(j, '/m')).toThrow(expect.objectContaining({ code: 'MANIFEST_FIELD_INVALID' }));
    const k = manifestFixture();
    k['graphs'].blocks.largestTensorBytes = -1;
    expect(() => parseManifest(k, '/m')).toThrow(expect.objectContaining({ code: 'MANIFEST_FIELD_INVALID' }));
  });
});
