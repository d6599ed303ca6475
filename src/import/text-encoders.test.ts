// Pipelines with several text encoders, each with its own tokenizer (tools/families/export_family.py --family flux2te |
// sd3-2te | sd3-3te, random weights, the diffusers layout text_encoder/, text_encoder_2/, text_encoder_3/ + tokenizer_N/):
// the importer infers how the context and the pooled vector are assembled (Flux: T5's states + CLIP's pooler_output;
// SD3: CLIP-L | CLIP-G penultimate states padded to T5's width, then T5 along the tokens; pooled = both text_embeds),
// the manifest says it as data and is checked field by field, and prompt → image equals the PyTorch loop.

import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeModel } from '../backend/node-model.ts';
import { readGoldenIndex, readGoldenTensor, type GoldenIndex } from '../backend/test-model.ts';
import { calibrate } from '../node/calibrate.ts';
import { generate } from '../node/generate.ts';
import { parseManifest } from '../manifest/validate.ts';
import { createEmbeddingCache, encodePrompts } from '../runtime/prompts.ts';
import { writeFile } from 'node:fs/promises';
import { importModel } from './import-model.ts';
import { padIdOf } from './text-import.ts';
import { decodeModel, encodeModel } from './onnx-graph.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'erta-text-encoders-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

type Index = GoldenIndex & {
  reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number; embeddedGuidance?: number };
  tokens: { text: string; ids: number[][] }[];
};

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let k = 0; k < b.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
  return d;
};

const FAMILIES = [
  { family: 'flux2te', committed: true, lengths: [10, 8], L: 8, X: 32, P: 24,
    assembly: { context: [{ features: [{ encoder: 1, output: 'last_hidden_state' }] }], pooled: [{ encoder: 0, output: 'pooler_output' }] } },
  { family: 'sd3-2te', committed: false, lengths: [10, 10], L: 10, X: 32, P: 40,
    assembly: { context: [{ features: [{ encoder: 0, output: 'hidden_states.1' }, { encoder: 1, output: 'hidden_states.1' }], padTo: 48 }],
      pooled: [{ encoder: 0, output: 'text_embeds' }, { encoder: 1, output: 'text_embeds' }] } },
  { family: 'sd3-3te', committed: true, lengths: [10, 10, 8], L: 18, X: 32, P: 40,
    assembly: { context: [{ features: [{ encoder: 0, output: 'hidden_states.1' }, { encoder: 1, output: 'hidden_states.1' }], padTo: 48 },
      { features: [{ encoder: 2, output: 'last_hidden_state' }] }],
    pooled: [{ encoder: 0, output: 'text_embeds' }, { encoder: 1, output: 'text_embeds' }] } },
];

for (const F of FAMILIES) describe(`${F.family}: ${F.lengths.length} text encoders, each with its tokenizer`, () => {
  const FIX = `tools/families/fixtures/${F.family}-tiny`;
  const GOLDEN = `tools/golden/families/${F.family}-tiny`;
  const out = () => join(tmp, F.family);
  const model = () => (F.committed ? `public/models/imported-${F.family}-tiny` : out());
  let index: Index;
  let result: Awaited<ReturnType<typeof importModel>>;
  beforeAll(async () => {
    index = (await readGoldenIndex(GOLDEN)) as Index;
    result = await importModel({ model: `${FIX}/transformer/model.onnx`, out: out(), name: `${F.family}-tiny`, components: FIX, timestepScale: 1000,
      prompts: `${FIX}/calibration-prompts.json` });
  }, 60_000);

  it('imports with --components and no name flags: the encoders, their tokenizers and the assembly, written as data', async () => {
    const made = JSON.parse(await readFile(join(out(), 'manifest.json'), 'utf8'));
    const c = made.components;
    expect(c.tokenizer).toBeUndefined();
    expect(c.textEncoder).toBeUndefined();
    expect(c.textEncoders.map((e: any) => [e.graph.file, e.tokenizer.file, e.tokenizer.maxLength, e.io.inputIds]))
      .toEqual(F.lengths.map((n, k) => [`text_encoder${k ? `_${k + 1}` : ''}/model.onnx`, `tokenizer${k ? `_${k + 1}` : ''}/tokenizer.json`, n, 'input_ids']));
    // CLIP pads with <|endoftext|> (id 1 here), T5 with <pad> (0): each tokenizer's own pad id
    expect(c.textEncoders.map((e: any) => e.tokenizer.padId)).toEqual(F.lengths.map((_, k) => (F.family === 'sd3-3te' && k === 2) || (F.family === 'flux2te' && k === 1) ? 0 : 1));
    expect(c.textAssembly).toEqual(F.assembly);
    expect(result.textAssembly).toEqual(F.assembly);
    expect(result.textEncoders!.map((e) => e.length)).toEqual(F.lengths);
    expect(result.parity).toBeLessThanOrEqual(1e-6);
    expect(made.conditioning).toMatchObject({ maxTokens: F.L, contextDim: F.X, pooledDim: F.P });
    if (F.committed) {
      const committed = JSON.parse(await readFile(`public/models/imported-${F.family}-tiny/manifest.json`, 'utf8'));
      expect(committed.components).toEqual(made.components);
      expect(committed.modelHash).toBe(made.modelHash);
    }
  });

  it('every tokenizer gives PyTorch\'s ids (the combined ids: one tokenizer\'s after the other\'s)', async () => {
    const m = await loadNodeModel(model());
    try {
      for (const t of index.tokens) expect(Array.from(m.tokenizer!.tokenize(t.text).ids), t.text).toEqual(t.ids.flat());
    } finally {
      await m.release();
    }
  });

  it('each prompt\'s row (context | pooled) equals the assembly PyTorch makes (≤ 1e-5)', async () => {
    const m = await loadNodeModel(model());
    try {
      const ref = index.reference;
      const prompts = ref.guidance === 1 ? [ref.prompt] : [ref.prompt, ref.negative];
      const enc = await encodePrompts({ tokenizer: m.tokenizer!, graphs: m.pipeline!, modelHash: m.manifest.modelHash }, prompts);
      const rows = index.graphs['rows']!.outputs;
      const context = await readGoldenTensor(rows['context']!, GOLDEN);
      const pooled = await readGoldenTensor(rows['pooled']!, GOLDEN);
      enc.rows.forEach((row, k) => {
        expect(row.length).toBe(F.L * F.X + F.P);
        expect(maxDiff(row.subarray(F.L * F.X), pooled.subarray(k * F.P, (k + 1) * F.P))).toBeLessThanOrEqual(1e-5);
      });
      // the context is the context graph's projection of the assembled states: run it on PyTorch's assembly
      const ort = await import('onnxruntime-node');
      const W = context.length / prompts.length / F.L;
      const s = await ort.InferenceSession.create(join(model(), 'transformer/context.onnx'));
      for (let k = 0; k < prompts.length; k++) {
        const x = new ort.Tensor('float32', (context as Float32Array).slice(k * F.L * W, (k + 1) * F.L * W), [1, F.L, W]);
        const want = (await s.run({ [s.inputNames[0]!]: x }))[s.outputNames[0]!]!.data as Float32Array;
        expect(maxDiff(enc.rows[k]!.subarray(0, F.L * F.X), want)).toBeLessThanOrEqual(1e-5);
      }
      await s.release();
    } finally {
      await m.release();
    }
  });

  for (const graphs of ['split', 'single'] as const) {
    it(`prompt → image (${graphs}) equals the PyTorch reference loop (≤ 1e-4)`, async () => {
      const ref = index.reference;
      const r = await generate({ model: model(), prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, graphs, threads: 1,
        ...(ref.embeddedGuidance !== undefined ? { embeddedGuidance: ref.embeddedGuidance } : {}) });
      expect(maxDiff(r.image, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN))).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('multi-encoder prompts: the LRU, truncation, calibration', () => {
  const MODEL = 'public/models/imported-sd3-3te-tiny';

  it('the prompt LRU keys on every tokenizer\'s ids: "Red apple" and "red apple" are one prompt to CLIP, two to T5', async () => {
    const m = await loadNodeModel(MODEL);
    try {
      const a = m.tokenizer!.tokenize('Red apple');
      const b = m.tokenizer!.tokenize('red apple');
      expect(Array.from(a.ids.subarray(0, 20))).toEqual(Array.from(b.ids.subarray(0, 20))); // CLIP-L, CLIP-G lower-case
      expect(Array.from(a.ids.subarray(20))).not.toEqual(Array.from(b.ids.subarray(20))); // T5 does not ("Red" is unknown to it)
      const cache = createEmbeddingCache();
      const ctx = { tokenizer: m.tokenizer!, graphs: m.pipeline!, modelHash: m.manifest.modelHash, cache };
      const first = await encodePrompts(ctx, ['Red apple', 'red apple']);
      expect(first.encoded).toBe(2);
      expect(maxDiff(first.rows[0]!, first.rows[1]!)).toBeGreaterThan(1e-3); // T5's tokens differ, so the rows do
      const again = await encodePrompts(ctx, ['red apple', 'Red apple']);
      expect(again.encoded).toBe(0);
      expect(again.rows[0]).toBe(first.rows[1]);
      expect(again.rows[1]).toBe(first.rows[0]);
      expect(cache.size).toBe(2);
    } finally {
      await m.release();
    }
  });

  it('warns once per tokenizer that cuts the prompt (CLIP at 10 tokens, T5 at 8)', async () => {
    const m = await loadNodeModel(MODEL);
    try {
      const ctx = { tokenizer: m.tokenizer!, graphs: m.pipeline!, modelHash: m.manifest.modelHash };
      const long = 'a big red apple with a shiny green leaf on a round';
      const r = await encodePrompts(ctx, [long, 'a red apple with a shiny leaf']);
      expect(r.warnings).toEqual([
        `prompt "${long.slice(0, 40)}…" has 14 tokens for text encoder 1 of 3; it reads 10, the rest is ignored there`,
        `prompt "${long.slice(0, 40)}…" has 14 tokens for text encoder 2 of 3; it reads 10, the rest is ignored there`,
        `prompt "${long.slice(0, 40)}…" has 13 tokens for text encoder 3 of 3; it reads 8, the rest is ignored there`,
      ]);
      // cut as diffusers' tokenizers cut (truncation=True): the words, not the template's tokens: CLIP still ends with
      // <|endoftext|> (id 1, where it pools), T5 with </s> (id 1)
      const ids = Array.from(m.tokenizer!.tokenize(long).ids);
      expect([ids[0], ids[9], ids[19], ids[27]]).toEqual([0, 1, 1, 1]);
      const g = await generate({ model: MODEL, prompt: 'a big red apple with a shiny leaf', seed: 1, steps: 2, threads: 1 });
      expect(g.report.warnings.filter((w) => /text encoder 1 of 3/.test(w))).toEqual([]); // 9 CLIP tokens: fits
      expect(g.report.warnings.filter((w) => /text encoder 3 of 3/.test(w))).toHaveLength(1); // 9 T5 tokens: cut at 8
    } finally {
      await m.release();
    }
  });

  it('calibration runs on a two-encoder model (every prompt through both encoders)', async () => {
    const dir = join(tmp, 'flux2te-cal');
    await cp('public/models/imported-flux2te-tiny', dir, { recursive: true });
    const r = await calibrate({ model: dir, steps: 6, budgets: [3], seeds: [0], evaluate: false });
    const plan = r.plans.find((p) => p.kind === 'ertacache')!;
    expect(plan.computedSteps).toBeGreaterThan(0);
    expect(plan.computedSteps).toBeLessThanOrEqual(3);
  }, 60_000);
});

describe('multi-encoder manifests: every field checked at load, with what to fix', () => {
  const fixture = async (): Promise<Record<string, any>> => JSON.parse(await readFile('public/models/imported-sd3-3te-tiny/manifest.json', 'utf8'));
  function expectCode(json: unknown, code: string, message: RegExp): void {
    let err: unknown;
    try {
      parseManifest(json, '.');
    } catch (e) {
      err = e;
    }
    expect(err, `expected ${code} ${message}`).toMatchObject({ code });
    expect((err as Error).message).toMatch(message);
    expect((err as { hint: string }).hint.length).toBeGreaterThan(10);
  }

  it('parses: three encoders (graphs textEncoder, textEncoder2, textEncoder3), the assembly as written', async () => {
    const m = parseManifest(await fixture(), '.');
    expect(m.pipeline!.encoders.map((e) => [e.graph, e.tokenizer.maxLength])).toEqual([['textEncoder', 10], ['textEncoder2', 10], ['textEncoder3', 8]]);
    expect(m.pipeline!.assembly.context[0]!.padTo).toBe(48);
  });

  it('rejects what does not fit', async () => {
    const cases: [(j: Record<string, any>) => void, string, RegExp][] = [
      [(j) => { j.components.textAssembly.pooled.pop(); }, 'MANIFEST_FIELD_INVALID', /textAssembly\.pooled.*add up to conditioning\.pooledDim \(40\)/],
      [(j) => { delete j.components.textAssembly.pooled; }, 'MANIFEST_FIELD_INVALID', /pooledDim.*textAssembly\.pooled/],
      [(j) => { j.components.textAssembly.context[0].features[1].output = 'hidden_states.9'; }, 'GRAPH_IO_MISSING', /textEncoder2 graph .* declares no output "hidden_states\.9"/],
      [(j) => { j.components.textAssembly.context[0].features[0].output = 'text_embeds'; }, 'GRAPH_SPEC_MISMATCH', /textEncoder\.outputs\.text_embeds .* expected float32 \[1, 10, width\]/],
      [(j) => { j.components.textAssembly.pooled[0].output = 'last_hidden_state'; }, 'GRAPH_SPEC_MISMATCH', /expected float32 \[1, width\]/],
      [(j) => { j.components.textAssembly.context[0].padTo = 32; }, 'MANIFEST_FIELD_INVALID', /context\[0\]\.padTo.*at least the features' total width 40/],
      [(j) => { delete j.components.textAssembly.context[0].padTo; }, 'MANIFEST_FIELD_INVALID', /context\[1\].*width 40 like context\[0\]/],
      [(j) => { j.components.textAssembly.context.pop(); }, 'MANIFEST_FIELD_INVALID', /textEncoders\[2\] is never read/],
      [(j) => { j.components.textAssembly.context[1].features[0].encoder = 3; }, 'MANIFEST_FIELD_INVALID', /context\[1\]\.features\[0\]\.encoder.*\[0, 2\]/],
      [(j) => { j.components.textAssembly.context[1].features.push({ encoder: 0, output: 'hidden_states.1' }); }, 'MANIFEST_FIELD_INVALID', /one token count/],
      [(j) => { j.components.textEncoders[2].tokenizer.maxLength = 9; }, 'GRAPH_SPEC_MISMATCH', /textEncoder3\.inputs\.input_ids .* expected int32 \| int64 \[1, 9\]/],
      [(j) => { j.components.tokenizer = j.components.textEncoders[0].tokenizer; }, 'MANIFEST_FIELD_INVALID', /components\.tokenizer.*one form or the other/],
      [(j) => { j.components.textEncoders.push(j.components.textEncoders[0]); }, 'MANIFEST_FIELD_INVALID', /textEncoders.*1 to 3 text encoders/],
      [(j) => { j.components.textEncoders[1].tokenizer.sha256 = 'x'; }, 'MANIFEST_FIELD_INVALID', /textEncoders\[1\]\.tokenizer\.sha256.*64 hex/],
      [(j) => { j.components.textEncoders[1].tokenizer.file = '../../etc/passwd'; }, 'MODEL_FILE_URL', /textEncoders\[1\]\.tokenizer\.file/],
      [(j) => { delete j.components.textAssembly; }, 'MANIFEST_FIELD_MISSING', /components\.textAssembly/],
      [(j) => { j.components.textAssembly.context[1].tokens = 8; }, 'MANIFEST_FIELD_INVALID', /context\[1\]\.tokens.*absent when the segment has features/],
      [(j) => { j.components.textAssembly.context[1].features = []; }, 'MANIFEST_FIELD_INVALID', /context\[1\]\.features.*0 to 8|1 to 8 encoder outputs/],
      [(j) => { j.components.textAssembly.context = [{ features: [], tokens: 18 }]; }, 'MANIFEST_FIELD_INVALID', /at least one segment with features/],
      [(j) => { j.components.textAssembly.context[1] = { features: [], tokens: 8, padTo: 40 }; j.components.textAssembly.pooled.push({ encoder: 2, output: 'last_hidden_state' }); },
        'MANIFEST_FIELD_INVALID', /context\[1\]\.padTo.*width 48 like the other segments/],
      [(j) => { delete j.components.textEncoders[0].io.inputIds; }, 'MANIFEST_FIELD_MISSING', /textEncoders\[0\]\.io\.inputIds/],
    ];
    for (const [mutate, code, message] of cases) {
      const j = await fixture();
      mutate(j);
      expectCode(j, code, message);
    }
    const single = JSON.parse(await readFile('public/models/imported-sd3-tiny/manifest.json', 'utf8'));
    single.components.textAssembly = { context: [] };
    expectCode(single, 'MANIFEST_FIELD_INVALID', /textAssembly.*absent with the single-encoder form/);
  });
});

describe('importer: multi-encoder components that do not fit', () => {
  const FIX = 'tools/families/fixtures/sd3-3te-tiny';
  const attempt = async (mutate: (dir: string) => Promise<void>) => {
    const dir = await mkdtemp(join(tmp, 'comp-'));
    await cp(FIX, dir, { recursive: true });
    await mutate(dir);
    return importModel({ model: `${dir}/transformer/model.onnx`, out: join(dir, 'out'), components: dir, timestepScale: 1000 })
      .then(() => null, (e: unknown) => e as Error & { code: string; hint: string });
  };

  it('a text encoder without its tokenizer: IMPORT_UNSUPPORTED naming the folder', async () => {
    const e = await attempt((d) => rm(join(d, 'tokenizer_2'), { recursive: true }));
    expect(e).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect(e!.message).toMatch(/text_encoder_2\/ has no tokenizer: .*tokenizer_2\/tokenizer\.json/);
    expect(e!.hint).toMatch(/tokenizer_2/);
  });

  it('widths and lengths that do not add up: the shapes found and the layouts expected', async () => {
    // sd3-2te's transformer reads the CLIP pair's 10 tokens only: no room for a T5
    const dir = await mkdtemp(join(tmp, 'comp-'));
    await cp('tools/families/fixtures/sd3-2te-tiny', dir, { recursive: true });
    await cp(join(FIX, 'text_encoder_3'), join(dir, 'text_encoder_3'), { recursive: true });
    await cp(join(FIX, 'tokenizer_3'), join(dir, 'tokenizer_3'), { recursive: true });
    const e = await importModel({ model: `${dir}/transformer/model.onnx`, out: join(dir, 'out'), components: dir, timestepScale: 1000 })
      .then(() => null, (x: unknown) => x as Error & { code: string; hint: string });
    expect(e).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect(e!.message).toMatch(/text_encoder_3\/ needs a \[1, 0, 48\] output \(the transformer reads 10 tokens, the CLIP pair 10\) — text_encoder \(input \[1, 10\]; outputs text_embeds \[1, 16\]/);
    expect(e!.hint).toMatch(/Flux layout.*SD3 layout/);
    // text_encoder_3 without text_encoder_2
    const f = await attempt((d) => rm(join(d, 'text_encoder_2'), { recursive: true }));
    expect(f!.message).toMatch(/text_encoder_3\/model\.onnx without text_encoder_2/);
  });
});

describe('SD3 without its T5 (diffusers: text_encoder_3=None)', () => {
  it('imports from the CLIP pair alone: T5\'s 8 tokens become a segment of zeros; the image equals PyTorch\'s with zeros there', async () => {
    const dir = await mkdtemp(join(tmp, 'no-t5-'));
    await cp('tools/families/fixtures/sd3-3te-tiny', dir, { recursive: true });
    await rm(join(dir, 'text_encoder_3'), { recursive: true });
    await rm(join(dir, 'tokenizer_3'), { recursive: true });
    const out = join(dir, 'out');
    const r = await importModel({ model: `${dir}/transformer/model.onnx`, out, components: dir, timestepScale: 1000 });
    expect(r.textAssembly!.context).toEqual([FAMILIES[2]!.assembly.context[0], { features: [], tokens: 8 }]);
    const golden = 'tools/golden/families/sd3-3te-tiny';
    const index = (await readGoldenIndex(golden)) as Index;
    const ref = index.reference;
    const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, threads: 1 });
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['imageWithoutT5']!, golden);
    expect(maxDiff(g.image, want)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(want, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, golden))).toBeGreaterThan(1e-2); // T5 mattered
  }, 60_000);
});

describe('encoders exported with dynamic axes (diffusers / Optimum: [batch_size, sequence_length])', () => {
  /** The fixture with every text encoder's batch and length axes made symbolic, as Optimum exports them. */
  async function dynamicCopy(family: string, config: Record<string, number>): Promise<string> {
    const dir = await mkdtemp(join(tmp, `${family}-dyn-`));
    await cp(`tools/families/fixtures/${family}-tiny`, dir, { recursive: true });
    for (const sub of ['text_encoder', 'text_encoder_2', 'text_encoder_3']) {
      const file = join(dir, sub, 'model.onnx');
      const bytes = await readFile(file).catch(() => null);
      if (!bytes) continue;
      const m = decodeModel(bytes);
      for (const v of [...m.graph!.input!, ...m.graph!.output!]) {
        const dims = v.type!.tensorType!.shape!.dim!;
        dims[0] = { dimParam: 'batch_size' };
        if (dims.length === 3 || v.name === 'input_ids') dims[1] = { dimParam: 'sequence_length' };
      }
      await writeFile(file, encodeModel(m));
    }
    for (const [tok, n] of Object.entries(config)) await writeFile(join(dir, tok, 'tokenizer_config.json'), JSON.stringify({ model_max_length: n }));
    return dir;
  }

  for (const [family, config] of [['flux2te', { tokenizer: 10 }], ['sd3-3te', { tokenizer: 10, tokenizer_2: 10 }]] as const) {
    it(`${family}: lengths from the transformer (the context's encoder) and the tokenizers (tokenizer_config.json); the image equals PyTorch`, async () => {
      const dir = await dynamicCopy(family, config);
      const out = join(dir, 'out');
      const r = await importModel({ model: `${dir}/transformer/model.onnx`, out, components: dir, timestepScale: 1000 });
      const F = FAMILIES.find((f) => f.family === family)!;
      expect(r.textEncoders!.map((e) => e.length)).toEqual(F.lengths);
      expect(r.textAssembly).toEqual(F.assembly);
      const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
      expect(made.components.textEncoders[0].graph.inputs.input_ids.shape).toEqual([1, 10]);
      const golden = `tools/golden/families/${family}-tiny`;
      const index = (await readGoldenIndex(golden)) as Index;
      const ref = index.reference;
      const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, threads: 1,
        ...(ref.embeddedGuidance !== undefined ? { embeddedGuidance: ref.embeddedGuidance } : {}) });
      expect(maxDiff(g.image, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, golden))).toBeLessThanOrEqual(1e-4);
    }, 60_000);
  }

  it('a dynamic CLIP whose tokenizer states no length: IMPORT_UNSUPPORTED saying where to state it', async () => {
    const dir = await dynamicCopy('sd3-3te', {});
    const e = await importModel({ model: `${dir}/transformer/model.onnx`, out: join(dir, 'out'), components: dir, timestepScale: 1000 })
      .then(() => null, (x: unknown) => x as Error);
    expect(e).toMatchObject({ code: 'IMPORT_UNSUPPORTED' });
    expect(e!.message).toMatch(/text_encoder\/model\.onnx has a dynamic length and tokenizer\/ states none \(tokenizer\.json truncation\.max_length, or tokenizer_config\.json model_max_length\)/);
  });

  it('one encoder (SD3 family) with dynamic axes: run at the transformer\'s length; the image equals PyTorch', async () => {
    const dir = await mkdtemp(join(tmp, 'sd3-dyn-'));
    await cp('tools/families/fixtures/sd3-tiny', dir, { recursive: true });
    const file = join(dir, 'text_encoder', 'model.onnx');
    const m = decodeModel(await readFile(file));
    for (const v of [...m.graph!.input!, ...m.graph!.output!]) {
      const dims = v.type!.tensorType!.shape!.dim!;
      dims[0] = { dimParam: 'batch_size' };
      if (dims.length >= 2 && v.name !== 'text_embeds') dims[1] = { dimParam: 'sequence_length' };
    }
    await writeFile(file, encodeModel(m));
    const out = join(dir, 'out');
    await importModel({ model: `${dir}/transformer/model.onnx`, out, components: dir, timestepScale: 1000 });
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(made.components.textEncoder.graph.inputs.input_ids.shape).toEqual([1, 8]);
    expect(made.components.textEncoder.graph.outputs).toMatchObject({ last_hidden_state: { shape: [1, 8, 32] }, text_embeds: { shape: [1, 32] } });
    const golden = 'tools/golden/families/sd3-tiny';
    const index = (await readGoldenIndex(golden)) as Index;
    const ref = index.reference;
    const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, threads: 1 });
    expect(maxDiff(g.image, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, golden))).toBeLessThanOrEqual(1e-4);
  }, 60_000);
});

describe('pad ids as transformers saves tokenizers (no padding section in tokenizer.json)', () => {
  it('CLIP\'s pad token from tokenizer_config.json: <|endoftext|>, and the image equals PyTorch (which padded with it)', async () => {
    const dir = await mkdtemp(join(tmp, 'pad-'));
    await cp('tools/families/fixtures/flux2te-tiny', dir, { recursive: true });
    const tokFile = join(dir, 'tokenizer', 'tokenizer.json');
    const tok = JSON.parse(await readFile(tokFile, 'utf8'));
    delete tok.padding;
    await writeFile(tokFile, JSON.stringify(tok));
    await writeFile(join(dir, 'tokenizer', 'tokenizer_config.json'), JSON.stringify({ pad_token: { content: '<|endoftext|>', lstrip: false } }));
    const out = join(dir, 'out');
    await importModel({ model: `${dir}/transformer/model.onnx`, out, components: dir, timestepScale: 1000 });
    const made = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(made.components.textEncoders.map((e: any) => e.tokenizer.padId)).toEqual([1, 0]);
    const golden = 'tools/golden/families/flux2te-tiny';
    const index = (await readGoldenIndex(golden)) as Index;
    const ref = index.reference;
    const g = await generate({ model: out, prompt: ref.prompt, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, embeddedGuidance: ref.embeddedGuidance!, threads: 1 });
    expect(maxDiff(g.image, await readGoldenTensor(index.graphs['reference']!.outputs['image']!, golden))).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('special_tokens_map.json (a string), added tokens and a Unigram vocabulary ([token, score] pairs)', async () => {
    const dir = await mkdtemp(join(tmp, 'padmap-'));
    const bytes = (o: object) => new TextEncoder().encode(JSON.stringify(o));
    await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '!' }));
    expect(await padIdOf(bytes({ model: { vocab: [['<unk>', 0], ['!', 0], ['a', -1]] } }), dir)).toBe(1);
    expect(await padIdOf(bytes({ model: { vocab: { a: 0 } }, added_tokens: [{ id: 7, content: '!' }] }), dir)).toBe(7);
    expect(await padIdOf(bytes({ padding: { pad_id: 3 }, model: { vocab: { '!': 5 } } }), dir)).toBe(3); // tokenizer.json's own first
    expect(await padIdOf(bytes({ model: { vocab: { '<pad>': 4 } } }), join(dir, 'absent'))).toBe(4);
  });
});
