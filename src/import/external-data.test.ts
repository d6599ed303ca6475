// The importer on sources whose weights are ONNX external data (what torch.onnx.export writes for a
// model over 2 GB, or onnx.save_model(..., save_as_external_data=True)): the committed DiT-family export
// (tools/families/fixtures/dit-tiny) is re-saved here with its weights in one data file or in one file
// a tensor, imported, and must give the graphs' weights in shards listed in the manifest (sha256,
// bytes, in the model hash) and draw exactly the image of the model imported from the single file.
// Bad locations, missing files and ranges past a file's end are IMPORT_EXTERNAL_DATA.

import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../node/generate.ts';
import { modelHashOf, sha256Hex } from '../manifest/hash.ts';
import { parseManifest } from '../manifest/validate.ts';
import { describeImport, parseImportArgs } from '../cli/import-model.ts';
import { decodeModel, encodeModel, onnx, type Model } from './onnx-graph.ts';
import { importModel } from './import-model.ts';
import { ImportError } from './errors.ts';

const EXPORT = 'tools/families/fixtures/dit-tiny/model.onnx';
/** The model imported from EXPORT as one file (families.test.ts checks it is what the importer makes today). */
const COMMITTED = 'public/models/imported-dit-tiny';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'erta-external-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * EXPORT re-saved into `dir` as model.onnx with every raw weight of ≥ 1 KiB in external data: all in
 * model.onnx.data (onnx's all_tensors_to_one_file=True), or one file a tensor under weights/.
 * Returns the model as saved (its external tensors in graph order).
 */
async function saveExternal(dir: string, layout: 'one-file' | 'per-tensor', from = EXPORT): Promise<Model> {
  const m = decodeModel(await readFile(from));
  await mkdir(join(dir, 'weights'), { recursive: true });
  const chunks: Uint8Array[] = [];
  let offset = 0;
  let moved = 0;
  for (const t of m.graph!.initializer!) {
    const raw = t.rawData;
    if (!raw || raw.byteLength < 1024) continue;
    let location: string;
    let at = 0;
    if (layout === 'one-file') {
      location = 'model.onnx.data';
      at = offset;
      chunks.push(raw);
      offset += raw.byteLength;
    } else {
      location = `weights/${t.name!.replace(/[^A-Za-z0-9._-]/g, '_')}.bin`;
      await writeFile(join(dir, location), raw);
    }
    t.rawData = null;
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [{ key: 'location', value: location }, { key: 'offset', value: String(at) }, { key: 'length', value: String(raw.byteLength) }];
    moved++;
  }
  expect(moved).toBeGreaterThan(0);
  if (layout === 'one-file') await writeFile(join(dir, 'model.onnx.data'), Buffer.concat(chunks));
  await writeFile(join(dir, 'model.onnx'), encodeModel(m));
  return m;
}

async function importError(p: Promise<unknown>): Promise<ImportError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(ImportError);
  return e as ImportError;
}

type Entry = { file: string; sha256: string; bytes: number; externalData?: { path: string; sha256: string; bytes: number }[] };

/** Every graph and shard the manifest lists is on disk with its sha256 and size; the model hash covers the shards. */
async function checkFiles(out: string): Promise<Record<string, Entry>> {
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { modelHash: string; graphs: Record<string, Entry> };
  parseManifest(manifest, out);
  for (const g of Object.values(manifest.graphs)) {
    for (const f of [{ file: g.file, sha256: g.sha256, bytes: g.bytes }, ...(g.externalData ?? []).map((s) => ({ ...s, file: s.path }))]) {
      const bytes = await readFile(join(out, f.file));
      expect(bytes.length, f.file).toBe(f.bytes);
      expect(await sha256Hex(bytes), f.file).toBe(f.sha256);
    }
  }
  expect(await modelHashOf(manifest.graphs)).toBe(manifest.modelHash);
  const withoutShards = Object.fromEntries(Object.entries(manifest.graphs).map(([k, g]) => [k, { sha256: g.sha256 }]));
  expect(await modelHashOf(withoutShards)).not.toBe(manifest.modelHash);
  return manifest.graphs;
}

/** The sample of the model in `dir` equals the one imported from the single file, bit for bit. */
async function sameImage(dir: string): Promise<void> {
  for (const graphs of ['split', 'single'] as const) {
    const ours = await generate({ model: dir, label: 3, seed: 7, steps: 4, graphs, threads: 1 });
    const single = await generate({ model: COMMITTED, label: 3, seed: 7, steps: 4, graphs, threads: 1 });
    expect(ours.report.computedSteps).toBe(4);
    expect(Buffer.from(ours.image.buffer).equals(Buffer.from(single.image.buffer)), graphs).toBe(true);
  }
}

describe('import-model: a source with external data', () => {
  it('one data file (model.onnx.data): the graphs are written with shards, listed and hashed, and draw the single-file import\'s image', async () => {
    const src = join(tmp, 'one');
    await saveExternal(src, 'one-file');
    const out = join(tmp, 'one-out');
    const r = await importModel({ model: join(src, 'model.onnx'), out, name: 'dit-tiny' });
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    const graphs = await checkFiles(out);
    for (const k of ['embed', 'blocks', 'head', 'model']) {
      expect(graphs[k]!.externalData?.length, k).toBe(1); // < 1 GiB (the default --shard-mb): one shard each
      expect(graphs[k]!.externalData![0]!.path).toBe(`${k}.weights.0.bin`);
    }
    // the graph files keep only the small tensors; the committed single-file graphs hold all
    const committed = JSON.parse(await readFile(join(COMMITTED, 'manifest.json'), 'utf8')) as { graphs: Record<string, Entry> };
    expect(graphs['blocks']!.bytes).toBeLessThan(committed.graphs['blocks']!.bytes / 4);
    expect(r.files.map((f) => f.file)).toContain('blocks.weights.0.bin');
    expect(r.sourceExternalData).toMatchObject({ files: ['model.onnx.data'] });
    expect(r.sourceExternalData!.bytes).toBe((await readFile(join(src, 'model.onnx.data'))).length);
    expect(describeImport(r)).toMatch(/source weights: \d+ tensors, \d+ bytes in external data \(model\.onnx\.data\)/);
    await sameImage(out);
  }, 60_000);

  it('one file a tensor in a sub-folder, --shard-mb 0.0625: blocks.onnx gets several shards of ≤ 64 KiB, same image', async () => {
    const src = join(tmp, 'per');
    await saveExternal(src, 'per-tensor');
    const out = join(tmp, 'per-out');
    const r = await importModel({ model: join(src, 'model.onnx'), out, name: 'dit-tiny', shardBytes: 2 ** 16 });
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    const graphs = await checkFiles(out);
    const shards = graphs['blocks']!.externalData!;
    expect(shards.length).toBeGreaterThanOrEqual(2);
    for (const s of shards) expect(s.bytes).toBeLessThanOrEqual(2 ** 16);
    await sameImage(out);
  }, 60_000);

  it('a single-file source with graphs above --shard-mb: only those are sharded; the default keeps today\'s bytes', async () => {
    const out = join(tmp, 'big-out');
    const r = await importModel({ model: EXPORT, out, name: 'dit-tiny', shardBytes: 2 ** 17 });
    expect(r.sourceExternalData).toBeUndefined();
    const graphs = await checkFiles(out);
    expect(graphs['blocks']!.externalData?.length).toBeGreaterThanOrEqual(2); // 273 KB of weights
    expect(graphs['model']!.externalData?.length).toBeGreaterThanOrEqual(2);
    expect(graphs['embed']!.externalData).toBeUndefined(); // 48 KB: one file, as before
    expect(graphs['head']!.externalData).toBeUndefined();
    const committed = JSON.parse(await readFile(join(COMMITTED, 'manifest.json'), 'utf8')) as { graphs: Record<string, Entry> };
    expect(graphs['embed']).toEqual(committed.graphs['embed']);
    await sameImage(out);
  }, 60_000);

  it('a text model (PixArt family): the transformer\'s graphs and context graph get shards, same image as the committed import', async () => {
    const FIX = 'tools/families/fixtures/pixart-tiny';
    const src = join(tmp, 'pixart');
    await saveExternal(src, 'one-file', `${FIX}/transformer/model.onnx`);
    const out = join(tmp, 'pixart-out');
    const r = await importModel({ model: join(src, 'model.onnx'), out, name: 'pixart-tiny', components: FIX, timestepScale: 1000 });
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    parseManifest(manifest, out);
    const tr = manifest.components.transformer.graphs as Record<string, Entry>;
    for (const [k, g] of [...Object.entries(tr), ['context', manifest.components.context.graph as Entry] as const]) {
      expect(g.file, k).toMatch(/^transformer\//);
      for (const s of g.externalData ?? []) {
        const bytes = await readFile(join(out, 'transformer', s.path));
        expect([bytes.length, await sha256Hex(bytes)], `${k} ${s.path}`).toEqual([s.bytes, s.sha256]);
      }
    }
    expect(tr['blocks']!.externalData?.length).toBe(1);
    expect(manifest.components.vaeDecoder.graph.externalData).toBeUndefined(); // components are copied as they are
    const opts = { prompt: 'a red circle', seed: 5, steps: 3, threads: 1 };
    const ours = await generate({ model: out, ...opts });
    const single = await generate({ model: 'public/models/imported-pixart-tiny', ...opts });
    expect(Buffer.from(ours.image.buffer).equals(Buffer.from(single.image.buffer))).toBe(true);
    // components are copied as they are: one with external data is refused, naming it
    const comp = join(tmp, 'pixart-comp');
    await cp(FIX, comp, { recursive: true });
    await saveExternal(join(comp, 'vae_decoder'), 'one-file', `${FIX}/vae_decoder/model.onnx`);
    const e = await importError(importModel({ model: `${FIX}/transformer/model.onnx`, out: join(tmp, 'pixart-bad'), components: comp, timestepScale: 1000 }));
    expect(e.code).toBe('IMPORT_UNSUPPORTED');
    expect(e.message).toMatch(/vae_decoder\/model\.onnx keeps its weights in external data/);
  }, 60_000);

  it('a location outside the folder, a missing file or a range past its end is IMPORT_EXTERNAL_DATA, naming the tensor', async () => {
    const src = join(tmp, 'bad');
    const m = await saveExternal(src, 'one-file');
    const victim = m.graph!.initializer!.find((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)!;
    const good = victim.externalData!.map((e) => ({ ...e }));
    const set = async (key: string, value: string, file = 'model.onnx') => {
      victim.externalData = good.map((e) => (e.key === key ? { key, value } : { ...e }));
      await writeFile(join(src, file), encodeModel(m));
      return join(src, file);
    };
    const cases: [string, string, RegExp][] = [
      ['location', '../model.onnx.data', /outside the graph's folder/],
      ['location', join(src, 'model.onnx.data'), /outside the graph's folder/],
      ['location', 'absent.data', /absent\.data.*cannot be read \(ENOENT\)/],
      ['offset', String(1e6), /reads bytes 1000000 … \d+ of model\.onnx\.data, which has \d+ bytes/],
      ['length', '12', /12 bytes long, but \[[\d, ]+\] of ONNX type 1 takes \d+/],
    ];
    for (const [key, value, message] of cases) {
      const e = await importError(importModel({ model: await set(key, value), out: join(tmp, 'bad-out') }));
      expect(e.code, `${key} ${value}`).toBe('IMPORT_EXTERNAL_DATA');
      expect(e.message).toContain(victim.name!);
      expect(e.message).toMatch(message);
      expect(e.hint.length).toBeGreaterThan(20);
    }
    // a data file cut short
    await set('offset', good.find((e) => e.key === 'offset')!.value!);
    const data = await readFile(join(src, 'model.onnx.data'));
    await writeFile(join(src, 'model.onnx.data'), data.subarray(0, data.length - 100));
    const e = await importError(importModel({ model: join(src, 'model.onnx'), out: join(tmp, 'bad-out') }));
    expect(e.code).toBe('IMPORT_EXTERNAL_DATA');
    expect(e.message).toMatch(/which has \d+ bytes/);
  });

  it('a weight larger than --shard-mb is IMPORT_UNSUPPORTED naming it and the size to pass, before any probe', async () => {
    // the MNIST DiT's adaLN matrices are 128 × 768 float32 = 384 KiB
    const e = await importError(importModel({ model: 'public/models/mnist-dit/model.onnx', out: join(tmp, 'mnist-small'), shardBytes: 2 ** 18 }));
    expect(e.code).toBe('IMPORT_UNSUPPORTED');
    expect(e.message).toMatch(/the weight \S+ takes \d+ bytes, more than a shard \(--shard-mb: 262144 bytes\)/);
    expect(e.hint).toContain('--shard-mb 1 or more');
  });

  it('--shard-mb takes MiB in [1/16, 2047]', () => {
    expect(parseImportArgs(['m.onnx', '--out', 'd', '--shard-mb', '512'])).toMatchObject({ shardBytes: 512 * 2 ** 20 });
    expect(parseImportArgs(['m.onnx', '--out', 'd', '--shard-mb', '0.0625'])).toMatchObject({ shardBytes: 2 ** 16 });
    expect(() => parseImportArgs(['m.onnx', '--out', 'd', '--shard-mb', '4096'])).toThrow(/--shard-mb must be in/);
    expect(() => parseImportArgs(['m.onnx', '--out', 'd', '--shard-mb', '0'])).toThrow(/--shard-mb must be in/);
  });
});
