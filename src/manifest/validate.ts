// parseManifest: untrusted JSON → ModelManifest, or a typed ModelError that says how to fix it.

import { checkGraphContract, type ClassGraphName, type ContractSizes } from './contract.ts';
import { manifestError } from './errors.ts';
import { invalidField, reader, type FieldReader } from './fields.ts';
import { boundedInt, checkPipelineContract, PIPELINE_LIMITS, parseTextComponents, parseTextConditioning, transformerGraphs } from './pipeline.ts';
import {
  GRAPHS_FOR_MODE,
  MANIFEST_FORMAT,
  MANIFEST_VERSIONS,
  PIPELINE_MANIFEST_VERSION,
  type GraphEntry,
  type GraphMode,
  type GraphName,
  type LabelDtype,
  type ModelManifest,
  type PlanEntry,
  type TensorDtype,
  type TensorSpec,
} from './types.ts';

const WHERE = 'manifest.json';
const GRAPH_NAMES: readonly GraphName[] = ['embed', 'blocks', 'head', 'model', 'classifier'];
const DTYPES: readonly string[] = ['float32', 'int32', 'int64'] satisfies TensorDtype[];
const LABEL_DTYPES: readonly string[] = ['int32', 'int64'] satisfies LabelDtype[];
const SHA256 = /^[0-9a-f]{64}$/;

function parseHeader(r: FieldReader): number {
  const format = r.str('format');
  if (format !== MANIFEST_FORMAT) {
    throw manifestError(
      'MANIFEST_FORMAT',
      `${WHERE}: format is "${format}", expected "${MANIFEST_FORMAT}"`,
      'Point --model / the manifest URL at a directory exported by tools/export.py.',
    );
  }
  const version = r.int('version');
  if (!MANIFEST_VERSIONS.includes(version)) {
    throw manifestError(
      'MANIFEST_VERSION',
      `${WHERE}: version ${version} is not supported (this runtime reads versions ${MANIFEST_VERSIONS.join(' and ')})`,
      'Re-export the model with the tools/export.py (or export_t2i.py) that ships with this runtime.',
    );
  }
  return version;
}

function parseSpec(r: FieldReader, name: string): TensorSpec {
  const io = r.obj(name);
  const dtype = io.str('dtype');
  if (!DTYPES.includes(dtype)) invalidField(WHERE, `${io.path}.dtype`, DTYPES.join(' | '), dtype);
  const shape = io.arr('shape');
  shape.forEach((d, k) => {
    if (typeof d !== 'string' && !(typeof d === 'number' && Number.isInteger(d) && d > 0)) {
      invalidField(WHERE, `${io.path}.shape[${k}]`, 'a positive integer or a symbol', d);
    }
  });
  return { dtype: dtype as TensorDtype, shape: shape as (number | string)[] };
}

function parseSpecs(r: FieldReader, key: 'inputs' | 'outputs'): Record<string, TensorSpec> {
  const specs = r.obj(key);
  return Object.fromEntries(Object.keys(specs.value).map((n) => [n, parseSpec(specs, n)]));
}

function parseGraph(g: FieldReader): GraphEntry {
  const sha256 = g.str('sha256').toLowerCase();
  if (!SHA256.test(sha256)) invalidField(WHERE, `${g.path}.sha256`, '64 hex digits', sha256);
  const entry: GraphEntry = {
    file: g.str('file'),
    sha256,
    bytes: g.int('bytes'),
    inputs: parseSpecs(g, 'inputs'),
    outputs: parseSpecs(g, 'outputs'),
  };
  const flops = g.optNum('flopsPerSample');
  if (flops !== undefined) entry.flopsPerSample = flops;
  return entry;
}

function parseGraphs(graphs: FieldReader): Partial<Record<GraphName, GraphEntry>> {
  const out: Partial<Record<GraphName, GraphEntry>> = {};
  for (const name of GRAPH_NAMES) if (graphs.has(name)) out[name] = parseGraph(graphs.obj(name));
  const complete = (Object.keys(GRAPHS_FOR_MODE) as GraphMode[]).some((m) => GRAPHS_FOR_MODE[m].every((g) => out[g]));
  if (!complete) {
    throw manifestError(
      'GRAPH_MISSING',
      `${WHERE}: graphs must list embed, blocks and head (split) or model (single graph)`,
      'Re-export the model with tools/export.py, which writes all four graphs.',
    );
  }
  return out;
}

function parseConditioning(r: FieldReader): ModelManifest['conditioning'] {
  const c = r.obj('conditioning');
  const type = c.str('type');
  if (type !== 'class') invalidField(WHERE, 'conditioning.type', '"class"', type);
  const labelDtype = c.str('labelDtype');
  if (!LABEL_DTYPES.includes(labelDtype)) {
    throw manifestError(
      'LABEL_DTYPE_UNSUPPORTED',
      `${WHERE}: conditioning.labelDtype "${labelDtype}" is not supported (int32 or int64)`,
      'Export the label input y as int32 (preferred: WebGPU graph capture rejects int64) or int64.',
    );
  }
  return { type, classes: c.int('classes'), nullLabel: c.int('nullLabel'), labelDtype: labelDtype as LabelDtype };
}

function parsePair(r: FieldReader, key: string): [number, number] {
  const v = r.arr(key);
  if (v.length !== 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    invalidField(WHERE, `${r.path}.${key}`, 'two numbers [lo, hi]', v);
  }
  return [v[0] as number, v[1] as number];
}

function parsePlans(r: FieldReader): PlanEntry[] {
  if (!r.has('plans')) return [];
  return r.arr('plans').map((p, k) => {
    const e = reader(p, WHERE, `plans[${k}]`);
    const entry: PlanEntry = { file: e.str('file'), kind: e.str('kind'), steps: e.int('steps') };
    const budget = e.optNum('budget');
    if (budget !== undefined) entry.budget = budget;
    const space = e.optStr('space');
    if (space !== undefined && space !== 'output' && space !== 'hidden') {
      invalidField(WHERE, `plans[${k}].space`, '"output" or "hidden"', space);
    }
    if (space !== undefined) entry.space = space;
    const phi = e.optStr('phi');
    if (phi !== undefined && phi !== 'paper' && phi !== 'lsq') invalidField(WHERE, `plans[${k}].phi`, '"paper" or "lsq"', phi);
    if (phi !== undefined) entry.phi = phi;
    return entry;
  });
}

/** Version 2 with text conditioning: the transformer and the pipeline's components. */
function parseTextModel(r: FieldReader, latentChannels: number) {
  const graphs = parseGraphs(transformerGraphs(r));
  const { pipeline, graphs: extra } = parseTextComponents(r, parseGraph, latentChannels);
  return { conditioning: parseTextConditioning(r), graphs: { ...graphs, ...extra }, pipeline };
}

function parseBody(r: FieldReader, baseUrl: string, version: number): ModelManifest {
  const latent = r.obj('latent');
  const hidden = r.obj('hidden');
  const scheduler = r.obj('scheduler');
  const preview = r.obj('preview');
  if (scheduler.str('type') !== 'flow-match-euler') {
    invalidField(WHERE, 'scheduler.type', '"flow-match-euler"', scheduler.value['type']);
  }
  const size = { channels: latent.int('channels'), height: latent.int('height'), width: latent.int('width') };
  const text = version === PIPELINE_MANIFEST_VERSION && r.obj('conditioning').value['type'] === 'text';
  if (text) {
    boundedInt(latent, 'channels', 1, 64);
    boundedInt(latent, 'height', 1, 1024);
    boundedInt(latent, 'width', 1, 1024);
  }
  const parts = text
    ? parseTextModel(r, size.channels)
    : {
      conditioning: parseConditioning(r),
      graphs: parseGraphs(version === PIPELINE_MANIFEST_VERSION ? transformerGraphs(r) : r.obj('graphs')),
      pipeline: null,
    };
  const m: ModelManifest = {
    format: MANIFEST_FORMAT,
    version,
    name: r.str('name'),
    modelHash: r.str('modelHash'),
    architecture: r.obj('architecture').value,
    latent: size,
    image: { ...size },
    hidden: { tokens: hidden.int('tokens'), dim: hidden.int('dim') },
    ...parts,
    scheduler: {
      type: 'flow-match-euler',
      shift: scheduler.num('shift'),
      defaultSteps: scheduler.int('defaultSteps'),
      defaultGuidance: scheduler.num('defaultGuidance'),
    },
    preview: { from: parsePair(preview, 'from'), to: parsePair(preview, 'to'), channels: preview.int('channels') },
    plans: parsePlans(r),
    baseUrl,
  };
  const weights = r.optStr('weights');
  if (weights !== undefined) m.weights = weights;
  const prompts = r.optStr('calibrationPrompts');
  if (prompts !== undefined) m.calibrationPrompts = prompts;
  const evaluation = r.optStr('evaluationPrompts');
  if (evaluation !== undefined) m.evaluationPrompts = evaluation;
  return m;
}

/**
 * Validates a parsed manifest.json. `baseUrl` is where it was loaded from (directory or URL);
 * graph and plan files resolve against it (resolveModelFile).
 */
export function parseManifest(json: unknown, baseUrl: string): ModelManifest {
  const r = reader(json, WHERE); // rejects non-objects (arrays, null, strings) first
  const version = parseHeader(r);
  const m = parseBody(r, baseUrl, version);
  if (m.conditioning.type === 'text') return checkTextModel(m);
  const sizes: ContractSizes = {
    C: m.latent.channels,
    H: m.latent.height,
    W: m.latent.width,
    N: m.hidden.tokens,
    D: m.hidden.dim,
    K: m.conditioning.classes,
    labelDtype: m.conditioning.labelDtype,
  };
  for (const [name, entry] of Object.entries(m.graphs) as [ClassGraphName, GraphEntry][]) {
    checkGraphContract(name, entry, sizes);
  }
  return m;
}

/** Role contract of a text model; fixes `image` to the VAE decoder's output size. */
function checkTextModel(m: ModelManifest): ModelManifest {
  const p = m.pipeline!;
  const c = m.conditioning as Extract<ModelManifest['conditioning'], { type: 'text' }>;
  if (p.tokenizer.maxLength !== c.maxTokens) {
    invalidField(WHERE, 'components.tokenizer.maxLength', `conditioning.maxTokens (${c.maxTokens})`, p.tokenizer.maxLength);
  }
  checkPipelineContract(p, m.graphs, {
    C: m.latent.channels, H: m.latent.height, W: m.latent.width, N: m.hidden.tokens, D: m.hidden.dim,
    L: c.maxTokens, X: c.contextDim,
  });
  const out = m.graphs.vaeDecoder!.outputs[p.vaeDecoder.io.image]!.shape as number[];
  const [channels, height, width] = out.slice(1) as [number, number, number];
  if (channels !== 3 || height > PIPELINE_LIMITS.imageSide || width > PIPELINE_LIMITS.imageSide) {
    invalidField(WHERE, `components.vaeDecoder.graph.outputs.${p.vaeDecoder.io.image}.shape`,
      `[1, 3, H, W] with H, W ≤ ${PIPELINE_LIMITS.imageSide}`, out);
  }
  m.image = { channels, height, width };
  m.preview = { ...m.preview, channels: 3 };
  return m;
}

/** The graphs a mode needs, or GRAPH_MISSING naming the mode this manifest can run. */
export function requireGraphs(m: ModelManifest, mode: GraphMode): Record<string, GraphEntry> {
  const names = GRAPHS_FOR_MODE[mode];
  const absent = names.filter((n) => !m.graphs[n]);
  if (absent.length > 0) {
    const other: GraphMode = mode === 'split' ? 'single' : 'split';
    throw manifestError(
      'GRAPH_MISSING',
      `${m.name}: the ${mode} mode needs ${absent.join(', ')}.onnx, which the manifest does not list`,
      `Use --graphs ${other} (graphs: '${other}'), or re-export the model with tools/export.py.`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, m.graphs[n]!]));
}

/** Resolves a file named in the manifest against its base (a URL or a directory path). */
export function resolveModelFile(baseUrl: string, file: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(baseUrl)) return new URL(file, base).href;
  return `${base}${file}`;
}
