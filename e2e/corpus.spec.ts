// The hostile-input corpus (issue 15): well over 100 bad manifests, plans, API calls and element
// attributes, each expecting its specific typed error code, each under a per-case timeout with a
// responsiveness probe (the page never freezes), and the worker still producing the reference
// image afterwards. Manifest and plan cases are served from memory with page.route; graph files
// come from the real model folder. WASM only: the corpus tests validation, not the GPU.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Route } from '@playwright/test';
import type { Outcome } from './harness.ts';
import { generate as elementGenerate, openFixture, serveDist, setAttrs } from './fixtures/element-page.ts';
import type { StaticServer } from './fixtures/static-server.ts';
import { nodeReference, expect, generate, load, maxAbsDiff, MODEL_DIR, MODEL_NAME, ok, readManifest, test } from './fixtures.ts';

type Json = Record<string, any>;

const CASE_TIMEOUT_MS = 30_000; // a full load on a CPU shared with other jobs can take ~10 s
const RESPONSIVE_MS = 2_000;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** modelHash as src/manifest/hash.ts defines it: sha256 over the graphs' sha256s in name order. */
function rehash(m: Json): Json {
  m.modelHash = sha256(Object.keys(m.graphs).sort().map((k) => m.graphs[k].sha256).join(''));
  return m;
}

/** A case must settle within CASE_TIMEOUT_MS, and the page must answer a ping right after. */
async function bounded<V>(page: Page, name: string, run: () => Promise<V>): Promise<V> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${CASE_TIMEOUT_MS} ms (page frozen?)`)), CASE_TIMEOUT_MS);
  });
  const start = Date.now();
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
    if (process.env.ERTA_CORPUS_TIMES) console.log(`${Date.now() - start} ms  ${name}`);
    const t0 = Date.now();
    await Promise.race([
      page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(1)))),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: the page stopped responding`)), RESPONSIVE_MS)),
    ]);
    expect(Date.now() - t0, `${name}: page responsiveness`).toBeLessThan(RESPONSIVE_MS);
  }
}

/** The Node runtime's image for the one reference run every test ends with (computed once). */
const REFERENCE = { label: 3, seed: 5, steps: 6, guidance: 3 } as const;
let reference: Promise<Float32Array> | null = null;
const referenceImage = () => (reference ??= nodeReference({ ...REFERENCE, policy: 'none' }));

/** Outcome → the code it failed with, 'OK' when it succeeded. */
const codeOf = (o: Outcome<unknown>) => (o.ok ? 'OK' : o.error.code);

// ── files served from memory ────────────────────────────────────────────────────────────────
const served = new Map<string, { body: Buffer | string; status?: number }>();

async function serveCorpus(page: Page): Promise<void> {
  await page.route('**/corpus/**', async (route: Route) => {
    const path = new URL(route.request().url()).pathname;
    const hit = served.get(path);
    if (hit) {
      await route.fulfill({ status: hit.status ?? 200, body: hit.body, contentType: path.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
      return;
    }
    const name = path.split('/').pop() ?? '';
    if (/^(embed|blocks|head|model)\.onnx$/.test(name)) {
      await route.fulfill({ path: join(MODEL_DIR, name), contentType: 'application/octet-stream' });
      return;
    }
    await route.fulfill({ status: 404, body: 'not found' });
  });
}

/**
 * Graph files by absolute URL on the test server's origin, opted in with fileOrigins: served by
 * Vite (not through page.route) and, after the first load, from IndexedDB.
 */
function withOriginFiles(m: Json, page: Page): Json {
  const origin = new URL(page.url()).origin;
  m.fileOrigins = [origin];
  for (const g of Object.values(m.graphs) as Json[]) g.file = `${origin}/models/${MODEL_NAME}/${g.file}`;
  return m;
}

// ── manifests ───────────────────────────────────────────────────────────────────────────────
interface ManifestCase {
  name: string;
  code: string;
  /** Mutates a copy of the real manifest, or returns a raw body. */
  edit?: (m: Json, dir: string) => void;
  body?: string;
  graphs?: 'split' | 'single';
}

const CORRUPT = randomBytes(100_000);
const wrongHash = 'ab'.repeat(32);

const MANIFEST_CASES: ManifestCase[] = [
  { name: 'HTML instead of JSON', body: '<!doctype html><p>index', code: 'MANIFEST_FORMAT' },
  { name: 'empty body', body: '', code: 'MANIFEST_FORMAT' },
  { name: 'JSON array', body: '[]', code: 'MANIFEST_FIELD_INVALID' },
  { name: 'JSON null', body: 'null', code: 'MANIFEST_FIELD_INVALID' },
  { name: 'JSON string', body: '"manifest"', code: 'MANIFEST_FIELD_INVALID' },
  { name: '5 MB manifest', body: `{"pad":"${'x'.repeat(5 * 2 ** 20)}"}`, code: 'MANIFEST_TOO_LARGE' },
  { name: 'other format', edit: (m) => { m.format = 'onnx-zoo'; }, code: 'MANIFEST_FORMAT' },
  { name: 'version 3', edit: (m) => { m.version = 3; }, code: 'MANIFEST_VERSION' },
  { name: 'version as string', edit: (m) => { m.version = '1'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'no modelHash', edit: (m) => { delete m.modelHash; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'modelHash not hex', edit: (m) => { m.modelHash = 'abc'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'modelHash a number', edit: (m) => { m.modelHash = 12; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'modelHash of other weights', edit: (m) => { m.modelHash = wrongHash; }, code: 'MODEL_HASH_MISMATCH' },
  { name: 'no name', edit: (m) => { delete m.name; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'name of 5000 characters', edit: (m) => { m.name = 'n'.repeat(5000); }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'no architecture', edit: (m) => { delete m.architecture; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'latent height as string', edit: (m) => { m.latent.height = '28'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'latent height 0', edit: (m) => { m.latent.height = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'latent width negative', edit: (m) => { m.latent.width = -28; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'latent beyond a tab', edit: (m) => { m.latent.height = 1e9; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'latent 4096² × 64', edit: (m) => { Object.assign(m.latent, { channels: 64, height: 4096, width: 4096 }); }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'latent height contradicts graphs', edit: (m) => { m.latent.height = 32; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'latent channels contradict graphs', edit: (m) => { m.latent.channels = 3; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'hidden dim contradicts graphs', edit: (m) => { m.hidden.dim = 256; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'hidden tokens absurd', edit: (m) => { m.hidden.tokens = 1e7; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'absurd class count', edit: (m) => { m.conditioning.classes = 1e9; m.conditioning.nullLabel = 1e9; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'zero classes', edit: (m) => { m.conditioning.classes = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'fractional classes', edit: (m) => { m.conditioning.classes = 10.5; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'null label inside the classes', edit: (m) => { m.conditioning.nullLabel = 3; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'null label missing', edit: (m) => { m.conditioning.nullLabel = null; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'classes beyond the graph\'s label table', edit: (m) => { m.conditioning.classes = 50; m.conditioning.nullLabel = 50; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'label dtype float32', edit: (m) => { m.conditioning.labelDtype = 'float32'; }, code: 'LABEL_DTYPE_UNSUPPORTED' },
  { name: 'label dtype int64 vs int32 graphs', edit: (m) => { m.conditioning.labelDtype = 'int64'; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'text conditioning', edit: (m) => { m.conditioning.type = 'text'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'no graphs', edit: (m) => { delete m.graphs; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'empty graphs', edit: (m) => { m.graphs = {}; }, code: 'GRAPH_MISSING' },
  { name: 'split graphs missing (model only)', edit: (m) => { delete m.graphs.blocks; rehash(m); }, code: 'GRAPH_MISSING' },
  { name: 'unknown graph', edit: (m) => { m.graphs.vae = m.graphs.head; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'input y renamed', edit: (m) => { m.graphs.embed.inputs.label = m.graphs.embed.inputs.y; delete m.graphs.embed.inputs.y; }, code: 'GRAPH_IO_MISSING' },
  { name: 'output mod0 missing', edit: (m) => { delete m.graphs.embed.outputs.mod0; }, code: 'GRAPH_IO_MISSING' },
  { name: 't declared int32', edit: (m) => { m.graphs.model.inputs.t.dtype = 'int32'; }, code: 'GRAPH_SPEC_MISMATCH' },
  { name: 'dtype float16', edit: (m) => { m.graphs.head.outputs.v.dtype = 'float16'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'dimension 0', edit: (m) => { m.graphs.blocks.inputs.h.shape[1] = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'rank 20', edit: (m) => { m.graphs.blocks.inputs.h.shape = Array(20).fill(1); }, code: 'MANIFEST_FIELD_INVALID' },
  { name: '100 inputs', edit: (m) => { for (let k = 0; k < 100; k++) m.graphs.head.inputs[`i${k}`] = m.graphs.head.inputs.c; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'sha256 not hex', edit: (m) => { m.graphs.head.sha256 = 'xyz'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'sha256 of other bytes (modelHash consistent)', edit: (m) => { m.graphs.embed.sha256 = wrongHash; rehash(m); }, code: 'MODEL_FILE_HASH_MISMATCH' },
  { name: 'bytes 0', edit: (m) => { m.graphs.head.bytes = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'bytes 1 TiB', edit: (m) => { m.graphs.blocks.bytes = 2 ** 40; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'graphs totalling 6 GiB', edit: (m) => { for (const g of ['embed', 'blocks', 'head']) m.graphs[g].bytes = 2 ** 31; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'file longer than declared', edit: (m) => { m.graphs.embed.bytes = 1000; }, code: 'MODEL_FILE_HASH_MISMATCH' },
  { name: 'file ../ escape', edit: (m) => { m.graphs.embed.file = '../mnist-dit/embed.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file %2e%2e escape', edit: (m) => { m.graphs.embed.file = '%2e%2e/embed.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file a/../../ escape', edit: (m) => { m.graphs.head.file = 'plans/../../head.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file absolute path', edit: (m) => { m.graphs.embed.file = '/models/mnist-dit/embed.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file data: URL', edit: (m) => { m.graphs.embed.file = 'data:application/octet-stream;base64,AAAA'; }, code: 'MODEL_FILE_URL' },
  { name: 'file javascript: URL', edit: (m) => { m.graphs.embed.file = 'javascript:alert(1)'; }, code: 'MODEL_FILE_URL' },
  { name: 'file blob: URL', edit: (m) => { m.graphs.embed.file = 'blob:https://x.test/0000'; }, code: 'MODEL_FILE_URL' },
  { name: 'file other origin, no opt-in', edit: (m) => { m.graphs.head.file = 'https://evil.example/head.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file protocol-relative', edit: (m) => { m.graphs.head.file = '//evil.example/head.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file with backslashes', edit: (m) => { m.graphs.head.file = '..\\..\\head.onnx'; }, code: 'MODEL_FILE_URL' },
  { name: 'file of 5000 characters', edit: (m) => { m.graphs.head.file = `${'a/'.repeat(2500)}h.onnx`; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'fileOrigins a string', edit: (m) => { m.fileOrigins = 'https://cdn.example'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'fileOrigins javascript:', edit: (m) => { m.fileOrigins = ['javascript:alert(1)']; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'file not deployed', edit: (m) => { m.graphs.head.file = 'missing.onnx'; }, code: 'MODEL_FILE_MISSING' },
  { name: 'corrupt graph with a matching hash', code: 'MODEL_FILE_CORRUPT', edit: (m, dir) => {
    served.set(`${dir}corrupt.onnx`, { body: CORRUPT });
    Object.assign(m.graphs.embed, { file: 'corrupt.onnx', sha256: sha256(CORRUPT), bytes: CORRUPT.length });
    rehash(m);
  } },
  { name: 'graph file swapped for another graph', code: 'SESSION_IO_MISMATCH', graphs: 'single', edit: (m) => {
    Object.assign(m.graphs.model, { file: 'head.onnx', sha256: m.graphs.head.sha256, bytes: m.graphs.head.bytes });
    rehash(m);
  } },
  { name: 'latent 32 everywhere, the graphs are 28', code: 'SESSION_IO_MISMATCH', edit: (m) => {
    Object.assign(m.latent, { height: 32, width: 32 });
    for (const g of Object.values(m.graphs) as Json[]) {
      for (const io of [...Object.values(g.inputs), ...Object.values(g.outputs)] as Json[]) {
        io.shape = io.shape.map((d: unknown) => (d === 28 ? 32 : d));
      }
    }
  } },
  { name: 'label dtype int64 everywhere, the graphs take int32', code: 'SESSION_IO_MISMATCH', edit: (m) => {
    m.conditioning.labelDtype = 'int64';
    for (const g of ['embed', 'model']) m.graphs[g].inputs.y.dtype = 'int64';
  } },
  { name: 'scheduler euler-ancestral', edit: (m) => { m.scheduler.type = 'euler-ancestral'; }, code: 'MANIFEST_FIELD_INVALID' },
  // ddim is a scheduler now (ε-models, src/core/ddim.ts), but only with its training schedule
  { name: 'scheduler ddim without its schedule', edit: (m) => { m.scheduler.type = 'ddim'; }, code: 'MANIFEST_FIELD_MISSING' },
  { name: 'scheduler ddim, betaEnd ≤ betaStart', edit: (m) => {
    Object.assign(m.scheduler, { type: 'ddim', prediction: 'epsilon', trainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0.02, betaEnd: 0.0001 });
  }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'shift 0', edit: (m) => { m.scheduler.shift = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'shift negative', edit: (m) => { m.scheduler.shift = -1; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'defaultSteps a million', edit: (m) => { m.scheduler.defaultSteps = 1e6; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'defaultGuidance a string', edit: (m) => { m.scheduler.defaultGuidance = 'high'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'defaultGuidance 1e9', edit: (m) => { m.scheduler.defaultGuidance = 1e9; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'preview range empty', edit: (m) => { m.preview.from = [1, 1]; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'preview to beyond 255', edit: (m) => { m.preview.to = [0, 1e9]; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'preview channels 5', edit: (m) => { m.preview.channels = 5; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plans a string', edit: (m) => { m.plans = 'all'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: '5000 plans', edit: (m) => { m.plans = Array(5000).fill(m.plans[0]); }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plan file ../ escape', edit: (m) => { m.plans[0].file = '../../secret.json'; }, code: 'MODEL_FILE_URL' },
  { name: 'plan kind unknown', edit: (m) => { m.plans[0].kind = 'fastcache'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plan steps 0', edit: (m) => { m.plans[0].steps = 0; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plan budget above steps', edit: (m) => { m.plans[0].budget = 999; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plan space latent', edit: (m) => { m.plans[0].space = 'latent'; }, code: 'MANIFEST_FIELD_INVALID' },
  { name: 'plan phi unknown', edit: (m) => { m.plans[0].phi = 'magic'; }, code: 'MANIFEST_FIELD_INVALID' },
];

// ── plans ───────────────────────────────────────────────────────────────────────────────────
const PLAN_DIR = join(MODEL_DIR, 'plans');
const basePlan = (kind: string): Json => JSON.parse(readFileSync(join(PLAN_DIR, `${kind}-8-b5.json`), 'utf8'));

/** Every per-step array of an 8-step plan (phi, gamma, forecast.phi, …) grown to `steps`, repeating its last value. */
function padSteps(o: Json, steps: number, from = 8): void {
  for (const [key, v] of Object.entries(o)) {
    if (Array.isArray(v) && v.length === from && v.every((e) => typeof e !== 'object')) o[key] = [...v, ...Array(steps - from).fill(v[from - 1])];
    else if (v && typeof v === 'object' && !Array.isArray(v) && key !== 'calibration') padSteps(v as Json, steps, from);
  }
}

interface PlanCase { name: string; kind: string; code: string; edit?: (p: Json) => void; body?: string; status?: number; budget?: number }

const PLAN_CASES: PlanCase[] = [
  { name: 'valid plan (control)', kind: 'ertacache', code: 'OK' },
  { name: 'not JSON', kind: 'ertacache', body: 'plan?', code: 'MANIFEST_FORMAT' },
  { name: 'not deployed (404)', kind: 'ertacache', body: 'gone', status: 404, code: 'PLAN_NOT_FOUND' },
  { name: '5 MB plan', kind: 'ertacache', body: `{"pad":"${'x'.repeat(5 * 2 ** 20)}"}`, code: 'MANIFEST_TOO_LARGE' },
  { name: 'an array', kind: 'ertacache', body: '[]', code: 'PLAN_INVALID' },
  { name: 'version 99', kind: 'ertacache', edit: (p) => { p.version = 99; }, code: 'PLAN_INVALID' },
  { name: 'fitted for other weights', kind: 'ertacache', edit: (p) => { p.modelHash = wrongHash; }, code: 'PLAN_MISMATCH' },
  { name: 'fitted for other steps', kind: 'ertacache', edit: (p) => { p.steps += 1; padSteps(p, p.steps, p.steps - 1); }, code: 'PLAN_MISMATCH' },
  { name: 'reuses step 0', kind: 'ertacache', edit: (p) => { p.reuse = [0, 3]; }, code: 'PLAN_INVALID' },
  { name: 'reuses the last step', kind: 'ertacache', edit: (p) => { p.reuse = [3, 7]; }, code: 'PLAN_INVALID' },
  { name: 'reuse descending', kind: 'ertacache', edit: (p) => { p.reuse = [5, 3, 1]; }, code: 'PLAN_INVALID' },
  { name: 'phi too short', kind: 'ertacache', edit: (p) => { p.phi = [1]; }, code: 'PLAN_INVALID' },
  { name: 'phi negative', kind: 'ertacache', edit: (p) => { p.phi[1] = -1; }, code: 'PLAN_INVALID' },
  { name: 'rectification space unknown', kind: 'ertacache', edit: (p) => { p.rectification.space = 'latent'; }, code: 'PLAN_INVALID' },
  { name: 'rectification channels ≠ model', kind: 'ertacache', code: 'PLAN_MISMATCH', edit: (p) => {
    p.rectification.channels = 3;
    for (const s of p.rectification.steps) { s.a = [0, 0, 0]; s.b = [0, 0, 0]; }
  } },
  { name: 'kind says teacache', kind: 'ertacache', edit: (p) => { p.kind = 'teacache'; }, code: 'PLAN_INVALID' },
  { name: 'teacache without coefficients', kind: 'teacache', edit: (p) => { p.coefficients = []; }, code: 'PLAN_INVALID' },
  { name: 'teacache negative delta', kind: 'teacache', edit: (p) => { p.delta = -1; }, code: 'PLAN_INVALID' },
  { name: 'magcache negative gamma', kind: 'magcache', edit: (p) => { p.gamma[2] = -1; }, code: 'PLAN_INVALID' },
  { name: 'magcache retention 5', kind: 'magcache', edit: (p) => { p.retention = 5; }, code: 'PLAN_INVALID' },
  { name: 'budget the manifest does not list', kind: 'ertacache', budget: 4, code: 'PLAN_NOT_FOUND' },
];

// ── API calls (sources evaluated in the page against the live client) ──────────────────────
interface ApiCase { name: string; code: string; call: string }
const api = (name: string, code: string, call: string): ApiCase => ({ name, code, call });
const gen = (req: string) => `(c) => c.generate(${req})`;

const LOAD_CASES: ApiCase[] = [
  api('load(undefined)', 'BAD_INPUT', '(c) => c.load(undefined)'),
  api('load(42)', 'BAD_INPUT', '(c) => c.load(42)'),
  api("load('')", 'BAD_INPUT', "(c) => c.load('')"),
  api('load(data: URL)', 'BAD_INPUT', "(c) => c.load('data:application/json,{}')"),
  api('load(javascript: URL)', 'BAD_INPUT', "(c) => c.load('javascript:alert(1)')"),
  api('load(file: URL)', 'BAD_INPUT', "(c) => c.load('file:///etc/passwd')"),
  api('load(url, "wasm")', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', 'wasm')"),
  api('load(url, [1])', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', [1])"),
  api('provider cuda', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', { provider: 'cuda' })"),
  api('graphs double', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', { graphs: 'double' })"),
  api('cache "yes"', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', { cache: 'yes' })"),
  api('misspelt option', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', { provder: 'wasm' })"),
  api('onProgress not a function', 'BAD_INPUT', "(c) => c.load('/models/x/manifest.json', {}, 'log')"),
  api('generate before load', 'NOT_LOADED', gen('{ label: 1, seed: 1, steps: 2 }')),
];

const GENERATE_CASES: ApiCase[] = [
  api('generate(null)', 'BAD_INPUT', gen('null')),
  api('generate(undefined)', 'BAD_INPUT', gen('undefined')),
  api('generate("3")', 'BAD_INPUT', gen("'3'")),
  api('generate([])', 'BAD_INPUT', gen('[]')),
  api('generate({})', 'BAD_INPUT', gen('{}')),
  api('label -1', 'BAD_INPUT', gen('{ label: -1, seed: 1 }')),
  api('label = classes', 'BAD_INPUT', gen('{ label: 10, seed: 1 }')),
  api('label 1.5', 'BAD_INPUT', gen('{ label: 1.5, seed: 1 }')),
  api('label "3"', 'BAD_INPUT', gen("{ label: '3', seed: 1 }")),
  api('no seed', 'BAD_INPUT', gen('{ label: 1 }')),
  api('seed -1', 'BAD_INPUT', gen('{ label: 1, seed: -1 }')),
  api('seed 2^32', 'BAD_INPUT', gen('{ label: 1, seed: 2 ** 32 }')),
  api('seed NaN', 'BAD_INPUT', gen('{ label: 1, seed: NaN }')),
  api('steps 0', 'BAD_INPUT', gen('{ label: 1, seed: 1, steps: 0 }')),
  api('steps a million', 'BAD_INPUT', gen('{ label: 1, seed: 1, steps: 1e6 }')),
  api('steps 2.5', 'BAD_INPUT', gen('{ label: 1, seed: 1, steps: 2.5 }')),
  api('guidance "high"', 'BAD_INPUT', gen("{ label: 1, seed: 1, guidance: 'high' }")),
  api('guidance Infinity', 'BAD_INPUT', gen('{ label: 1, seed: 1, guidance: Infinity }')),
  api('policy as a string', 'BAD_INPUT', gen("{ label: 1, seed: 1, policy: 'ertacache' }")),
  api('policy kind unknown', 'UNKNOWN_POLICY', gen("{ label: 1, seed: 1, policy: { kind: 'fast' } }")),
  api('policy without kind', 'UNKNOWN_POLICY', gen('{ label: 1, seed: 1, policy: {} }')),
  api('policy field misspelt', 'BAD_INPUT', gen("{ label: 1, seed: 1, policy: { kind: 'none', budjet: 2 } }")),
  api('uniform budget 0', 'BAD_INPUT', gen("{ label: 1, seed: 1, steps: 4, policy: { kind: 'uniform', budget: 0 } }")),
  api('uniform budget 1', 'BAD_INPUT', gen("{ label: 1, seed: 1, steps: 4, policy: { kind: 'uniform', budget: 1 } }")),
  api('budget above steps', 'BAD_INPUT', gen("{ label: 1, seed: 1, steps: 4, policy: { kind: 'uniform', budget: 9 } }")),
  api('uniform interval 0', 'BAD_INPUT', gen("{ label: 1, seed: 1, steps: 4, policy: { kind: 'uniform', interval: 0 } }")),
  api('space latent', 'BAD_INPUT', gen("{ label: 1, seed: 1, policy: { kind: 'ertacache', space: 'latent' } }")),
  api('delta negative', 'BAD_INPUT', gen("{ label: 1, seed: 1, policy: { kind: 'teacache', delta: -1 } }")),
  api('ertacache without a plan for 7 steps', 'PLAN_NOT_FOUND', gen("{ label: 1, seed: 1, steps: 7, policy: { kind: 'ertacache' } }")),
  api('previewEvery -1', 'BAD_INPUT', gen('{ label: 1, seed: 1, previewEvery: -1 }')),
  api('timeMode fast', 'BAD_INPUT', gen("{ label: 1, seed: 1, timeMode: 'fast' }")),
  api('jobId a number', 'BAD_INPUT', gen('{ label: 1, seed: 1, jobId: 42 }')),
  api('unknown field', 'BAD_INPUT', gen('{ lable: 1, label: 1, seed: 1 }')),
  api('a function in the request', 'BAD_INPUT', gen('{ label: 1, seed: 1, onStep: () => 1 }')),
  api('onEvent not a function', 'BAD_INPUT', "(c) => c.generate({ label: 1, seed: 1, steps: 1 }, 'log')"),
  api('cancel(undefined), nothing running: no-op', 'OK', '(c) => c.cancel(undefined)'),
  api('cancel(null): no-op', 'OK', '(c) => c.cancel(null)'),
  api('cancel(unknown id): no-op', 'OK', "(c) => c.cancel('job-that-never-was')"),
  api('cancel(42)', 'BAD_INPUT', '(c) => c.cancel(42)'),
  api('cancel({})', 'BAD_INPUT', '(c) => c.cancel({})'),
];

// ── element attributes ──────────────────────────────────────────────────────────────────────
interface AttrCase { name: string; code: string; attrs: Record<string, string | null> }
const attr = (name: string, code: string, attrs: Record<string, string | null>): AttrCase => ({ name, code, attrs });

const ATTRIBUTE_CASES: AttrCase[] = [
  attr('steps "many"', 'BAD_INPUT', { steps: 'many' }),
  attr('steps 0', 'BAD_INPUT', { steps: '0' }),
  attr('steps 1e9', 'BAD_INPUT', { steps: '1e9' }),
  attr('label -1', 'BAD_INPUT', { label: '-1' }),
  attr('label 10 (= classes)', 'BAD_INPUT', { label: '10' }),
  attr('label "seven"', 'BAD_INPUT', { label: 'seven' }),
  attr('seed -5', 'BAD_INPUT', { seed: '-5' }),
  attr('seed 99999999999', 'BAD_INPUT', { seed: '99999999999' }),
  attr('guidance "lots"', 'BAD_INPUT', { guidance: 'lots' }),
  attr('guidance 1e9', 'BAD_INPUT', { guidance: '1e9' }),
  attr('provider cuda', 'BAD_INPUT', { provider: 'cuda' }),
  attr('policy fast', 'UNKNOWN_POLICY', { policy: 'fast' }),
  attr('budget 0', 'BAD_INPUT', { budget: '0' }),
  attr('uniform budget 999', 'BAD_INPUT', { policy: 'uniform', budget: '999' }),
  attr('preview-every -1', 'BAD_INPUT', { 'preview-every': '-1' }),
  attr('model javascript:', 'BAD_INPUT', { model: 'javascript:alert(1)' }),
  attr('model data:', 'BAD_INPUT', { model: 'data:application/json,{}' }),
  attr('model not deployed', 'MODEL_NOT_FOUND', { model: 'models/nope/manifest.json' }),
  attr('model with an absurd class count', 'MANIFEST_FIELD_INVALID', { model: 'corpus/el/manifest.json' }),
];

test('the corpus holds at least 100 bad inputs across manifests, plans, API calls and attributes', () => {
  const bad = [...MANIFEST_CASES, ...PLAN_CASES, ...LOAD_CASES, ...GENERATE_CASES, ...ATTRIBUTE_CASES].filter((c) => c.code !== 'OK');
  expect(bad.length).toBeGreaterThanOrEqual(100);
});

test('bad manifests: each its typed error at load, the page never freezes', async ({ harness }) => {
  test.setTimeout(420_000); // ~100 loads; a handful create sessions (slow on a CPU shared with other jobs)
  // Graph files by absolute URL on this origin, opted in with fileOrigins: cases that get as far
  // as the graphs then read them from IndexedDB (filled by the first load) instead of the network.
  const real = withOriginFiles(readManifest() as unknown as Json, harness);
  await serveCorpus(harness);
  ok(await load(harness, { provider: 'wasm' }));

  const got: string[] = [];
  const want: string[] = [];
  for (const [k, c] of MANIFEST_CASES.entries()) {
    const dir = `/corpus/m${k}/`;
    let body = c.body;
    if (body === undefined) {
      const m = clone(real);
      c.edit!(m, dir);
      body = JSON.stringify(m);
    }
    served.set(`${dir}manifest.json`, { body });
    const o = await bounded(harness, c.name, () => load(harness, { provider: 'wasm', graphs: c.graphs ?? 'split' }, `${dir}manifest.json`));
    got.push(`${c.name}: ${codeOf(o)}`);
    want.push(`${c.name}: ${c.code}`);
    if (!o.ok) expect(o.error.hint.length, `${c.name}: hint`).toBeGreaterThan(10);
  }
  expect(got).toEqual(want);

  // After all that, the same worker still produces the reference image.
  ok(await load(harness, { provider: 'wasm' }));
  const run = ok(await generate(harness, { ...REFERENCE, policy: { kind: 'none' } }));
  expect(maxAbsDiff(run.image, await referenceImage())).toBeLessThan(1e-3);
});

test('bad plans: each its typed error before any step; the worker still draws the reference', async ({ harness }) => {
  test.setTimeout(300_000);
  await serveCorpus(harness);
  // One manifest whose plan list points at a (mutated) plan per case, each for its own step
  // count, so each generate() reads exactly its case.
  const m = withOriginFiles(readManifest() as unknown as Json, harness);
  const steps = (k: number) => 10 + k;
  m.plans = PLAN_CASES.map((c, k) => ({ file: `plans/c${k}.json`, kind: c.kind, steps: steps(k), budget: 5 }));
  PLAN_CASES.forEach((c, k) => {
    let body = c.body;
    if (body === undefined) {
      const p = basePlan(c.kind);
      p.steps = steps(k);
      padSteps(p, steps(k));
      c.edit?.(p);
      body = JSON.stringify(p);
    }
    served.set(`/corpus/p/plans/c${k}.json`, { body, status: c.status ?? 200 });
  });
  served.set('/corpus/p/manifest.json', { body: JSON.stringify(m) });
  ok(await load(harness, { provider: 'wasm' }, '/corpus/p/manifest.json'));
  const planGot: string[] = [];
  const planWant: string[] = [];
  for (const [k, c] of PLAN_CASES.entries()) {
    const req = { label: 1, seed: 1, steps: steps(k), previewEvery: 0, policy: { kind: c.kind, budget: c.budget ?? 5 } };
    const o = await bounded(harness, c.name, () => generate(harness, req));
    planGot.push(`${c.name}: ${codeOf(o)}`);
    planWant.push(`${c.name}: ${c.code}`);
  }
  expect(planGot).toEqual(planWant);

  // After all that, the same worker still produces the reference image.
  ok(await load(harness, { provider: 'wasm' }));
  const run = ok(await generate(harness, { ...REFERENCE, policy: { kind: 'none' } }));
  expect(maxAbsDiff(run.image, await referenceImage())).toBeLessThan(1e-3);
});

test('bad API calls: each its typed error (documented no-ops stay no-ops); the worker still draws the reference', async ({ harness }) => {
  const raw = (source: string) => harness.evaluate(
    (s) => (globalThis as unknown as { harness: { raw(s: string): Promise<Outcome<null>> } }).harness.raw(s), source);
  const run = async (cases: ApiCase[]) => {
    const got: string[] = [];
    for (const c of cases) got.push(`${c.name}: ${codeOf(await bounded(harness, c.name, () => raw(c.call)))}`);
    expect(got).toEqual(cases.map((c) => `${c.name}: ${c.code}`));
  };
  await run(LOAD_CASES);
  ok(await load(harness, { provider: 'wasm' }));
  await run(GENERATE_CASES);
  const again = ok(await generate(harness, { ...REFERENCE, policy: { kind: 'none' } }));
  expect(maxAbsDiff(again.image, await referenceImage())).toBeLessThan(1e-3);
});

test.describe('the element', () => {
  let server: StaticServer;
  test.beforeAll(async () => {
    server = await serveDist();
  });
  test.afterAll(async () => {
    await server.close();
  });

  test('bad attributes: each its typed error; the element still draws the reference', async ({ page }) => {
    await openFixture(page, server, MODEL_NAME);
    const absurd = clone(readManifest() as unknown as Json);
    absurd.conditioning.classes = 2e9;
    absurd.conditioning.nullLabel = 2e9;
    await page.route('**/corpus/el/manifest.json', (route) => route.fulfill({ json: absurd }));
    const good = { model: `models/${MODEL_NAME}/manifest.json`, label: String(REFERENCE.label), seed: String(REFERENCE.seed),
      steps: String(REFERENCE.steps), policy: 'none', provider: 'wasm', guidance: String(REFERENCE.guidance), budget: null,
      'preview-every': '0' };
    await setAttrs(page, good);
    const first = await elementGenerate(page); // starts the worker and loads the model once
    expect(first.ok).toBe(true);
    const got: string[] = [];
    for (const c of ATTRIBUTE_CASES) {
      await setAttrs(page, { ...good, ...c.attrs });
      const r = await bounded(page, c.name, () => elementGenerate(page));
      got.push(`${c.name}: ${r.ok ? 'OK' : r.code}`);
    }
    expect(got).toEqual(ATTRIBUTE_CASES.map((c) => `${c.name}: ${c.code}`));
    await setAttrs(page, good);
    const r = await elementGenerate(page);
    if (!r.ok) throw new Error(`expected an image, got ${r.code}: ${r.message}`);
    expect(maxAbsDiff(r.image, await referenceImage())).toBeLessThan(1e-3);
  });

  test('a model with 100 000 classes gets a number input, not 100 000 options', async ({ page }) => {
    await openFixture(page, server, MODEL_NAME);
    const shown = await bounded(page, 'label picker', () => page.evaluate(async () => {
      // A runtime that reports a huge (but valid) class count: only the element's UI is under test.
      const Base = customElements.get('erta-diffusion') as unknown as { new(): HTMLElement };
      const info = { name: 'big', modelHash: '', weights: null, graphs: 'split', latent: { channels: 1, height: 28, width: 28 },
        classes: 100_000, nullLabel: 100_000, defaultSteps: 4, defaultGuidance: 1, plans: [],
        provider: { requested: 'wasm', used: 'wasm', reason: '', threads: 1, crossOriginIsolated: false, notes: [] },
        downloadedBytes: 0, cachedFiles: [], warnings: [], loadMs: 0 };
      class Fake extends Base {
        createConnection() {
          const cancelled = Object.assign(new Error('stop'), { code: 'CANCELLED', hint: '' });
          return { terminate() {}, api: { load: async () => info, generate: async () => { throw cancelled; },
            cancel: async () => {}, dispose: async () => {} } };
        }
      }
      customElements.define('erta-fake-classes', Fake);
      const el = document.createElement('erta-fake-classes') as HTMLElement & { generate(): Promise<unknown> };
      el.setAttribute('controls', '');
      el.setAttribute('label', '54321');
      document.body.append(el);
      await el.generate().catch(() => undefined);
      const root = el.shadowRoot!;
      const number = root.querySelector<HTMLInputElement>('input[name="label-number"]')!;
      return { options: root.querySelectorAll('option').length, select: root.querySelector('select') !== null,
        label: number.parentElement!.textContent, max: number.max, value: number.value };
    }));
    expect(shown).toEqual({ options: 0, select: false, label: 'Label', max: '99999', value: '54321' });
  });
});

test('missing ORT files are ORT_FILES_NOT_FOUND, not a model problem', async ({ harness }) => {
  await harness.route('**/ort/**', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await harness.evaluate(() => (globalThis as unknown as { harness: { restart(): Promise<void> } }).harness.restart());
  const o = await bounded(harness, 'no ORT files', () => load(harness, { provider: 'wasm' }));
  expect(codeOf(o)).toBe('ORT_FILES_NOT_FOUND');
  if (!o.ok) expect(`${o.error.message} ${o.error.hint}`).toMatch(/ort/i);
});
