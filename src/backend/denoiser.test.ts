// The ORT denoisers against a fake ort namespace: they feed tensors through untouched (GPU
// tensors are never read on the host), build t and y as the contract says, serialize every run,
// and reject sessions whose input/output names differ from the manifest at creation.

import { describe, expect, it } from 'vitest';
import { DiffusionError } from '../core/errors.ts';
import { manifestFixture } from '../manifest/fixture.ts';
import { parseManifest } from '../manifest/validate.ts';
import { createSingleDenoiser, createSplitDenoiser } from './denoiser.ts';
import { FakeTensor, fakeOrt, fakeSession, gpuTensor, type FakeSession } from './fake-ort.ts';

const gpu = (name: string) => () => ({ [name]: gpuTensor([2, 49, 128]) });

function splitSessions() {
  return {
    embed: fakeSession(['x', 't', 'y'], ['h', 'c', 'mod0'], () => ({
      h: gpuTensor([2, 49, 128]),
      c: gpuTensor([2, 128]),
      mod0: gpuTensor([2, 49, 128]),
    })),
    blocks: fakeSession(['h', 'c'], ['z'], gpu('z')),
    head: fakeSession(['z', 'c'], ['v'], () => ({ v: gpuTensor([2, 1, 28, 28]) })),
  };
}

describe('createSplitDenoiser', () => {
  it('feeds x as given, t = σ per row, y = labels, and returns the graph outputs untouched', async () => {
    const ort = fakeOrt();
    const s = splitSessions();
    const d = createSplitDenoiser(ort, s, parseManifest(manifestFixture(), '.'));
    const x = gpuTensor([2, 1, 28, 28]);
    const { h, c, mod0 } = await d.embed(x, 0.25, Int32Array.of(7, 10));
    const feeds = s.embed.feeds[0]!;
    expect(feeds['x']).toBe(x);
    expect(feeds['t']!.data).toEqual(Float32Array.of(0.25, 0.25));
    expect(feeds['y']!.type).toBe('int32');
    expect(feeds['y']!.data).toEqual(Int32Array.of(7, 10));
    expect(feeds['t']!.disposed && feeds['y']!.disposed).toBe(true); // ours to free
    expect([h, c, mod0].every((t) => t.location === 'gpu-buffer' && !t.disposed)).toBe(true);
    const z = await d.blocks(h, c);
    expect(s.blocks.feeds[0]).toEqual({ h, c });
    const v = await d.head(z, c);
    expect(v.dims).toEqual([2, 1, 28, 28]);
    expect(d.hiddenLayout).toEqual({ channels: 128, inner: 1 });
    expect(d.outputLayout).toEqual({ channels: 1, inner: 784 });
  });

  it('serializes overlapping calls through one queue (onnxruntime-web: "Session already started")', async () => {
    const s = splitSessions();
    const d = createSplitDenoiser(fakeOrt(), s, parseManifest(manifestFixture(), '.'));
    const x = gpuTensor([2, 1, 28, 28]);
    const labels = Int32Array.of(1, 10);
    await expect(Promise.all([d.embed(x, 1, labels), d.embed(x, 0.5, labels), d.embed(x, 0, labels)])).resolves.toHaveLength(3);
    expect(s.embed.feeds.map((f) => (f['t']!.data as Float32Array)[0])).toEqual([1, 0.5, 0]);
  });

  it('disposes outputs the manifest declares beyond the contract', async () => {
    const j = manifestFixture();
    j['graphs'].blocks.outputs.debug = j['graphs'].blocks.outputs.z;
    const debug = gpuTensor([2, 49, 128]);
    const s = { ...splitSessions(), blocks: fakeSession(['h', 'c'], ['z', 'debug'], () => ({ z: gpuTensor([2]), debug })) };
    const d = createSplitDenoiser(fakeOrt(), s, parseManifest(j, '.'));
    await d.blocks(gpuTensor([2, 49, 128]), gpuTensor([2, 128]));
    expect(debug.disposed).toBe(true);
  });

  it('rejects at creation a session whose names differ from the manifest', () => {
    const s = { ...splitSessions(), head: fakeSession(['z', 'cond'], ['v'], gpu('v')) };
    const create = () => createSplitDenoiser(fakeOrt(), s, parseManifest(manifestFixture(), '.'));
    expect(create).toThrow(DiffusionError);
    expect(create).toThrow(/head\.onnx: the graph has inputs \[z, cond\]/);
    const { head: _, ...noHead } = splitSessions();
    expect(() => createSplitDenoiser(fakeOrt(), noHead, parseManifest(manifestFixture(), '.'))).toThrow(/no head session/);
  });

  it('rejects a label count that differs from the batch of x', async () => {
    const d = createSplitDenoiser(fakeOrt(), splitSessions(), parseManifest(manifestFixture(), '.'));
    await expect(d.embed(gpuTensor([2, 1, 28, 28]), 1, Int32Array.of(3))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('createSingleDenoiser', () => {
  it('feeds int64 labels when the manifest declares them', async () => {
    const j = manifestFixture();
    j['conditioning'].labelDtype = 'int64';
    for (const g of ['embed', 'model']) j['graphs'][g].inputs.y.dtype = 'int64';
    const model: FakeSession = fakeSession(['x', 't', 'y'], ['v'], (f) => ({ v: f['x'] as FakeTensor }));
    const d = createSingleDenoiser(fakeOrt(), { model }, parseManifest(j, '.'));
    const x = gpuTensor([1, 1, 28, 28]);
    expect(await d.forward(x, 0.5, Int32Array.of(4))).toBe(x);
    expect(model.feeds[0]!['y']!.data).toEqual(BigInt64Array.of(4n));
  });
});
