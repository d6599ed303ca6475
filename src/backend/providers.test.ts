// Provider choice: WebGPU when usable, WASM otherwise with the reason; forcing never falls back.

import { describe, expect, it } from 'vitest';
import { chooseProvider, chooseThreads, probeCapabilities, type Capabilities } from './providers.ts';

const adapter = { info: { vendor: 'google', architecture: 'swiftshader' } } as unknown as GPUAdapter;
const withGpu: Capabilities = {
  webgpu: { ok: true, adapter, description: 'google swiftshader' }, crossOriginIsolated: true, hardwareConcurrency: 8,
};
const withoutGpu: Capabilities = { ...withGpu, webgpu: { ok: false, reason: 'no WebGPU adapter' }, crossOriginIsolated: false };

describe('chooseProvider', () => {
  it('prefers WebGPU, falls back to WASM with the reason, and honours a forced choice', () => {
    expect(chooseProvider('auto', withGpu)).toMatchObject({ provider: 'webgpu', reason: expect.stringContaining('swiftshader') });
    expect(chooseProvider('auto', withoutGpu)).toEqual({ provider: 'wasm', reason: 'fallback to WASM: no WebGPU adapter' });
    expect(chooseProvider('wasm', withGpu).provider).toBe('wasm');
    expect(() => chooseProvider('webgpu', withoutGpu)).toThrow(expect.objectContaining({ code: 'WEBGPU_UNAVAILABLE' }));
  });

  it('uses threads only when cross-origin isolated, and says why not', () => {
    expect(chooseThreads(withGpu)).toEqual({ threads: 4, note: null });
    expect(chooseThreads(withoutGpu)).toMatchObject({ threads: 1, note: expect.stringContaining('cross-origin isolated') });
  });

  it('takes the requested thread count (the client\'s wasmThreads) where threads are possible', () => {
    expect(chooseThreads(withGpu, 1)).toEqual({ threads: 1, note: null });
    expect(chooseThreads(withGpu, 6)).toEqual({ threads: 6, note: null });
    expect(chooseThreads(withoutGpu, 2)).toMatchObject({ threads: 1, note: expect.stringContaining('cross-origin isolated') });
  });

  it('probes a scope without navigator.gpu or without an adapter', async () => {
    const none = await probeCapabilities({ navigator: {} });
    expect(none.webgpu).toMatchObject({ ok: false, reason: expect.stringContaining('navigator.gpu') });
    const noAdapter = await probeCapabilities({ navigator: { gpu: { requestAdapter: async () => null } as unknown as GPU } });
    expect(noAdapter.webgpu).toMatchObject({ ok: false, reason: expect.stringContaining('no WebGPU adapter') });
  });
});
