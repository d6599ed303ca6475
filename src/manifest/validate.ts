// parseManifest: untrusted JSON → ModelManifest, or a typed ModelError that says how to fix it.

import { checkGraphContract, type ClassGraphName, type ContractSizes } from './contract.ts';
import { manifestError } from './errors.ts';
import { invalidField, reader, type FieldReader } from './fields.ts';
import { LIMITS } from './limits.ts';
import type { DdimConfig } from '../core/ddim.ts';
import { PLAN_KINDS } from './plans.ts';
import { checkFileRef, parseFileOrigins } from './urls.ts';
import { graphTotalBytes, parseExternalData, parseWeightFields } from './shards.ts';
import { latentSize } from './types.ts';
import { boundedInt, checkPipelineContract, checkTextAssembly, PIPELINE_LIMITS, parseTextComponents, parseTextConditioning, transformerGraphs } from './pipeline.ts';
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
  if (shape.length > LIMITS.rank) invalidField(WHERE, `${io.path}.shape`, `at most ${LIMITS.rank} dimensions`, shape.length);
  shape.forEach((d, k) => {
    const symbol = typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(d);
    if (!symbol && !(typeof d === 'number' && Number.isInteger(d) && d > 0 && d <= LIMITS.dim)) {
      invalidField(WHERE, `${io.path}.shape[${k}]`, `an integer in [1, ${LIMITS.dim}] or a symbol`, d);
    }
  });
  return { dtype: dtype as TensorDtype, shape: shape as (number | string)[] };
}

function parseSpecs(r: FieldReader, key: 'inputs' | 'outputs'): Record<string, TensorSpec> {
  const specs = r.obj(key);
  const names = Object.keys(specs.value);
  if (names.length > LIMITS.ioPerGraph) invalidField(WHERE, specs.path, `at most ${LIMITS.ioPerGraph} entries`, names.length);
  return Object.fromEntries(names.map((n) => [n, parseSpec(specs, n)]));
}

function parseGraph(g: FieldReader, fileOrigins: readonly string[]): GraphEntry {
  const sha256 = g.str('sha256').toLowerCase();
  if (!SHA256.test(sha256)) invalidField(WHERE, `${g.path}.sha256`, '64 hex digits', sha256);
  const file = g.str('file', LIMITS.fileRef);
  checkFileRef(`${g.path}.file`, file, fileOrigins);
  const entry: GraphEntry = {
    file,
    sha256,
    bytes: g.int('bytes', 1, LIMITS.graphBytes),
    inputs: parseSpecs(g, 'inputs'),
    outputs: parseSpecs(g, 'outputs'),
  };
  const flops = g.optNum('flopsPerSample', 0);
  if (flops !== undefined) entry.flopsPerSample = flops;
  const externalData = parseExternalData(g, fileOrigins);
  if (externalData) entry.externalData = externalData;
  Object.assign(entry, parseWeightFields(g));
  return entry;
}

function parseGraphs(graphs: FieldReader, fileOrigins: readonly string[]): Partial<Record<GraphName, GraphEntry>> {
  const unknown = Object.keys(graphs.value).filter((n) => !(GRAPH_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) invalidField(WHERE, `${graphs.path}.${unknown[0]}`, `one of ${GRAPH_NAMES.join(', ')}`, unknown[0]);
  const out: Partial<Record<GraphName, GraphEntry>> = {};
  for (const name of GRAPH_NAMES) if (graphs.has(name)) out[name] = parseGraph(graphs.obj(name), fileOrigins);
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
  const classes = c.int('classes', 1, LIMITS.classes);
  const nullLabel = c.int('nullLabel');
  if (nullLabel !== classes) {
    // The graphs embed labels 0 … classes−1 plus one null class for guidance, at index `classes`.
    invalidField(WHERE, 'conditioning.nullLabel', `conditioning.classes (${classes}): the null class follows the real ones`, nullLabel);
  }
  return { type, classes, nullLabel, labelDtype: labelDtype as LabelDtype };
}

function parsePair(r: FieldReader, key: string, min = -1e6, max = 1e6): [number, number] {
  const v = r.arr(key);
  const ok = v.length === 2 && v.every((n) => typeof n === 'number' && n >= min && n <= max) && v[0] !== v[1];
  if (!ok) invalidField(WHERE, `${r.path}.${key}`, `two different numbers [lo, hi] in [${min}, ${max}]`, v);
  return [v[0] as number, v[1] as number];
}

function parsePlans(r: FieldReader, fileOrigins: readonly string[]): PlanEntry[] {
  if (!r.has('plans')) return [];
  const list = r.arr('plans');
  if (list.length > LIMITS.plans) invalidField(WHERE, 'plans', `at most ${LIMITS.plans} entries`, list.length);
  return list.map((p, k) => {
    const e = reader(p, WHERE, `plans[${k}]`);
    const file = e.str('file', LIMITS.fileRef);
    checkFileRef(`plans[${k}].file`, file, fileOrigins);
    const kind = e.str('kind', LIMITS.name);
    if (!PLAN_KINDS.includes(kind)) invalidField(WHERE, `plans[${k}].kind`, `one of ${PLAN_KINDS.join(', ')}`, kind);
    const entry: PlanEntry = { file, kind, steps: e.int('steps', 1, LIMITS.steps) };
    const budget = e.optNum('budget');
    if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1 && budget <= entry.steps)) {
      invalidField(WHERE, `plans[${k}].budget`, `an integer in [1, ${entry.steps}] (computed steps of ${entry.steps})`, budget);
    }
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
function parseTextModel(r: FieldReader, latentChannels: number, fileOrigins: readonly string[]) {
  const graphs = parseGraphs(transformerGraphs(r), fileOrigins);
  const { pipeline, graphs: extra } = parseTextComponents(r, (g) => parseGraph(g, fileOrigins), latentChannels);
  pipeline.encoders.forEach((e, k) => checkFileRef(pipeline.encoders.length === 1 && e.io.hiddenStates !== undefined
    ? 'components.tokenizer.file' : `components.textEncoders[${k}].tokenizer.file`, e.tokenizer.file, fileOrigins));
  return { conditioning: parseTextConditioning(r), graphs: { ...graphs, ...extra }, pipeline };
}

function parseLatent(r: FieldReader): ModelManifest['latent'] {
  const l = r.obj('latent');
  const latent: ModelManifest['latent'] = {
    channels: l.int('channels', 1, LIMITS.latentChannels),
    height: l.int('height', 1, LIMITS.latentSide),
    width: l.int('width', 1, LIMITS.latentSide),
  };
  const frames = l.optNum('frames');
  if (frames !== undefined) latent.frames = l.int('frames', 1, LIMITS.latentFrames);
  const elements = latentSize(latent);
  if (elements > LIMITS.latentElements) invalidField(WHERE, 'latent', `at most ${LIMITS.latentElements} elements`, elements);
  return latent;
}

function parseHidden(r: FieldReader): ModelManifest['hidden'] {
  const h = r.obj('hidden');
  const hidden = { tokens: h.int('tokens', 1, LIMITS.hiddenTokens), dim: h.int('dim', 1, LIMITS.hiddenDim) };
  if (hidden.tokens * hidden.dim > LIMITS.hiddenElements) {
    invalidField(WHERE, 'hidden', `at most ${LIMITS.hiddenElements} elements`, hidden.tokens * hidden.dim);
  }
  return hidden;
}

function parseScheduler(r: FieldReader): ModelManifest['scheduler'] {
  const scheduler = r.obj('scheduler');
  const type = scheduler.value['type'];
  if (type !== 'flow-match-euler' && type !== 'ddim') {
    invalidField(WHERE, 'scheduler.type', '"flow-match-euler" or "ddim"', type);
  }
  const common = {
    defaultSteps: scheduler.int('defaultSteps', 1, LIMITS.steps),
    defaultGuidance: scheduler.num('defaultGuidance', 0, LIMITS.guidance),
    ...(scheduler.has('defaultEmbeddedGuidance') ? { defaultEmbeddedGuidance: scheduler.num('defaultEmbeddedGuidance', 0, LIMITS.guidance) } : {}),
  };
  if (type === 'ddim') return { type, shift: 1, ddim: parseDdim(scheduler), ...common };
  const shift = scheduler.num('shift', 0, LIMITS.shift);
  if (shift <= 0) invalidField(WHERE, 'scheduler.shift', 'a number > 0 (1 = no shift)', shift);
  return { type: 'flow-match-euler', shift, ...common };
}

/** An ε-prediction model's training schedule (diffusers' DDPM names). */
function parseDdim(s: FieldReader): DdimConfig {
  const prediction = s.str('prediction');
  if (prediction !== 'epsilon') invalidField(WHERE, 'scheduler.prediction', '"epsilon"', prediction);
  const betaSchedule = s.str('betaSchedule');
  if (betaSchedule !== 'linear' && betaSchedule !== 'scaled_linear') invalidField(WHERE, 'scheduler.betaSchedule', '"linear" or "scaled_linear"', betaSchedule);
  const c: DdimConfig = {
    trainTimesteps: s.int('trainTimesteps', 2, 100_000),
    betaSchedule,
    betaStart: s.num('betaStart', 0, 1),
    betaEnd: s.num('betaEnd', 0, 1),
  };
  if (!(c.betaStart > 0 && c.betaEnd > c.betaStart && c.betaEnd < 1)) {
    invalidField(WHERE, 'scheduler.betaEnd', 'betaStart in (0, betaEnd) and betaEnd < 1', [c.betaStart, c.betaEnd]);
  }
  return c;
}

function parsePreview(r: FieldReader, channels: number): ModelManifest['preview'] {
  const preview = r.obj('preview');
  return {
    from: parsePair(preview, 'from'),
    to: parsePair(preview, 'to', 0, 255),
    channels: preview.int('channels', 1, Math.min(3, channels)),
  };
}

/** Total bytes of every graph: bounded by what a tab can hold. */
function checkTotalBytes(graphs: Partial<Record<GraphName, GraphEntry>>): void {
  const total = Object.values(graphs).reduce((sum, g) => sum + graphTotalBytes(g), 0);
  if (total > LIMITS.totalGraphBytes) {
    invalidField(WHERE, 'graphs.*.bytes (with externalData)', `a total of at most ${LIMITS.totalGraphBytes} bytes (what a browser can hold)`, total);
  }
}

function parseBody(r: FieldReader, baseUrl: string, version: number): ModelManifest {
  const fileOrigins = parseFileOrigins(r.value['fileOrigins']);
  const modelHash = r.str('modelHash').toLowerCase();
  if (!SHA256.test(modelHash)) invalidField(WHERE, 'modelHash', '64 hex digits (README, "Model hash")', modelHash);
  const latent = r.obj('latent');
  const size = parseLatent(r);
  const text = version === PIPELINE_MANIFEST_VERSION && r.obj('conditioning').value['type'] === 'text';
  if (size.frames !== undefined && !text) {
    invalidField(WHERE, 'latent.frames', 'absent: video latents are for version-2 text models (a video VAE decodes them)', size.frames);
  }
  if (text) {
    boundedInt(latent, 'channels', 1, 64);
    boundedInt(latent, 'height', 1, 1024);
    boundedInt(latent, 'width', 1, 1024);
  }
  const parts = text
    ? parseTextModel(r, size.channels, fileOrigins)
    : {
      conditioning: parseConditioning(r),
      graphs: parseGraphs(version === PIPELINE_MANIFEST_VERSION ? transformerGraphs(r) : r.obj('graphs'), fileOrigins),
      pipeline: null,
    };
  checkTotalBytes(parts.graphs);
  const m: ModelManifest = {
    format: MANIFEST_FORMAT,
    version,
    name: r.str('name', LIMITS.name),
    modelHash,
    architecture: r.obj('architecture').value,
    latent: size,
    image: { ...size },
    hidden: parseHidden(r),
    ...parts,
    scheduler: parseScheduler(r),
    preview: parsePreview(r, text ? 3 : size.channels),
    plans: parsePlans(r, fileOrigins),
    baseUrl,
  };
  if (fileOrigins.length > 0) m.fileOrigins = fileOrigins;
  const weights = r.optStr('weights');
  if (weights !== undefined) m.weights = weights.slice(0, LIMITS.name);
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
  const single = p.encoders[0]!.io.hiddenStates !== undefined; // the single-encoder form (components.tokenizer + textEncoder)
  if (single && p.encoders[0]!.tokenizer.maxLength !== c.maxTokens) {
    invalidField(WHERE, 'components.tokenizer.maxLength', `conditioning.maxTokens (${c.maxTokens})`, p.encoders[0]!.tokenizer.maxLength);
  }
  const F = m.latent.frames;
  // The pooled text embedding: the width, the encoder's output and the transformer's input go together.
  const source = single ? 'components.textEncoder.io.pooled' : 'components.textAssembly.pooled';
  const pooledParts = [c.pooledDim !== undefined, p.assembly.pooled.length > 0, p.transformerIo.pooled !== undefined];
  if (pooledParts.some(Boolean) && !pooledParts.every(Boolean)) {
    invalidField(WHERE, 'conditioning.pooledDim', `present together with ${source} and components.transformer.io.pooled `
      + '(a pooled text embedding needs its width, its source and its input)', { pooledDim: c.pooledDim, encoder: p.assembly.pooled.map((f) => f.output), transformer: p.transformerIo.pooled });
  }
  if ((p.transformerIo.guidance !== undefined) !== (m.scheduler.defaultEmbeddedGuidance !== undefined)) {
    invalidField(WHERE, 'scheduler.defaultEmbeddedGuidance', 'a number exactly when components.transformer.io names a guidance input',
      m.scheduler.defaultEmbeddedGuidance);
  }
  const sizes = {
    C: m.latent.channels, H: m.latent.height, W: m.latent.width, N: m.hidden.tokens, D: m.hidden.dim,
    L: c.maxTokens, X: c.contextDim, ...(F !== undefined ? { F } : {}), ...(c.pooledDim !== undefined ? { P: c.pooledDim } : {}),
  };
  checkPipelineContract(p, m.graphs, sizes);
  checkTextAssembly(p, m.graphs, sizes);
  // An image [1, 3, H', W'], or a video's frames [1, 3, T, H', W']: one frame per latent frame (T = F), or a causal
  // VAE's temporal upsampling by s, T = s·(F−1)+1 (Wan: 4·(F−1)+1: the first latent frame gives one frame, each later one s).
  const out = m.graphs.vaeDecoder!.outputs[p.vaeDecoder.io.image]!.shape as number[];
  const [channels, height, width] = [out[1], out[out.length - 2], out[out.length - 1]] as [number, number, number];
  const T = F === undefined ? undefined : out[2]!;
  const framesOk = F === undefined || T === F || (F > 1 && T! > F && (T! - 1) % (F - 1) === 0);
  if (channels !== 3 || out.length !== (F === undefined ? 4 : 5) || !framesOk
    || height > PIPELINE_LIMITS.imageSide || width > PIPELINE_LIMITS.imageSide) {
    invalidField(WHERE, `components.vaeDecoder.graph.outputs.${p.vaeDecoder.io.image}.shape`,
      `${F === undefined ? '[1, 3, H, W]' : `[1, 3, T, H, W] with T = ${F} (one frame per latent frame) or s·${F - 1}+1 (temporal upsampling by s; Wan: ${4 * (F - 1) + 1})`}`
      + ` and H, W ≤ ${PIPELINE_LIMITS.imageSide}`, out);
  }
  m.image = { channels, height, width, ...(T !== undefined ? { frames: T } : {}) };
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

export { resolveModelFile } from './urls.ts';
