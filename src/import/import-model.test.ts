// The importer on real exports: the shipped MNIST DiT's single graph (module names blocks.N) must
// import with no flags and draw the same image as the shipped split graphs; the same graph with its
// node names erased must fail with the candidates listed and import with the two name flags; a
// graph that is not a DiT, and a file that is not ONNX, get their typed errors.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../node/generate.ts';
import { parseManifest } from '../manifest/validate.ts';
import { sha256Hex } from '../manifest/hash.ts';
import { parseImportArgs } from '../cli/import-model.ts';
import { decodeModel, encodeModel } from './onnx-graph.ts';
import { importModel } from './import-model.ts';
import { ImportError } from './errors.ts';

const MNIST = 'public/models/mnist-dit';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erta-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function importError(p: Promise<unknown>): Promise<ImportError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(ImportError);
  return e as ImportError;
}

describe('import-model on the MNIST DiT single graph', () => {
  it('finds blocks.0 … blocks.5 by name, splits with parity, and the runtime draws the shipped image', async () => {
    const out = join(dir, 'mnist');
    const r = await importModel({ model: `${MNIST}/model.onnx`, out });
    expect(r.stack).toBe('node names: /blocks × 6');
    expect(r.hidden).toEqual({ tokens: 49, dim: 128 });
    expect(r.latent).toEqual({ channels: 1, height: 28, width: 28 });
    expect(r.classes).toBe(10);
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    // The manifest is what the runtime checks, and every file is what it says.
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const m = parseManifest(manifest, out);
    for (const g of Object.values(m.graphs)) {
      const bytes = await readFile(join(out, g.file));
      expect(bytes.length).toBe(g.bytes);
      expect(await sha256Hex(bytes)).toBe(g.sha256);
    }
    // The imported split graphs and the shipped ones give the same sample, bit for bit.
    const ours = await generate({ model: out, label: 7, seed: 3, steps: 6, threads: 1 });
    const shipped = await generate({ model: MNIST, label: 7, seed: 3, steps: 6, threads: 1 });
    expect(ours.report.computedSteps).toBe(6);
    expect(Buffer.from(ours.image.buffer).equals(Buffer.from(shipped.image.buffer))).toBe(true);
  }, 120_000);

  it('without node names: IMPORT_NO_STACK lists residual tensors, and the two flags import it', async () => {
    const m = decodeModel(await readFile(`${MNIST}/model.onnx`));
    m.graph!.node!.forEach((n, k) => {
      n.name = `n${k}`;
    });
    const file = join(dir, 'anonymous.onnx');
    await writeFile(file, encodeModel(m));
    const e = await importError(importModel({ model: file, out: join(dir, 'anon') }));
    expect(e.code).toBe('IMPORT_NO_STACK');
    expect(e.hint).toContain('--blocks-input');
    expect(e.candidates.some((c) => c.startsWith('/Add_output_0 [B, 49, 128]'))).toBe(true);
    expect(e.candidates.some((c) => c.startsWith('/blocks.5/Add_6_output_0 [B, 49, 128]'))).toBe(true);
    const r = await importModel({ model: file, out: join(dir, 'anon'), blocksInput: '/Add_output_0', blocksOutput: '/blocks.5/Add_6_output_0' });
    expect(r.parity).toBeLessThanOrEqual(1e-6);
    const ours = await generate({ model: join(dir, 'anon'), label: 2, seed: 5, steps: 4, threads: 1 });
    const shipped = await generate({ model: MNIST, label: 2, seed: 5, steps: 4, threads: 1 });
    expect(Buffer.from(ours.image.buffer).equals(Buffer.from(shipped.image.buffer))).toBe(true);
  }, 120_000);

  it('flags that name no tensor, or a path backwards, are IMPORT_TENSOR_UNKNOWN', async () => {
    const e1 = await importError(importModel({ model: `${MNIST}/model.onnx`, out: join(dir, 'x1'), blocksInput: 'nope', blocksOutput: '/blocks.5/Add_6_output_0' }));
    expect(e1.code).toBe('IMPORT_TENSOR_UNKNOWN');
    expect(e1.message).toContain('nope');
    const e2 = await importError(importModel({ model: `${MNIST}/model.onnx`, out: join(dir, 'x2'), blocksInput: '/blocks.5/Add_6_output_0', blocksOutput: '/Add_output_0' }));
    expect(e2.code).toBe('IMPORT_TENSOR_UNKNOWN');
  });
});

describe('import-model refuses what is not a DiT', () => {
  it('a classifier (one image input) is IMPORT_NOT_A_DIT, naming its inputs', async () => {
    const e = await importError(importModel({ model: 'public/models/mnist-classifier/classifier.onnx', out: join(dir, 'cls') }));
    expect(e.code).toBe('IMPORT_NOT_A_DIT');
    expect(e.message).toContain('image');
  });

  it('a file that is not ONNX is IMPORT_NOT_ONNX; a missing file too', async () => {
    const file = join(dir, 'not.onnx');
    await writeFile(file, 'hello, this is not protobuf\n');
    expect((await importError(importModel({ model: file, out: join(dir, 'n') }))).code).toBe('IMPORT_NOT_ONNX');
    expect((await importError(importModel({ model: join(dir, 'absent.onnx'), out: join(dir, 'n') }))).code).toBe('IMPORT_NOT_ONNX');
  });
});

describe('import-model arguments', () => {
  it('takes one file, --out, both or neither name flags', () => {
    expect(parseImportArgs(['m.onnx', '--out', 'd', '--json'])).toEqual({ model: 'm.onnx', out: 'd', json: true });
    expect(parseImportArgs(['m.onnx', '--out', 'd', '--blocks-input', 'a', '--blocks-output', 'b', '--timestep-scale', '1000']))
      .toMatchObject({ blocksInput: 'a', blocksOutput: 'b', timestepScale: 1000 });
    expect(() => parseImportArgs(['m.onnx', '--out', 'd', '--blocks-input', 'a'])).toThrow(/both/);
    expect(() => parseImportArgs(['--out', 'd'])).toThrow(/exactly one/);
    expect(() => parseImportArgs(['m.onnx'])).toThrow(/--out/);
    expect(parseImportArgs(['--help'])).toBeNull();
    // packed-latent exports (Flux): the latent's height and width when the token grid is not square
    expect(parseImportArgs(['m.onnx', '--out', 'd', '--latent-size', '96x128'])).toMatchObject({ latentSize: [96, 128] });
    expect(() => parseImportArgs(['m.onnx', '--out', 'd', '--latent-size', '96'])).toThrow(/--latent-size must be HxW/);
  });
});
