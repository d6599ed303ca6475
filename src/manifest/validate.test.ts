// parseManifest accepts exactly what tools/export.py writes and rejects each kind of broken
// manifest with its own code, a message naming the field, and a non-empty hint.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiffusionError } from '../core/errors.ts';
import type { ModelErrorCode } from './errors.ts';
import { manifestFixture } from './fixture.ts';
import { modelHashOf, sha256Hex, verifyModelHash } from './hash.ts';
import { parseManifest, requireGraphs, resolveModelFile } from './validate.ts';
import { classConditioning } from './conditioning.ts';

function rejection(json: unknown): DiffusionError {
  try {
    parseManifest(json, '/models/m');
  } catch (e) {
    expect(e).toBeInstanceOf(DiffusionError);
    expect((e as DiffusionError).hint.length).toBeGreaterThan(10);
    return e as DiffusionError;
  }
  throw new Error('parseManifest accepted a broken manifest');
}

function expectCode(json: unknown, code: ModelErrorCode, message: RegExp): void {
  const e = rejection(json);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}

describe('parseManifest', () => {
  it('accepts the export format and keeps the fields the runtime reads', () => {
    const m = parseManifest(manifestFixture(), '/models/m');
    expect(m.baseUrl).toBe('/models/m');
    expect(m.hidden).toEqual({ tokens: 49, dim: 128 });
    expect(classConditioning(m).labelDtype).toBe('int32');
    expect(m.graphs.embed?.inputs['y']).toEqual({ dtype: 'int32', shape: ['B'] });
    expect(m.plans).toHaveLength(2);
    expect(m.plans[0]).toEqual({ file: 'plans/ertacache-50-b25.json', kind: 'ertacache', steps: 50, budget: 25 });
  });

  it('treats an absent plans list as empty (export.py always writes one; hand-made manifests may not)', () => {
    const j = manifestFixture();
    delete j['plans'];
    expect(parseManifest(j, '.').plans).toEqual([]);
  });

  it('names a missing top-level or nested field', () => {
    const j = manifestFixture();
    delete j['modelHash'];
    expectCode(j, 'MANIFEST_FIELD_MISSING', /"modelHash"/);
    const k = manifestFixture();
    delete k['graphs'].blocks.sha256;
    expectCode(k, 'MANIFEST_FIELD_MISSING', /"graphs\.blocks\.sha256"/);
  });

  it('rejects a field of the wrong type or form', () => {
    const j = manifestFixture();
    j['latent'].height = '28';
    expectCode(j, 'MANIFEST_FIELD_INVALID', /latent\.height.*number/);
    const k = manifestFixture();
    k['graphs'].head.sha256 = 'abc';
    expectCode(k, 'MANIFEST_FIELD_INVALID', /graphs\.head\.sha256/);
    expectCode([1, 2], 'MANIFEST_FIELD_INVALID', /object/);
  });

  it('rejects another format and another version', () => {
    const j = manifestFixture();
    j['format'] = 'onnx-model-zoo';
    expectCode(j, 'MANIFEST_FORMAT', /onnx-model-zoo/);
    const k = manifestFixture();
    k['version'] = 3;
    expectCode(k, 'MANIFEST_VERSION', /version 3/);
  });

  it('needs the split graphs or model.onnx', () => {
    const j = manifestFixture();
    delete j['graphs'].model;
    delete j['graphs'].blocks;
    expectCode(j, 'GRAPH_MISSING', /embed, blocks and head/);
  });

  it('names a graph input or output the contract requires and the manifest lacks', () => {
    const j = manifestFixture();
    j['graphs'].embed.inputs.label = j['graphs'].embed.inputs.y;
    delete j['graphs'].embed.inputs.y;
    expectCode(j, 'GRAPH_IO_MISSING', /embed graph declares no input named "y"/);
    const k = manifestFixture();
    delete k['graphs'].embed.outputs.mod0;
    expectCode(k, 'GRAPH_IO_MISSING', /no output named "mod0"/);
  });

  it('rejects a dtype or shape that breaks the graph contract', () => {
    const j = manifestFixture();
    j['graphs'].model.inputs.t = { dtype: 'int32', shape: ['B'] };
    expectCode(j, 'GRAPH_SPEC_MISMATCH', /graphs\.model\.inputs\.t: dtype is int32, expected float32/);
    const k = manifestFixture();
    k['graphs'].blocks.outputs.z.shape = ['B', 49, 64];
    expectCode(k, 'GRAPH_SPEC_MISMATCH', /expected \[B, 49, 128\]/);
    const l = manifestFixture();
    l['hidden'].dim = 256; // the graphs still say 128
    expectCode(l, 'GRAPH_SPEC_MISMATCH', /graphs\.embed\.outputs\.h/);
  });

  it('checks y against conditioning.labelDtype, and accepts int64 labels end to end', () => {
    const j = manifestFixture();
    j['conditioning'].labelDtype = 'int64';
    expectCode(j, 'GRAPH_SPEC_MISMATCH', /inputs\.y: dtype is int32, expected int64/);
    for (const g of ['embed', 'model']) j['graphs'][g].inputs.y.dtype = 'int64';
    expect(classConditioning(parseManifest(j, '.')).labelDtype).toBe('int64');
  });

  it('rejects a label dtype the denoiser cannot feed', () => {
    const j = manifestFixture();
    j['conditioning'].labelDtype = 'float32';
    expectCode(j, 'LABEL_DTYPE_UNSUPPORTED', /"float32"/);
  });
});

describe('requireGraphs', () => {
  it('returns the graphs of a mode, or says which mode the manifest can run', () => {
    const m = parseManifest(manifestFixture(), '.');
    expect(Object.keys(requireGraphs(m, 'split'))).toEqual(['embed', 'blocks', 'head']);
    delete m.graphs.model;
    const e = (() => {
      try {
        requireGraphs(m, 'single');
      } catch (err) {
        return err as DiffusionError;
      }
      throw new Error('no error');
    })();
    expect(e.code).toBe('GRAPH_MISSING');
    expect(e.hint).toMatch(/--graphs split/);
  });
});

describe('resolveModelFile', () => {
  it('resolves against URLs and directory paths alike', () => {
    expect(resolveModelFile('https://x.test/models/m/', 'embed.onnx')).toBe('https://x.test/models/m/embed.onnx');
    expect(resolveModelFile('https://x.test/models/m', 'plans/a.json')).toBe('https://x.test/models/m/plans/a.json');
    expect(resolveModelFile('public/models/m', 'embed.onnx')).toBe('public/models/m/embed.onnx');
  });
});

describe('plausibility and file references (issue 15)', () => {
  const cases: [string, (j: Record<string, any>) => void, ModelErrorCode, RegExp][] = [
    ['absurd class count', (j) => { j['conditioning'].classes = 1e9; j['conditioning'].nullLabel = 1e9; }, 'MANIFEST_FIELD_INVALID', /conditioning\.classes/],
    ['null label that is a real class', (j) => { j['conditioning'].nullLabel = 3; }, 'MANIFEST_FIELD_INVALID', /nullLabel/],
    ['latent too large for a tab', (j) => { j['latent'].height = 4096; j['latent'].width = 4096; j['latent'].channels = 4; }, 'MANIFEST_FIELD_INVALID', /latent/],
    ['graph bytes beyond a browser', (j) => { j['graphs'].blocks.bytes = 2 ** 40; }, 'MANIFEST_FIELD_INVALID', /graphs\.blocks\.bytes/],
    ['zero shift', (j) => { j['scheduler'].shift = 0; }, 'MANIFEST_FIELD_INVALID', /shift/],
    ['degenerate preview range', (j) => { j['preview'].from = [1, 1]; }, 'MANIFEST_FIELD_INVALID', /preview\.from/],
    ['unknown graph name', (j) => { j['graphs'].extra = j['graphs'].head; }, 'MANIFEST_FIELD_INVALID', /graphs\.extra/],
    ['plan budget above its steps', (j) => { j['plans'][0].budget = 60; }, 'MANIFEST_FIELD_INVALID', /plans\[0\]\.budget/],
    ['unknown plan kind', (j) => { j['plans'][0].kind = 'fastcache'; }, 'MANIFEST_FIELD_INVALID', /plans\[0\]\.kind/],
    ['malformed modelHash', (j) => { j['modelHash'] = 'abc'; }, 'MANIFEST_FIELD_INVALID', /modelHash/],
    ['../ escape', (j) => { j['graphs'].blocks.file = '../other/blocks.onnx'; }, 'MODEL_FILE_URL', /leaves the model folder/],
    ['%-encoded escape', (j) => { j['graphs'].blocks.file = '%2e%2e/blocks.onnx'; }, 'MODEL_FILE_URL', /model folder/],
    ['absolute path', (j) => { j['graphs'].blocks.file = '/etc/blocks.onnx'; }, 'MODEL_FILE_URL', /absolute/],
    ['data: URL', (j) => { j['graphs'].embed.file = 'data:application/octet-stream;base64,AAAA'; }, 'MODEL_FILE_URL', /not an http\(s\) URL/],
    ['javascript: URL', (j) => { j['plans'][0].file = 'javascript:alert(1)'; }, 'MODEL_FILE_URL', /refused/],
    ['other origin without opt-in', (j) => { j['graphs'].head.file = 'https://evil.test/head.onnx'; }, 'MODEL_FILE_URL', /evil\.test/],
    ['protocol-relative URL', (j) => { j['graphs'].head.file = '//evil.test/head.onnx'; }, 'MODEL_FILE_URL', /evil\.test/],
    ['fileOrigins with a path', (j) => { j['fileOrigins'] = ['https://cdn.test/models']; }, 'MANIFEST_FIELD_INVALID', /fileOrigins/],
  ];
  for (const [name, mutate, code, message] of cases) {
    it(`rejects ${name}`, () => {
      const j = manifestFixture();
      mutate(j);
      expectCode(j, code, message);
    });
  }

  it('follows another origin only when the manifest lists it in fileOrigins', () => {
    const j = manifestFixture();
    j['graphs'].head.file = 'https://cdn.test/m/head.onnx';
    j['fileOrigins'] = ['https://cdn.test'];
    const m = parseManifest(j, 'https://x.test/models/m/');
    expect(resolveModelFile(m.baseUrl, m.graphs.head!.file, m.fileOrigins)).toBe('https://cdn.test/m/head.onnx');
    expect(() => resolveModelFile(m.baseUrl, 'https://other.test/x.onnx', m.fileOrigins)).toThrow(/outside the model folder/);
  });

  it('modelHash is sha256 over the sorted graph sha256s, and the fixture and the shipped model satisfy it', async () => {
    const m = parseManifest(manifestFixture(), '.');
    await expect(verifyModelHash(m)).resolves.toBeUndefined();
    expect(await modelHashOf({ model: { sha256: 'd'.repeat(64) }, blocks: { sha256: 'b'.repeat(64) } }))
      .toBe(await sha256Hex(new TextEncoder().encode('b'.repeat(64) + 'd'.repeat(64))));
    const shipped = JSON.parse(readFileSync('public/models/mnist-dit/manifest.json', 'utf8'));
    expect(await modelHashOf(shipped.graphs)).toBe(shipped.modelHash);
    const e = await verifyModelHash({ ...m, modelHash: '0'.repeat(64) }).catch((x: DiffusionError) => x);
    expect(e).toMatchObject({ code: 'MODEL_HASH_MISMATCH' });
  });
});
