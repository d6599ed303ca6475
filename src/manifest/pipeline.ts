// Manifest version 2: a model as components (shared/design/pipelines.md). A text model lists a
// tokenizer, a text encoder, an optional context graph, the transformer (split or single), a
// VAE decoder and a preview map; graph input/output names are data (`io`: role → name), checked
// here against one role table, so a family is added by describing it, not by branching on it.

import { manifestError } from './errors.ts';
import { invalidField, reader, type FieldReader } from './fields.ts';
import { TEXT_ENCODER_GRAPHS, type EncoderOutputRef, type GraphEntry, type GraphName, type TensorSpec, type TextAssembly, type TextConditioning,
  type TextEncoderSpec, type TextPipeline, type TokenizerEntry, type TransformerIo } from './types.ts';

const WHERE = 'manifest.json';
const HINT = 'Re-export the model with tools/export_t2i.py, or fix manifest.json by hand (README: "Pipeline manifest").';

/** Upper bounds on sizes: a manifest past them is corrupt or hostile, not a model to load. */
export const PIPELINE_LIMITS = {
  maxTokens: 4096,
  contextDim: 16384,
  imageSide: 4096,
  imageChannels: 4,
  scaling: 1e4,
  examplePrompts: 32,
  examplePromptChars: 500,
} as const;

/** Reads an integer in [lo, hi], naming the field and the range when it is not. */
export function boundedInt(r: FieldReader, key: string, lo: number, hi: number): number {
  const v = r.int(key);
  if (v < lo || v > hi) invalidField(WHERE, r.path ? `${r.path}.${key}` : key, `an integer in [${lo}, ${hi}]`, v);
  return v;
}

function ioNames<K extends string, O extends string = never>(r: FieldReader, roles: readonly K[], optional: readonly O[] = []):
  Record<K, string> & Partial<Record<O, string>> {
  const io = r.obj('io');
  return Object.fromEntries([...roles.map((k) => [k, io.str(k)]), ...optional.filter((k) => io.has(k)).map((k) => [k, io.str(k)])]) as
    Record<K, string> & Partial<Record<O, string>>;
}

export function parseTextConditioning(r: FieldReader): TextConditioning {
  const c = r.obj('conditioning');
  const neg = c.value['defaultNegativePrompt'];
  if (neg !== undefined && typeof neg !== 'string') invalidField(WHERE, 'conditioning.defaultNegativePrompt', 'a string', neg);
  const ex = c.value['examplePrompts'];
  const { examplePrompts: maxN, examplePromptChars: maxChars } = PIPELINE_LIMITS;
  if (ex !== undefined && !(Array.isArray(ex) && ex.length <= maxN &&
    ex.every((e) => typeof e === 'string' && e.trim() !== '' && e.length <= maxChars))) {
    invalidField(WHERE, 'conditioning.examplePrompts', `at most ${maxN} non-empty strings of at most ${maxChars} characters`, ex);
  }
  return {
    type: 'text',
    maxTokens: boundedInt(c, 'maxTokens', 1, PIPELINE_LIMITS.maxTokens),
    contextDim: boundedInt(c, 'contextDim', 1, PIPELINE_LIMITS.contextDim),
    ...(c.has('pooledDim') ? { pooledDim: boundedInt(c, 'pooledDim', 1, PIPELINE_LIMITS.contextDim) } : {}),
    defaultNegativePrompt: neg ?? '',
    examplePrompts: (ex as string[] | undefined) ?? [],
  };
}

function parseMatrix(p: FieldReader, channels: number): { matrix: number[][]; bias: number[] } {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const matrix = p.arr('matrix');
  const ok = matrix.length === channels && matrix.every((row) => Array.isArray(row) && row.length === 3 && row.every(finite));
  if (!ok) invalidField(WHERE, `${p.path}.matrix`, `${channels} rows (one per latent channel) of 3 finite numbers (R, G, B)`, matrix);
  const bias = p.arr('bias');
  if (bias.length !== 3 || !bias.every(finite)) invalidField(WHERE, `${p.path}.bias`, '3 finite numbers (R, G, B)', bias);
  return { matrix: matrix as number[][], bias: bias as number[] };
}

/** Components → the pipeline description and the graphs to add to manifest.graphs. */
export function parseTextComponents(r: FieldReader, parseGraph: (g: FieldReader) => GraphEntry, latentChannels: number): {
  pipeline: TextPipeline; graphs: Partial<Record<GraphName, GraphEntry>>;
} {
  const comp = r.obj('components');
  const vae = comp.obj('vaeDecoder');
  const preview = comp.obj('preview');
  if (preview.str('type') !== 'linear') invalidField(WHERE, 'components.preview.type', '"linear"', preview.value['type']);
  const tr = comp.obj('transformer');
  const scale = (key: string, lo: number) => {
    const v = vae.num(key);
    if (!(v > lo && Math.abs(v) < PIPELINE_LIMITS.scaling)) invalidField(WHERE, `components.vaeDecoder.${key}`, `a number in (${lo}, ${PIPELINE_LIMITS.scaling})`, v);
    return v;
  };
  const graphs: Partial<Record<GraphName, GraphEntry>> = {};
  const { encoders, assembly } = parseTextEncoders(comp, parseGraph, graphs);
  graphs.vaeDecoder = parseGraph(vae.obj('graph'));
  const ctx = comp.has('context') ? comp.obj('context') : null;
  // Wan's per-channel latent normalisation: both arrays, one finite number per latent channel, std > 0
  const perChannel = (key: 'latentsMean' | 'latentsStd') => {
    if (!vae.has(key)) return undefined;
    const v = vae.arr(key);
    const ok = v.length === latentChannels && v.every((x) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) < PIPELINE_LIMITS.scaling
      && (key === 'latentsMean' || x > 0));
    if (!ok) invalidField(WHERE, `components.vaeDecoder.${key}`, `${latentChannels} finite numbers (one per latent channel${key === 'latentsStd' ? ', each > 0' : ''})`, v);
    return v as number[];
  };
  const latentsMean = perChannel('latentsMean');
  const latentsStd = perChannel('latentsStd');
  if ((latentsMean === undefined) !== (latentsStd === undefined)) {
    invalidField(WHERE, 'components.vaeDecoder.latentsStd', 'present together with latentsMean (per-channel latent normalisation needs both)', latentsStd);
  }
  if (ctx) graphs.context = parseGraph(ctx.obj('graph'));
  const pipeline: TextPipeline = {
    encoders,
    assembly,
    context: ctx ? { graph: 'context', io: ioNames(ctx, ['hiddenStates', 'context'] as const) } : null,
    transformerIo: ioNames(tr, TRANSFORMER_ROLES, ['pooled', 'guidance'] as const),
    vaeDecoder: {
      graph: 'vaeDecoder', io: ioNames(vae, ['latent', 'image'] as const),
      scalingFactor: scale('scalingFactor', 0), shiftFactor: vae.has('shiftFactor') ? scale('shiftFactor', -PIPELINE_LIMITS.scaling) : 0,
      ...(latentsMean && latentsStd ? { latentsMean, latentsStd } : {}),
    },
    preview: { type: 'linear', ...parseMatrix(preview, latentChannels) },
  };
  return { pipeline, graphs };
}

function parseTokenizer(tok: FieldReader): TokenizerEntry {
  const t = {
    file: tok.str('file'), sha256: tok.str('sha256').toLowerCase(), bytes: boundedInt(tok, 'bytes', 1, 1 << 30),
    maxLength: boundedInt(tok, 'maxLength', 1, PIPELINE_LIMITS.maxTokens), padId: boundedInt(tok, 'padId', 0, 1 << 24),
  };
  if (!/^[0-9a-f]{64}$/.test(t.sha256)) invalidField(WHERE, `${tok.path}.sha256`, '64 hex digits', t.sha256);
  return t;
}

/** At most this many text encoders (SD3: CLIP-L, CLIP-G, T5). */
export const MAX_TEXT_ENCODERS = TEXT_ENCODER_GRAPHS.length;

/**
 * The text encoders and how the row is assembled from them. One encoder: `components.tokenizer` + `components.textEncoder`
 * (io: inputIds, hiddenStates, optional pooled), the form every earlier manifest has. Several: `components.textEncoders`
 * (each { tokenizer, graph, io: { inputIds } }) + `components.textAssembly` (types.ts TextAssembly).
 */
function parseTextEncoders(comp: FieldReader, parseGraph: (g: FieldReader) => GraphEntry, graphs: Partial<Record<GraphName, GraphEntry>>):
  { encoders: TextEncoderSpec[]; assembly: TextAssembly } {
  if (!comp.has('textEncoders')) {
    if (comp.has('textAssembly')) {
      invalidField(WHERE, 'components.textAssembly', 'absent with the single-encoder form (components.textEncoder); list the encoders in components.textEncoders to assemble several',
        comp.value['textAssembly']);
    }
    const enc = comp.obj('textEncoder');
    const io = ioNames(enc, ['inputIds', 'hiddenStates'] as const, ['pooled'] as const);
    graphs.textEncoder = parseGraph(enc.obj('graph'));
    return {
      encoders: [{ graph: 'textEncoder', tokenizer: parseTokenizer(comp.obj('tokenizer')), io }],
      assembly: { context: [{ features: [{ encoder: 0, output: io.hiddenStates }] }], pooled: io.pooled ? [{ encoder: 0, output: io.pooled }] : [] },
    };
  }
  for (const single of ['tokenizer', 'textEncoder'] as const) {
    if (comp.has(single)) {
      invalidField(WHERE, `components.${single}`, 'absent when components.textEncoders lists the encoders (one form or the other: move it into textEncoders[0])',
        Object.keys(comp.value[single] as object));
    }
  }
  const list = comp.arr('textEncoders');
  if (list.length < 1 || list.length > MAX_TEXT_ENCODERS) {
    invalidField(WHERE, 'components.textEncoders', `1 to ${MAX_TEXT_ENCODERS} text encoders`, list.length);
  }
  const encoders = list.map((v, k): TextEncoderSpec => {
    const e = reader(v, WHERE, `components.textEncoders[${k}]`);
    const graph = TEXT_ENCODER_GRAPHS[k]!;
    graphs[graph] = parseGraph(e.obj('graph'));
    return { graph, tokenizer: parseTokenizer(e.obj('tokenizer')), io: { inputIds: e.obj('io').str('inputIds') } };
  });
  const a = comp.obj('textAssembly');
  const ref = (v: unknown, path: string): EncoderOutputRef => {
    const f = reader(v, WHERE, path);
    return { encoder: f.int('encoder', 0, encoders.length - 1), output: f.str('output') };
  };
  const refs = (r: FieldReader, key: string, min = 1): EncoderOutputRef[] => {
    const l = r.arr(key);
    if (l.length < min || l.length > 8) {
      invalidField(WHERE, `${r.path}.${key}`, `${min} to 8 encoder outputs ({ "encoder": k, "output": "name" })${min === 0 ? ' (none: a segment of "tokens" zero tokens)' : ''}`, l);
    }
    return l.map((v, k) => ref(v, `${r.path}.${key}[${k}]`));
  };
  const segments = a.arr('context');
  if (segments.length < 1 || segments.length > 8) {
    invalidField(WHERE, 'components.textAssembly.context', '1 to 8 segments ({ "features": [ { "encoder": k, "output": "name" }, … ], "padTo"?: width }), concatenated along the sequence', segments);
  }
  const context = segments.map((v, k) => {
    const s = reader(v, WHERE, `components.textAssembly.context[${k}]`);
    // a segment of zero tokens: no features, its token count (SD3 without T5)
    const zeros = s.has('tokens');
    const features = refs(s, 'features', zeros ? 0 : 1);
    if (zeros && features.length > 0) {
      invalidField(WHERE, `components.textAssembly.context[${k}].tokens`, 'absent when the segment has features (its tokens are theirs); "tokens" makes a segment of zeros with "features": []', s.value['tokens']);
    }
    return { features, ...(s.has('padTo') ? { padTo: boundedInt(s, 'padTo', 1, PIPELINE_LIMITS.contextDim) } : {}),
      ...(zeros ? { tokens: boundedInt(s, 'tokens', 1, PIPELINE_LIMITS.maxTokens) } : {}) };
  });
  if (context.every((q) => q.features.length === 0)) {
    invalidField(WHERE, 'components.textAssembly.context', 'at least one segment with features (a context of zeros only says nothing)', segments);
  }
  const pooled = a.has('pooled') ? refs(a, 'pooled') : [];
  const used = new Set([...context.flatMap((s) => s.features), ...pooled].map((f) => f.encoder));
  encoders.forEach((_, k) => {
    if (!used.has(k)) {
      invalidField(WHERE, 'components.textAssembly', `to read every listed encoder: components.textEncoders[${k}] is never read (name one of its outputs in context or pooled, or remove it)`,
        { context, pooled });
    }
  });
  return { encoders, assembly: { context, pooled } };
}

export const TRANSFORMER_ROLES =
  ['latent', 'sigma', 'hidden', 'temb', 'mod0', 'context', 'hiddenOut', 'velocity'] as const satisfies readonly (keyof TransformerIo)[];

/** The pipeline graphs a text model loads besides the transformer (none for class models). */
export function pipelineGraphNames(m: { pipeline: TextPipeline | null }): GraphName[] {
  if (!m.pipeline) return [];
  return [...m.pipeline.encoders.map((e) => e.graph), ...(m.pipeline.context ? ['context' as const] : []), 'vaeDecoder'];
}

/** The transformer graphs of a version-2 manifest (components.transformer.graphs). */
export function transformerGraphs(r: FieldReader): FieldReader {
  return r.obj('components').obj('transformer').obj('graphs');
}

// ---- role contract: every graph's declared I/O against the sizes the manifest states ----

export interface PipelineSizes {
  C: number; H: number; W: number; N: number; D: number; L: number; X: number;
  /** Models with a pooled text input: its width (conditioning.pooledDim). */
  P?: number;
  /** Video models: latent frames (latents [B, C, F, H, W]). */
  F?: number;
}

type Dim = keyof PipelineSizes | 'B' | 'one' | 'any' | number;
interface RoleSpec { role: string; dtypes: readonly string[]; shape: readonly Dim[] }

const f32 = (role: string, ...shape: Dim[]): RoleSpec => ({ role, dtypes: ['float32'], shape });

/** Which role each graph reads and writes, with dtype and shape in the manifest's sizes. */
function roleTable(p: TextPipeline, video: boolean): Partial<Record<GraphName, { inputs: RoleSpec[]; outputs: RoleSpec[]; io: Record<string, string> }>> {
  const t = p.transformerIo;
  const lat = (video ? ['C', 'F', 'H', 'W'] : ['C', 'H', 'W']) as Dim[];
  // a video's decoder may upsample time (Wan: 4·(F−1)+1 frames): its frame count is checked in validate.ts
  const image = (video ? ['any', 'any', 'any', 'any'] : ['any', 'any', 'any']) as Dim[];
  const temb = f32('temb', 'B', 'any');
  // the pooled text embedding and the guidance scale: embed's and the single graph's, when the io map names them
  const cond = [...(t.pooled ? [f32('pooled', 'B', 'P')] : []), ...(t.guidance ? [f32('guidance', 'B')] : [])];
  // Each encoder reads its own tokenizer's ids; the single-encoder form also names its outputs by role (the assembly,
  // checked in checkTextAssembly, covers both forms).
  const encoders: ReturnType<typeof roleTable> = {};
  for (const e of p.encoders) {
    const single = e.io.hiddenStates !== undefined;
    encoders[e.graph] = {
      io: e.io as Record<string, string>,
      inputs: [{ role: 'inputIds', dtypes: ['int32', 'int64'], shape: ['one', single ? 'L' : e.tokenizer.maxLength] }],
      outputs: single ? [f32('hiddenStates', 'one', 'L', p.context ? 'any' : 'X'), ...(e.io.pooled ? [f32('pooled', 'one', 'P')] : [])] : [],
    };
  }
  const table: ReturnType<typeof roleTable> = {
    ...encoders,
    embed: { io: t as unknown as Record<string, string>, inputs: [f32('latent', 'B', ...lat), f32('sigma', 'B'), ...cond],
      outputs: [f32('hidden', 'B', 'N', 'D'), temb, f32('mod0', 'B', 'N', 'D')] },
    blocks: { io: t as unknown as Record<string, string>, inputs: [f32('hidden', 'B', 'N', 'D'), temb, f32('context', 'B', 'L', 'X')],
      outputs: [f32('hiddenOut', 'B', 'N', 'D')] },
    head: { io: t as unknown as Record<string, string>, inputs: [f32('hidden', 'B', 'N', 'D'), temb], outputs: [f32('velocity', 'B', ...lat)] },
    model: { io: t as unknown as Record<string, string>, inputs: [f32('latent', 'B', ...lat), f32('sigma', 'B'), f32('context', 'B', 'L', 'X'), ...cond],
      outputs: [f32('velocity', 'B', ...lat)] },
    vaeDecoder: { io: p.vaeDecoder.io, inputs: [f32('latent', 'one', ...lat)], outputs: [f32('image', 'one', ...image)] },
  };
  if (p.context) {
    table.context = { io: p.context.io, inputs: [f32('hiddenStates', 'one', 'L', 'any')], outputs: [f32('context', 'one', 'L', 'X')] };
  }
  return table;
}

function dimOk(d: Dim, v: number | string, s: PipelineSizes): boolean {
  if (typeof d === 'number') return v === d;
  if (d === 'B') return typeof v === 'string' || (Number.isInteger(v) && (v as number) > 0);
  if (typeof v !== 'number') return false;
  if (d === 'one') return v === 1;
  if (d === 'any') return v > 0;
  return v === s[d];
}

function checkRole(graph: GraphName, entry: GraphEntry, side: 'inputs' | 'outputs', spec: RoleSpec, name: string, s: PipelineSizes): void {
  const declared: TensorSpec | undefined = entry[side][name];
  if (!declared) {
    throw manifestError('GRAPH_IO_MISSING', `${WHERE}: ${graph} graph (${entry.file}) declares no ${side.slice(0, -1)} "${name}" `
      + `(the ${spec.role} role in its io map)`, 'Make the io map name the graph\'s real input/output names. ' + HINT);
  }
  const shapeOk = declared.shape.length === spec.shape.length && spec.shape.every((d, k) => dimOk(d, declared.shape[k]!, s));
  if (!spec.dtypes.includes(declared.dtype) || !shapeOk) {
    const want = `[${spec.shape.map((d) => (typeof d === 'number' ? String(d) : d in s ? String(s[d as keyof PipelineSizes]) : d === 'one' ? '1' : d)).join(', ')}]`;
    throw manifestError('GRAPH_SPEC_MISMATCH', `${WHERE}: ${graph}.${side}.${name} (${spec.role}) is ${declared.dtype} `
      + `${JSON.stringify(declared.shape)}, expected ${spec.dtypes.join(' | ')} ${want}`, HINT);
  }
}

/** Checks every listed graph's roles; extra declared inputs would never be fed, so they fail too. */
export function checkPipelineContract(p: TextPipeline, graphs: Partial<Record<GraphName, GraphEntry>>, s: PipelineSizes): void {
  for (const [graph, rules] of Object.entries(roleTable(p, s.F !== undefined)) as [GraphName, NonNullable<ReturnType<typeof roleTable>[GraphName]>][]) {
    const entry = graphs[graph];
    if (!entry) continue;
    for (const side of ['inputs', 'outputs'] as const) {
      const names = rules[side].map((spec) => rules.io[spec.role]!);
      rules[side].forEach((spec, k) => checkRole(graph, entry, side, spec, names[k]!, s));
      const extra = side === 'inputs' ? Object.keys(entry.inputs).filter((n) => !names.includes(n)) : [];
      if (extra.length > 0) {
        throw manifestError('GRAPH_SPEC_MISMATCH', `${WHERE}: ${graph} graph declares inputs ${extra.join(', ')} that no role feeds`,
          `Map them in the io table, or re-export the graph without them. ${HINT}`);
      }
    }
  }
}

/**
 * The text assembly against the encoders' declared outputs: every named output exists (GRAPH_IO_MISSING) and is float32
 * [1, tokens, width] for the context or [1, width] for the pooled vector (GRAPH_SPEC_MISMATCH); a segment's outputs share
 * one token count; the segments' widths (padTo, or the sum) agree with each other and with contextDim (no context graph)
 * or the context graph's input; their tokens add up to conditioning.maxTokens; the pooled widths to pooledDim.
 */
export function checkTextAssembly(p: TextPipeline, graphs: Partial<Record<GraphName, GraphEntry>>, s: PipelineSizes): void {
  const at = 'components.textAssembly';
  const declared = (f: EncoderOutputRef, rank: number): number[] => {
    const e = p.encoders[f.encoder]!;
    const entry = graphs[e.graph]!;
    const spec = entry.outputs[f.output];
    if (!spec) {
      throw manifestError('GRAPH_IO_MISSING', `${WHERE}: ${e.graph} graph (${entry.file}) declares no output "${f.output}" (read by ${at})`,
        `Name one of its outputs (${Object.keys(entry.outputs).join(', ')}). ${HINT}`);
    }
    const shape = spec.shape;
    const ok = spec.dtype === 'float32' && shape.length === rank && shape[0] === 1 && shape.slice(1).every((d) => typeof d === 'number' && d > 0)
      && (rank === 2 || shape[1] === e.tokenizer.maxLength);
    if (!ok) {
      throw manifestError('GRAPH_SPEC_MISMATCH', `${WHERE}: ${e.graph}.outputs.${f.output} is ${spec.dtype} ${JSON.stringify(shape)}, expected float32 `
        + (rank === 2 ? '[1, width] (a pooled vector)' : `[1, ${e.tokenizer.maxLength}, width] (one state per token of its tokenizer's ${e.tokenizer.maxLength})`), HINT);
    }
    return shape as number[];
  };
  let tokens = 0;
  let width: number | undefined;
  p.assembly.context.forEach((seg, k) => {
    if (seg.features.length === 0) { // zeros: its width is the others' (or its padTo, checked like theirs)
      tokens += seg.tokens!;
      return;
    }
    const shapes = seg.features.map((f) => declared(f, 3));
    const L = shapes[0]![1]!;
    if (shapes.some((q) => q[1] !== L)) {
      invalidField(WHERE, `${at}.context[${k}].features`, 'outputs with one token count (features concatenate per token; put encoders of different lengths in separate segments)',
        shapes.map((q) => q[1]));
    }
    const sum = shapes.reduce((a, q) => a + q[2]!, 0);
    if (seg.padTo !== undefined && seg.padTo < sum) {
      invalidField(WHERE, `${at}.context[${k}].padTo`, `at least the features' total width ${sum} (zero padding only widens)`, seg.padTo);
    }
    const w = seg.padTo ?? sum;
    if (width !== undefined && w !== width) {
      invalidField(WHERE, `${at}.context[${k}]`, `width ${width} like context[0] (segments concatenate along the sequence: pad the narrower with padTo)`, w);
    }
    width = w;
    tokens += L;
  });
  p.assembly.context.forEach((seg, k) => {
    if (seg.features.length === 0 && seg.padTo !== undefined && seg.padTo !== width) {
      invalidField(WHERE, `${at}.context[${k}].padTo`, `width ${width} like the other segments (or absent)`, seg.padTo);
    }
  });
  if (tokens !== s.L) invalidField(WHERE, `${at}.context`, `segments whose tokens add up to conditioning.maxTokens (${s.L})`, tokens);
  const ctxIn = p.context ? graphs.context?.inputs[p.context.io.hiddenStates]?.shape[2] : undefined;
  if (!p.context && width !== s.X) invalidField(WHERE, `${at}.context`, `width conditioning.contextDim (${s.X}) (no context graph projects it)`, width);
  if (typeof ctxIn === 'number' && ctxIn !== width) {
    invalidField(WHERE, `${at}.context`, `width ${ctxIn}, the context graph's input width`, width);
  }
  const pooled = p.assembly.pooled.reduce((a, f) => a + declared(f, 2)[1]!, 0);
  if (p.assembly.pooled.length > 0 && pooled !== s.P) {
    invalidField(WHERE, `${at}.pooled`, `outputs whose widths add up to conditioning.pooledDim (${s.P})`, pooled);
  }
}
