// loadNodeModel refuses a model directory whose files are not the ones the manifest declares,
// before any session is created, with a typed error that says what to do.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manifestFixture } from '../manifest/fixture.ts';
import { modelHashOf } from '../manifest/hash.ts';
import { fakeOrt } from './fake-ort.ts';
import { sha256Hex } from './node-files.ts';
import { loadNodeModel, type NodeModelOptions } from './node-model.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erta-model-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes each graph file with the given content; the manifest declares the honest hash of `declared`. */
async function writeModel(files: Record<string, { content: string; declared?: string }>) {
  const j = manifestFixture();
  for (const [name, { content, declared }] of Object.entries(files)) {
    await writeFile(join(dir, `${name}.onnx`), content);
    const bytes = new TextEncoder().encode(declared ?? content);
    Object.assign(j['graphs'][name], { sha256: sha256Hex(bytes), bytes: bytes.length });
  }
  j['modelHash'] = await modelHashOf(j['graphs']);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(j));
}

describe('loadNodeModel file checks', () => {
  it('rejects a modelHash that is not the hash of the listed graphs, before reading them', async () => {
    await writeModel({ embed: { content: 'e' }, blocks: { content: 'b' }, head: { content: 'h' } });
    const j = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    j.modelHash = '0'.repeat(64);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(j));
    const ort = fakeOrt();
    await expect(loadNodeModel(dir, { ort: ort as unknown as NodeModelOptions['ort'] }))
      .rejects.toMatchObject({ code: 'MODEL_HASH_MISMATCH' });
    expect(ort.created).toHaveLength(0);
  });

  it('rejects a graph whose sha256 differs from the manifest, before creating sessions', async () => {
    await writeModel({ embed: { content: 'e' }, blocks: { content: 'tampered', declared: 'b' }, head: { content: 'h' } });
    const ort = fakeOrt();
    const load = loadNodeModel(dir, { ort: ort as unknown as NodeModelOptions['ort'] });
    await expect(load).rejects.toMatchObject({ code: 'MODEL_FILE_HASH_MISMATCH' });
    await expect(load).rejects.toThrow(/blocks\.onnx/);
    expect(ort.created).toHaveLength(0);
  });

  it('names a graph file that is missing', async () => {
    await writeModel({ model: { content: 'm' } });
    await rm(join(dir, 'model.onnx'));
    const ort = fakeOrt() as unknown as NodeModelOptions['ort'];
    await expect(loadNodeModel(dir, { graphs: 'single', ort })).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });

  it('explains a directory without a manifest and a manifest that is not JSON', async () => {
    await expect(loadNodeModel(dir)).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING', hint: /--model/ });
    await writeFile(join(dir, 'manifest.json'), '{"format": ');
    await expect(loadNodeModel(dir)).rejects.toMatchObject({ code: 'MANIFEST_FORMAT' });
  });

  it('hands verified bytes to InferenceSession.create', async () => {
    await writeModel({ embed: { content: 'e' }, blocks: { content: 'b' }, head: { content: 'h' } });
    const ort = fakeOrt();
    // The fake sessions have no inputs, so creating the denoiser fails its name check afterwards.
    await expect(loadNodeModel(dir, { ort: ort as unknown as NodeModelOptions['ort'] })).rejects.toMatchObject({
      code: 'SESSION_IO_MISMATCH',
    });
    expect(ort.created.map((b) => new TextDecoder().decode(b))).toEqual(['e', 'b', 'h']);
  });
});
