// The importer's text path (PixArt / SANA-style DiTs): a transformer exported as one graph
// (latent, timestep, encoder hidden states [B, L, Dt]) plus the components a user brings in the
// diffusers / Optimum layout (tokenizer/tokenizer.json, text_encoder/model.onnx,
// vae_decoder/model.onnx and its config.json) → a version-2 pipeline manifest.
//
// What the stack reads besides h is sorted by what it depends on: tensors made from the text alone
// (PixArt's caption_projection) go to a per-prompt context graph, run once per prompt, and reach
// the blocks concatenated along the last axis as the `context` role [B, L, X]; tensors made from
// the timestep (adaLN-single's shared modulation, the embedded timestep the head reads) are
// computed by embed once per step and handed over packed into `temb` [B, K]. The pooled text
// embedding (SD3 / Flux `pooled_projections` [B, P]) and the guidance scale (Flux dev `guidance` [B])
// are added to the time embedding in the families that take them, so they feed temb, never h: they
// are inputs of embed (and of the single graph), beside the latent and σ, on the conditioning side.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { leastSquares } from '../core/linalg.ts';
import { gaussianNoise } from '../core/rng.ts';
import { modelHashOf, sha256Hex } from '../manifest/hash.ts';
import { parseManifest } from '../manifest/validate.ts';
import { batched, fail, prod, rename, type Ort, type Probe, type Roles } from './common.ts';
import { entryBytes, requireSelfContained, singleGraphNote, writeImportedGraph, withSessions, writtenBytesBound, writtenFiles, type WrittenEntry } from './external.ts';
import { LIMITS } from '../manifest/limits.ts';
import type { Region } from './find-stack.ts';
import {
  backwardSlice, declaredShape, decodeModel, elemType, ELEM, ELEM_NAMES, int64Tensor, intAttr, node, subModel,
  type GraphIndex, type IoSpec, type Model, type Node, type Tensor, type ValueInfo,
} from './onnx-graph.ts';
import type { ImportOptions, ImportResult } from './import-model.ts';

export interface TextContext {
  o: ImportOptions;
  ort: Ort;
  src: Model;
  ix: GraphIndex;
  p: Probe;
  roles: Roles;
  region: Region;
  h: string;
  z: string;
  N: number;
  D: number;
  blockSides: string[];
  headSides: string[];
  latentShape: number[];
  scale: number;
  tolerance: number;
  /** How the transformer's graphs are written (external-data shards: writeImportedGraph). */
  write: { shardBytes: number; shard: boolean };
}

interface Part { name: string; shape: number[]; offset: number; size: number }

/** Reads a component file, or IMPORT_UNSUPPORTED naming the folder layout expected. */
async function component(dir: string, file: string): Promise<Uint8Array> {
  try {
    return await readFile(join(dir, file));
  } catch (e) {
    throw fail('IMPORT_UNSUPPORTED', `a text-conditioned model needs ${join(dir, file)}, which cannot be read (${(e as NodeJS.ErrnoException).code})`,
      'Pass --components DIR: a folder with tokenizer/tokenizer.json, text_encoder/model.onnx and vae_decoder/model.onnx '
      + '(+ vae_decoder/config.json with scaling_factor / shift_factor), the diffusers / Optimum layout.');
  }
}

/** The graph inputs a tensor depends on. */
const inputsOf = (ix: GraphIndex, t: string) => [...backwardSlice(ix, [t], new Set()).needs].filter((n) => ix.inputs.has(n));

export async function importText(c: TextContext): Promise<ImportResult> {
  const { o, ort, src, ix, p, roles, h, z, N, D, latentShape, scale, tolerance } = c;
  const ctxIn = roles.context!;
  const [L, Dt] = roles.contextShape! as [number, number];
  // [C, H, W], or a video's [C, F, H, W] (Wan): the frame axis rides along everywhere the latent goes.
  const dims = latentShape.slice(1);
  const [C, H, W] = [dims[0]!, dims[dims.length - 2]!, dims[dims.length - 1]!];
  const frames = dims.length === 4 ? dims[1]! : undefined;
  const shown = dims.join(', ');
  if (!o.components) {
    throw fail('IMPORT_UNSUPPORTED', `${ctxIn} is a text input: the importer also needs the tokenizer, the text encoder and the VAE decoder`,
      'Pass --components DIR (tokenizer/tokenizer.json, text_encoder/model.onnx, vae_decoder/model.onnx: the diffusers / Optimum layout).');
  }
  const outShape = batched(p, ix.outputs[0]!);
  if (JSON.stringify(outShape) !== JSON.stringify(dims) || (o.prediction ?? 'velocity') !== 'velocity') {
    throw fail('IMPORT_UNSUPPORTED', `the output ${ix.outputs[0]} has shape [B, ${outShape?.join(', ')}]: text models import as flow-matching `
      + `velocity of the latent's shape [B, ${shown}]`, 'Export the velocity prediction (ε-prediction text models are not supported yet).');
  }

  // ---- sort what the stack reads: per prompt (text only) or per step (timestep, maybe latent, pooled text, guidance) ----
  const perPrompt: string[] = [];
  const perStep: string[] = [];
  for (const s of c.blockSides) {
    const deps = inputsOf(ix, s);
    if (deps.length > 0 && deps.every((d) => d === ctxIn)) perPrompt.push(s);
    else if (!deps.includes(ctxIn)) perStep.push(s);
    else {
      throw fail('IMPORT_UNSUPPORTED', `the blocks read ${s}, which depends on both the text hidden states ${ctxIn} and the timestep/latent (${deps.join(', ')})`,
        'Text that conditions the time embedding must come in as the pooled text embedding, a [B, P] input (SD3 / Flux `pooled_projections`; '
        + '--pooled-input NAME), not derived from the hidden states inside the graph.');
    }
  }
  for (const s of c.headSides) {
    if (inputsOf(ix, s).includes(ctxIn)) {
      throw fail('IMPORT_UNSUPPORTED', `the head reads ${s}, which depends on the text`, 'Only the blocks may read the text (PixArt / SANA style).');
    }
  }
  const tembSides = [...new Set([...perStep, ...c.headSides])];
  const pack = (names: string[], want: (s: number[]) => boolean, what: string): Part[] => {
    let offset = 0;
    return names.map((name) => {
      const shape = batched(p, name);
      if (!shape || !want(shape)) {
        throw fail('IMPORT_UNSUPPORTED', `${name} (${what}) has shape ${JSON.stringify(p.shapes.get(name)?.[1])}, which cannot be handed to the blocks`,
          'Export so that blocks read h, per-sample time conditioning and per-token text context only.');
      }
      const size = what === 'context' ? shape[shape.length - 1]! : prod(shape);
      const part = { name, shape, offset, size };
      offset += size;
      return part;
    });
  };
  const temb = pack(tembSides, () => true, 'per step');
  const ctx = pack(perPrompt, (s) => s.length === 2 && s[0] === L, 'context');
  const K = Math.max(1, temb.reduce((a, q) => a + q.size, 0));
  const X = ctx.reduce((a, q) => a + q.size, 0);
  const rawContext = perPrompt.length === 1 && perPrompt[0] === ctxIn;

  // ---- graphs ----
  const io = (name: string, elem: number, shape: (number | string)[]): IoSpec => ({ name, elem, shape });
  const names = { latent: 'latent', sigma: 'sigma', hidden: 'hidden', temb: 'temb', mod0: 'mod0', context: 'context', hiddenOut: 'hidden_out', velocity: 'velocity',
    ...(roles.pooled ? { pooled: 'pooled' } : {}), ...(roles.guidance ? { guidance: 'guidance' } : {}) };
  const taken = new Set([...ix.producer.keys(), ...ix.initializers.keys()]);
  for (const n of Object.values(names)) {
    if (taken.has(n)) {
      throw fail('IMPORT_UNSUPPORTED', `the graph already has a tensor named "${n}", a name the manifest's io map gives another role`,
        'Rename the module or tensor in the export.');
    }
  }
  const latentSpec = io('latent', ELEM.float32, ['B', ...dims]);
  const sigmaSpec = io('sigma', ELEM.float32, ['B']);
  const P = roles.pooledDim ?? 0;
  // embed's (and the single graph's) conditioning inputs besides the latent and σ
  const condSpecs: IoSpec[] = [...(roles.pooled ? [io('pooled', ELEM.float32, ['B', P])] : []), ...(roles.guidance ? [io('guidance', ELEM.float32, ['B'])] : [])];
  const hSpec = (n: string) => io(n, ELEM.float32, ['B', N, D]);
  const tembSpec = io('temb', ELEM.float32, ['B', K]);
  const ctxSpec = io('context', ELEM.float32, ['B', L, X]);
  const vSpec = io('velocity', ELEM.float32, ['B', ...dims]);
  const tScale: Tensor[] = scale === 1 ? [] : [{ name: 'erta_import/t_scale', dataType: ELEM.float32, dims: [], floatData: [scale] }];
  const inputs = (): Node[] => [
    ...rename('latent', roles.latent, 'latent'),
    ...(scale === 1 ? rename('sigma', roles.timestep, 'sigma') : [node('Mul', ['sigma', 'erta_import/t_scale'], [roles.timestep], 'erta_import/t_scale')]),
    ...(roles.pooled ? rename('pooled', roles.pooled, 'pooled') : []),
    ...(roles.guidance ? rename('guidance', roles.guidance, 'guidance') : []),
  ];
  // temb = Concat(Reshape(side, [0, -1]) …) (or a zero column when nothing is read)
  const packTemb = (): { nodes: Node[]; init: Tensor[] } => {
    const init: Tensor[] = [int64Tensor('erta_import/flat', [0, -1])];
    const nodes: Node[] = temb.map((s, k) => node('Reshape', [s.name, 'erta_import/flat'], [`erta_import/flat_${k}`], `erta_import/pack_${k}`));
    const flat = temb.map((_, k) => `erta_import/flat_${k}`);
    if (flat.length === 0) {
      init.push(int64Tensor('erta_import/z0', [0]), int64Tensor('erta_import/z1', [1]), int64Tensor('erta_import/ax1', [1]),
        { name: 'erta_import/zero', dataType: ELEM.float32, dims: [], floatData: [0] });
      nodes.push(node('Reshape', [h, 'erta_import/flat'], ['erta_import/hf'], 'erta_import/pad_src'),
        node('Slice', ['erta_import/hf', 'erta_import/z0', 'erta_import/z1', 'erta_import/ax1'], ['erta_import/h1'], 'erta_import/pad'),
        node('Mul', ['erta_import/h1', 'erta_import/zero'], ['erta_import/pad0'], 'erta_import/pad_zero'));
      flat.push('erta_import/pad0');
    }
    nodes.push(flat.length === 1 ? node('Identity', flat, ['temb'], 'erta_import/pack') : node('Concat', flat, ['temb'], 'erta_import/pack', [intAttr('axis', 1)]));
    return { nodes, init };
  };
  // Slice a packed tensor back into the original tensors (axis 1 of temb, the last axis of context).
  const unpack = (from: string, parts: Part[], want: readonly string[], axis: number, tag: string): { nodes: Node[]; init: Tensor[] } => {
    const nodes: Node[] = [];
    const init: Tensor[] = [int64Tensor(`erta_import/${tag}_axis`, [axis])];
    parts.filter((q) => want.includes(q.name)).forEach((q) => {
      const k = parts.indexOf(q);
      const pre = `erta_import/${tag}${k}`;
      init.push(int64Tensor(`${pre}_start`, [q.offset]), int64Tensor(`${pre}_end`, [q.offset + q.size]));
      if (axis === 1) {
        init.push(int64Tensor(`${pre}_shape`, [-1, ...q.shape]));
        nodes.push(node('Slice', [from, `${pre}_start`, `${pre}_end`, `erta_import/${tag}_axis`], [pre], `${pre}_slice`),
          node('Reshape', [pre, `${pre}_shape`], [q.name], `${pre}_reshape`));
      } else {
        nodes.push(node('Slice', [from, `${pre}_start`, `${pre}_end`, `erta_import/${tag}_axis`], [q.name], `${pre}_slice`));
      }
    });
    return { nodes, init };
  };
  const ctxUnpack = (): { nodes: Node[]; init: Tensor[] } => (rawContext ? { nodes: rename('context', ctxIn, 'context'), init: [] }
    : unpack('context', ctx, perPrompt, 2, 'c'));

  const embedSlice = backwardSlice(ix, [h, ...tembSides], new Set());
  const bad = [...embedSlice.needs].filter((n) => ![roles.latent, roles.timestep, roles.pooled, roles.guidance].includes(n));
  if (bad.length > 0) throw fail('IMPORT_UNSUPPORTED', `the embedding reads ${bad.join(', ')} (the text)`, 'Only the blocks may read the text (PixArt / SANA style).');
  const packed = packTemb();
  const ub = unpack('temb', temb, perStep, 1, 't');
  const uh = unpack('temb', temb, c.headSides, 1, 'h');
  const uc = ctxUnpack();
  const blocksSlice = backwardSlice(ix, [z], new Set([h, ...c.blockSides]));
  const headSlice = backwardSlice(ix, ix.outputs, new Set([z, ...c.headSides]));
  const modelSlice = backwardSlice(ix, ix.outputs, new Set(perPrompt));
  const outRename = rename(ix.outputs[0]!, 'velocity', 'velocity');
  const models: Record<string, Model> = {
    embed: subModel(src, ix, { name: 'embed', keep: embedSlice.nodes, before: inputs(),
      after: [...packed.nodes, ...rename(h, 'hidden', 'hidden'), node('Identity', [h], ['mod0'], 'erta_import/mod0')],
      extraInit: [...tScale, ...packed.init], inputs: [latentSpec, sigmaSpec, ...condSpecs], outputs: [hSpec('hidden'), tembSpec, hSpec('mod0')] }),
    blocks: subModel(src, ix, { name: 'blocks', keep: blocksSlice.nodes, before: [...rename('hidden', h, 'hidden'), ...ub.nodes, ...uc.nodes],
      after: rename(z, 'hidden_out', 'hidden_out'), extraInit: [...ub.init, ...uc.init],
      inputs: [hSpec('hidden'), tembSpec, ctxSpec], outputs: [hSpec('hidden_out')] }),
    head: subModel(src, ix, { name: 'head', keep: headSlice.nodes, before: [...rename('hidden', z, 'hidden'), ...uh.nodes], after: outRename,
      extraInit: uh.init, inputs: [hSpec('hidden'), tembSpec], outputs: [vSpec] }),
    model: subModel(src, ix, { name: 'model', keep: modelSlice.nodes, before: [...inputs(), ...uc.nodes], after: outRename,
      extraInit: [...tScale, ...uc.init], inputs: [latentSpec, sigmaSpec, ctxSpec, ...condSpecs], outputs: [vSpec] }),
  };
  if (!rawContext) {
    const ctxSlice = backwardSlice(ix, perPrompt, new Set());
    const concat = ctx.length === 1 ? node('Identity', [perPrompt[0]!], ['context'], 'erta_import/context')
      : node('Concat', perPrompt, ['context'], 'erta_import/context', [intAttr('axis', 2)]);
    models['context'] = subModel(src, ix, { name: 'context', keep: ctxSlice.nodes, before: [], after: [concat], extraInit: [],
      inputs: [io(ctxIn, ELEM.float32, [1, L, Dt])], outputs: [io('context', ELEM.float32, [1, L, X])] });
  }

  // ---- verify: context → embed → blocks → head against the original graph, batch 2 ----
  // one group of sessions at a time (the source, the split chain, the single graph): a big model's weights held about once
  const x = new ort.Tensor('float32', gaussianNoise(23, 2 * prod(dims)), [2, ...dims]);
  const sigma = new ort.Tensor('float32', Float32Array.from([0.7, 0.35]), [2]);
  const raw = gaussianNoise(29, 2 * L * Dt);
  // the pooled text and guidance inputs, under their original names and ours
  const cond: [string, string, InstanceType<Ort['Tensor']>][] = [
    ...(roles.pooled ? [[roles.pooled, 'pooled', new ort.Tensor('float32', gaussianNoise(31, 2 * P), [2, P])] as [string, string, InstanceType<Ort['Tensor']>]] : []),
    ...(roles.guidance ? [[roles.guidance, 'guidance', new ort.Tensor('float32', Float32Array.from([3.5, 1.25]), [2])] as [string, string, InstanceType<Ort['Tensor']>]] : []),
  ];
  const condFeeds = Object.fromEntries(cond.map(([, ours, t]) => [ours, t]));
  const want = await withSessions(ort, { original: src }, async (s) => (await s.original.run({ [roles.latent]: x,
    [roles.timestep]: new ort.Tensor('float32', Float32Array.from([0.7 * scale, 0.35 * scale]), [2]),
    [ctxIn]: new ort.Tensor('float32', raw, [2, L, Dt]), ...Object.fromEntries(cond.map(([orig, , t]) => [orig, t])) }))[ix.outputs[0]!]!.data as Float32Array);
  let contextFeed: InstanceType<Ort['Tensor']> | undefined;
  const split = await withSessions(ort, { ...(rawContext ? {} : { context: models['context']! }), embed: models['embed']!, blocks: models['blocks']!,
    head: models['head']! } as Record<string, Model>, async (s) => {
    let projected: Float32Array;
    if (rawContext) projected = raw;
    else {
      projected = new Float32Array(2 * L * X);
      for (let b = 0; b < 2; b++) {
        const r = await s['context']!.run({ [ctxIn]: new ort.Tensor('float32', raw.subarray(b * L * Dt, (b + 1) * L * Dt), [1, L, Dt]) });
        projected.set(r['context']!.data as Float32Array, b * L * X);
      }
    }
    contextFeed = new ort.Tensor('float32', projected, [2, L, X]);
    const e = await s['embed']!.run({ latent: x, sigma, ...condFeeds });
    const zz = await s['blocks']!.run({ hidden: e['hidden']!, temb: e['temb']!, context: contextFeed });
    return (await s['head']!.run({ hidden: zz['hidden_out']!, temb: e['temb']! }))['velocity']!.data as Float32Array;
  });
  const single = await withSessions(ort, { model: models['model']! }, async (s) =>
    (await s.model.run({ latent: x, sigma, context: contextFeed!, ...condFeeds }))['velocity']!.data as Float32Array);
  let parity = 0;
  let mag = 0;
  for (let k = 0; k < want.length; k++) {
    mag = Math.max(mag, Math.abs(want[k]!));
    parity = Math.max(parity, Math.abs(split[k]! - want[k]!), Math.abs(single[k]! - want[k]!));
  }
  parity /= Math.max(mag, 1e-12);
  if (!(parity <= tolerance)) {
    throw fail('IMPORT_PARITY', `the split graphs differ from the single graph by ${parity.toExponential(2)} (relative max-abs; tolerance ${tolerance})`,
      'The stack was cut at the wrong tensors: pass --blocks-input / --blocks-output explicitly, or report the model.');
  }

  // ---- components ----
  const comp = o.components;
  // Several text encoders (diffusers' text_encoder_2/, text_encoder_3/ beside text_encoder/: Flux, SD3), each with its tokenizer.
  const multi = await readMultiEncoders(comp, { L, Dt, P: roles.pooled ? roles.pooledDim ?? 0 : 0 });
  let encIn: ValueInfo[] = [];
  let encBytes: Uint8Array = new Uint8Array(0);
  let encOut: ValueInfo = {};
  let encOutShape: (number | string | null)[] = [];
  let encPooled: ValueInfo | undefined;
  if (!multi) {
    encBytes = await component(comp, 'text_encoder/model.onnx');
    const enc = decodeModel(encBytes);
    requireSelfContained(enc, join(comp, 'text_encoder/model.onnx'));
    encIn = (enc.graph!.input ?? []).filter((i) => !(enc.graph!.initializer ?? []).some((t) => t.name === i.name));
    const idsShape = encIn.length === 1 ? declaredShape(encIn[0]!) : [];
    const idsDtype = encIn.length === 1 ? ELEM_NAMES[elemType(encIn[0]!)] : undefined;
    // a dynamic sequence axis (diffusers / Optimum exports: [batch_size, sequence_length]) is run at the transformer's L
    if (encIn.length !== 1 || idsShape.length !== 2 || (idsShape[1] !== L && typeof idsShape[1] === 'number') || (idsDtype !== 'int32' && idsDtype !== 'int64')) {
      throw fail('IMPORT_UNSUPPORTED', `text_encoder/model.onnx must take one input_ids [1, ${L}] int32/int64 (the transformer reads ${L} tokens)`,
        'Export the text encoder with a fixed length equal to the transformer\'s text length.');
    }
    encOut = (enc.graph!.output ?? []).find((q) => q.name === 'last_hidden_state') ?? enc.graph!.output![0]!;
    encOutShape = declaredShape(encOut).map((d, k) => (typeof d === 'number' ? d : k === 0 ? 1 : k === 1 ? L : d));
    // The pooled text embedding comes from the text encoder's second output [1, P], as CLIP's
    // (CLIPTextModel `pooler_output`, CLIPTextModelWithProjection `text_embeds`: its EOS token's state).
    if (roles.pooled) {
      const cands = (enc.graph!.output ?? []).filter((q) => q !== encOut && JSON.stringify(declaredShape(q).slice(1)) === JSON.stringify([P])
        && [1, null].includes(typeof declaredShape(q)[0] === 'number' ? declaredShape(q)[0] as number : null));
      const preferred = cands.filter((q) => /pooler_output|text_embeds|pooled/.test(q.name ?? ''));
      encPooled = cands.length === 1 ? cands[0] : preferred.length === 1 ? preferred[0] : undefined;
      if (!encPooled) {
        throw fail('IMPORT_UNSUPPORTED', `the transformer takes the pooled text embedding ${roles.pooled} [B, ${P}], but text_encoder/model.onnx has `
          + `${cands.length === 0 ? 'no' : 'more than one'} [1, ${P}] output besides ${encOut.name} `
          + `(outputs: ${(enc.graph!.output ?? []).map((q) => `${q.name} ${JSON.stringify(declaredShape(q))}`).join(', ')})`,
        'Export the text encoder with two outputs, last_hidden_state [1, L, D] and the pooled embedding [1, P] (CLIP: pooler_output, or text_embeds '
          + 'with the projection), named pooler_output / text_embeds when there are several.');
      }
    }
  }
  const vaeBytes = await component(comp, 'vae_decoder/model.onnx');
  const vae = decodeModel(vaeBytes);
  requireSelfContained(vae, join(comp, 'vae_decoder/model.onnx'));
  const vaeIn = vae.graph!.input![0]!;
  const vaeOut = vae.graph!.output![0]!;
  const vaeConfig = await readFile(join(comp, 'vae_decoder/config.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}) as Record<string, unknown>);
  const scalingFactor = (vaeConfig['scaling_factor'] as number | undefined ?? 1);
  const shiftFactor = (vaeConfig['shift_factor'] as number | undefined ?? 0);
  // Wan's VAE (AutoencoderKLWan): per-channel latents_mean / latents_std; the decoder reads latent · std + mean.
  const perChannel = (key: string): number[] | undefined => {
    const v = vaeConfig[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== C || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (key !== 'latents_std' || x > 0))) {
      throw fail('IMPORT_UNSUPPORTED', `vae_decoder/config.json: ${key} must be ${C} finite numbers (one per latent channel${key === 'latents_std' ? ', each > 0' : ''})`,
        'Copy latents_mean / latents_std from the VAE\'s diffusers config (AutoencoderKLWan), one value per latent channel.');
    }
    return v as number[];
  };
  const latentsMean = perChannel('latents_mean');
  const latentsStd = perChannel('latents_std');
  if ((latentsMean === undefined) !== (latentsStd === undefined)) {
    throw fail('IMPORT_UNSUPPORTED', 'vae_decoder/config.json has only one of latents_mean / latents_std', 'Give both (Wan\'s VAE config has both) or neither.');
  }
  const unscale = { scaling: scalingFactor, shift: shiftFactor, mean: latentsMean, std: latentsStd };
  const tokBytes = multi ? new Uint8Array(0) : await component(comp, 'tokenizer/tokenizer.json');
  const padId = multi ? 0 : await padIdOf(tokBytes, join(comp, 'tokenizer'));
  // a video's frames stacked along the height: the same per-pixel map, fitted over every frame
  const { outDims: vaeShape, ...preview } = await fitPreview(ort, vaeBytes, vaeIn.name!, vaeOut.name!, dims, unscale);

  // ---- write ----
  await mkdir(join(o.out, 'transformer'), { recursive: true });
  const files: ImportResult['files'] = [];
  const entry = async (file: string, bytes: Uint8Array, ins: IoSpec[], outs: IoSpec[]) => {
    await mkdir(dirname(join(o.out, file)), { recursive: true });
    await writeFile(join(o.out, file), bytes);
    const sha256 = await sha256Hex(bytes);
    files.push({ file, bytes: bytes.length, sha256 });
    const specs = (l: IoSpec[]) => Object.fromEntries(l.map((s) => [s.name, { dtype: ELEM_NAMES[s.elem], shape: s.shape }]));
    return { file, sha256, bytes: bytes.length, inputs: specs(ins), outputs: specs(outs) };
  };
  // the transformer's graphs: one protobuf each, or graph + external-data shards (writeImportedGraph)
  const graphEntry = async (file: string, m: Model, ins: IoSpec[], outs: IoSpec[]) => {
    const { sha256, bytes, ...weights } = await writeImportedGraph(m, o.out, file, c.write).then(({ file: _, ...w }) => w);
    files.push(...writtenFiles({ file, sha256, bytes, ...weights }));
    const specs = (l: IoSpec[]) => Object.fromEntries(l.map((s) => [s.name, { dtype: ELEM_NAMES[s.elem], shape: s.shape }]));
    return { file, sha256, bytes, inputs: specs(ins), outputs: specs(outs), ...weights };
  };
  const tr: Record<string, unknown> = {};
  tr['embed'] = await graphEntry('transformer/embed.onnx', models['embed']!, [latentSpec, sigmaSpec, ...condSpecs], [hSpec('hidden'), tembSpec, hSpec('mod0')]);
  tr['blocks'] = await graphEntry('transformer/blocks.onnx', models['blocks']!, [hSpec('hidden'), tembSpec, ctxSpec], [hSpec('hidden_out')]);
  tr['head'] = await graphEntry('transformer/head.onnx', models['head']!, [hSpec('hidden'), tembSpec], [vSpec]);
  // the single graph repeats every weight: left out when all graphs together would pass the manifest's limit
  const components = (multi ? multi.encoders.reduce((a, e) => a + e.bytes.length, 0) : encBytes.length) + vaeBytes.length;
  const used = components + (rawContext ? 0 : writtenBytesBound(models['context']!))
    + ['embed', 'blocks', 'head'].reduce((a, k) => a + entryBytes(tr[k] as WrittenEntry), 0);
  const singleGraphOmitted = used + writtenBytesBound(models['model']!) > LIMITS.totalGraphBytes ? singleGraphNote(used) : undefined;
  if (!singleGraphOmitted) {
    tr['model'] = await graphEntry('transformer/model.onnx', models['model']!, [latentSpec, sigmaSpec, ctxSpec, ...condSpecs], [vSpec]);
  }
  const context = rawContext ? null : await graphEntry('transformer/context.onnx', models['context']!,
    [io(ctxIn, ELEM.float32, [1, L, Dt])], [io('context', ELEM.float32, [1, L, X])]);
  const encoderGraphs: Record<string, { sha256: string }> = {};
  let textComponents: Record<string, unknown>;
  if (multi) {
    const list = [];
    for (const [k, e] of multi.encoders.entries()) {
      const graph = await entry(`${e.dir}/model.onnx`, e.bytes, [io(e.inputIds, e.idsElem, [1, e.length])],
        e.outputs.map((q) => io(q.name, ELEM.float32, [1, ...q.shape])));
      encoderGraphs[['textEncoder', 'textEncoder2', 'textEncoder3'][k]!] = graph;
      await mkdir(join(o.out, e.tokDir), { recursive: true });
      await writeFile(join(o.out, e.tokDir, 'tokenizer.json'), e.tokBytes);
      list.push({ tokenizer: { file: `${e.tokDir}/tokenizer.json`, sha256: await sha256Hex(e.tokBytes), bytes: e.tokBytes.length, maxLength: e.length, padId: e.padId },
        graph, io: { inputIds: e.inputIds } });
    }
    textComponents = { textEncoders: list, textAssembly: multi.assembly };
  } else {
    const textEncoder = await entry('text_encoder/model.onnx', encBytes, [io(encIn[0]!.name!, elemType(encIn[0]!), [1, L])],
      [io(encOut.name!, ELEM.float32, encOutShape.map((d) => d ?? 1)), ...(encPooled ? [io(encPooled.name!, ELEM.float32, [1, P])] : [])]);
    encoderGraphs['textEncoder'] = textEncoder;
    await mkdir(join(o.out, 'tokenizer'), { recursive: true });
    await writeFile(join(o.out, 'tokenizer/tokenizer.json'), tokBytes);
    textComponents = {
      tokenizer: { file: 'tokenizer/tokenizer.json', sha256: await sha256Hex(tokBytes), bytes: tokBytes.length, maxLength: L, padId },
      textEncoder: { graph: textEncoder, io: { inputIds: encIn[0]!.name, hiddenStates: encOut.name, ...(encPooled ? { pooled: encPooled.name } : {}) } },
    };
  }
  const vaeDecoder = await entry('vae_decoder/model.onnx', vaeBytes, [io(vaeIn.name!, ELEM.float32, [1, ...dims])],
    [io(vaeOut.name!, ELEM.float32, [1, ...(vaeShape.slice(1) as number[])])]);
  const graphs: Record<string, { sha256: string }> = { ...(tr as Record<string, { sha256: string }>), ...encoderGraphs, vaeDecoder, ...(context ? { context } : {}) };
  const modelHash = await modelHashOf(graphs as Record<'embed', { sha256: string }>);
  const name = o.name ?? (o.model.split('/').slice(-2).join('-').replace(/\.onnx$/i, ''));
  const embeddedGuidance = o.embeddedGuidance ?? 3.5;
  if (roles.guidance && !(Number.isFinite(embeddedGuidance) && embeddedGuidance >= 0 && embeddedGuidance <= 100)) {
    throw fail('IMPORT_UNSUPPORTED', `--embedded-guidance ${embeddedGuidance} is not a guidance scale in [0, 100]`, 'Pass the model\'s default guidance scale (Flux dev: 3.5).');
  }
  const manifest = {
    format: 'erta-diffusion-manifest', version: 2, name, modelHash,
    architecture: { type: frames ? 'imported-dit-video' : 'imported-dit-text', source: o.model.split('/').pop(), stack: c.region.how, tokens: N, dim: D },
    latent: { channels: C, ...(frames ? { frames } : {}), height: H, width: W },
    hidden: { tokens: N, dim: D },
    conditioning: { type: 'text', maxTokens: L, contextDim: X, ...(roles.pooled ? { pooledDim: P } : {}), defaultNegativePrompt: '' },
    components: {
      ...textComponents,
      ...(context ? { context: { graph: context, io: { hiddenStates: ctxIn, context: 'context' } } } : {}),
      transformer: { graphs: tr, io: names },
      vaeDecoder: { graph: vaeDecoder, io: { latent: vaeIn.name, image: vaeOut.name }, scalingFactor, shiftFactor,
        ...(latentsMean ? { latentsMean, latentsStd } : {}) },
      preview: { type: 'linear', ...preview },
    },
    preview: { from: [-1, 1], to: [0, 255], channels: 3 },
    // A guidance-distilled model (a guidance input) runs without CFG: one branch, the scale goes into the model.
    scheduler: { type: 'flow-match-euler', shift: 1, defaultSteps: 20, defaultGuidance: roles.guidance ? 1 : 4.5,
      ...(roles.guidance ? { defaultEmbeddedGuidance: embeddedGuidance } : {}) },
    import: { prediction: 'velocity', blocksInput: h, blocksOutput: z, perStep: temb.map((q) => q.name), perPrompt, parity, timestepScale: scale,
      ...(roles.pooled ? { pooledInput: roles.pooled } : {}), ...(roles.guidance ? { guidanceInput: roles.guidance } : {}) },
    plans: [],
    weights: 'imported',
  };
  if (o.prompts) {
    const text = await readFile(o.prompts, 'utf8');
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      list = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every((q) => typeof q === 'string')) {
      throw fail('IMPORT_UNSUPPORTED', `${o.prompts}: expected a JSON array of prompts or one prompt a line`, 'Fix the prompts file.');
    }
    await writeFile(join(o.out, 'calibration-prompts.json'), `${JSON.stringify(list, null, 1)}\n`);
    (manifest as Record<string, unknown>)['calibrationPrompts'] = 'calibration-prompts.json';
  }
  parseManifest(manifest, o.out);
  await writeFile(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    out: o.out, name, modelHash, stack: c.region.how, blocksInput: h, blocksOutput: z,
    sides: [...temb, ...ctx].map((q) => ({ name: q.name, shape: ['B', ...q.shape] })),
    latent: { channels: C, height: H, width: W, ...(frames ? { frames } : {}) }, hidden: { tokens: N, dim: D }, classes: 0,
    prediction: 'velocity', learnedVariance: false, files, parity, tolerance, ...(singleGraphOmitted ? { singleGraphOmitted } : {}),
    ...(roles.pooled ? { pooled: { input: roles.pooled, dim: P,
      encoderOutput: multi ? (multi.assembly.pooled ?? []).map((f) => `${multi.encoders[f.encoder]!.dir}:${f.output}`).join(' | ') : encPooled!.name! } } : {}),
    ...(multi ? { textEncoders: multi.encoders.map((e) => ({ dir: e.dir, tokenizer: e.tokDir, length: e.length })), textAssembly: multi.assembly } : {}),
    ...(roles.guidance ? { guidance: { input: roles.guidance, default: embeddedGuidance } } : {}),
  };
}

/**
 * A tokenizer's pad id: tokenizer.json's padding section; else the pad_token of tokenizer_config.json or
 * special_tokens_map.json beside it (how transformers saves it: CLIP-L pads with <|endoftext|>, SD3's CLIP-G with "!"),
 * looked up in the vocabulary and the added tokens; else the usual pad tokens; else 0.
 */
export async function padIdOf(bytes: Uint8Array, dir?: string): Promise<number> {
  const tok = JSON.parse(new TextDecoder().decode(bytes)) as {
    padding?: { pad_id?: number }; model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[];
  };
  if (typeof tok.padding?.pad_id === 'number') return tok.padding.pad_id;
  const vocab = tok.model?.vocab;
  const idOf = (t: string): number | undefined => tok.added_tokens?.find((a) => a.content === t)?.id
    ?? (Array.isArray(vocab) ? (() => { const k = vocab.findIndex((e) => e[0] === t); return k >= 0 ? k : undefined; })() : vocab?.[t]);
  if (dir) {
    for (const file of ['tokenizer_config.json', 'special_tokens_map.json']) {
      const j = await readFile(join(dir, file), 'utf8').then((x) => JSON.parse(x) as { pad_token?: unknown }, () => ({} as { pad_token?: unknown }));
      const pad = typeof j.pad_token === 'string' ? j.pad_token : (j.pad_token as { content?: unknown } | undefined)?.content;
      const id = typeof pad === 'string' ? idOf(pad) : undefined;
      if (id !== undefined) return id;
    }
  }
  return idOf('[PAD]') ?? idOf('<pad>') ?? 0;
}

interface EncoderFiles {
  dir: string; tokDir: string; bytes: Uint8Array; tokBytes: Uint8Array; padId: number;
  inputIds: string; idsElem: number; length: number;
  /** The graph's outputs: [tokens, width] or [width] (batch 1 dropped). */
  outputs: { name: string; shape: number[] }[];
}

export interface TextAssemblyJson {
  context: { features: { encoder: number; output: string }[]; padTo?: number; tokens?: number }[];
  pooled?: { encoder: number; output: string }[];
}

/**
 * text_encoder/, text_encoder_2/ (and text_encoder_3/) with tokenizer/, tokenizer_2/ (tokenizer_3/) → the encoders and the
 * assembly of their outputs, inferred from the shapes against the transformer's text input [L, Dt] and pooled width P:
 * - Flux (2): one encoder emits [1, L, Dt] itself (T5's last_hidden_state: the context), the other a [1, P] vector
 *   (CLIP's pooler_output / text_embeds: the pooled);
 * - SD3 (2 or 3): the first two (CLIP-L, CLIP-G) share a length Lc; their penultimate states (hidden_states.{n−1}, else
 *   last_hidden_state) side by side, zero-padded to Dt, are the first Lc tokens, then (3) the third's [1, L − Lc, Dt]
 *   (T5); pooled = their [1, Pi] outputs side by side (text_embeds), P1 + P2 = P.
 * null when there is no text_encoder_2/ (one encoder: the single-encoder path).
 */
/** The length a tokenizer states: tokenizer.json's truncation / fixed padding, else tokenizer_config.json's model_max_length (≤ 4096). */
async function tokenizerLength(comp: string, tokDir: string, tokBytes: Uint8Array): Promise<number | null> {
  const tok = JSON.parse(new TextDecoder().decode(tokBytes)) as { truncation?: { max_length?: unknown }; padding?: { strategy?: { Fixed?: unknown } } };
  const config = await readFile(join(comp, tokDir, 'tokenizer_config.json'), 'utf8').then((x) => JSON.parse(x) as { model_max_length?: unknown }, () => ({} as { model_max_length?: unknown }));
  for (const v of [tok.truncation?.max_length, tok.padding?.strategy?.Fixed, config.model_max_length]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 4096) return v;
  }
  return null;
}

async function readMultiEncoders(comp: string, t: { L: number; Dt: number; P: number }): Promise<{ encoders: EncoderFiles[]; assembly: TextAssemblyJson } | null> {
  const exists = (f: string) => readFile(join(comp, f)).then(() => true, () => false);
  if (!(await exists('text_encoder_2/model.onnx'))) {
    if (await exists('text_encoder_3/model.onnx')) {
      throw fail('IMPORT_UNSUPPORTED', `${join(comp, 'text_encoder_3/model.onnx')} without text_encoder_2/model.onnx`,
        'The diffusers layout numbers the encoders text_encoder/, text_encoder_2/, text_encoder_3/: add the missing one.');
    }
    return null;
  }
  const dirs = ['text_encoder', 'text_encoder_2', ...((await exists('text_encoder_3/model.onnx')) ? ['text_encoder_3'] : [])];
  const infos: (Omit<EncoderFiles, 'outputs'> & { fixed: number | null; stated: number | null; outs: { name: string; shape: (number | string | null)[] }[] })[] = [];
  for (const [k, dir] of dirs.entries()) {
    const tokDir = k === 0 ? 'tokenizer' : `tokenizer_${k + 1}`;
    const bytes = await component(comp, `${dir}/model.onnx`);
    let tokBytes: Uint8Array;
    try {
      tokBytes = await readFile(join(comp, tokDir, 'tokenizer.json'));
    } catch {
      throw fail('IMPORT_UNSUPPORTED', `${dir}/ has no tokenizer: ${join(comp, tokDir, 'tokenizer.json')} cannot be read`,
        `Each text encoder needs its own tokenizer in the diffusers layout (${dir}/ ↔ ${tokDir}/): save it there with the Python \`tokenizers\` library (Tokenizer.save).`);
    }
    const decoded = decodeModel(bytes);
    requireSelfContained(decoded, join(comp, dir, 'model.onnx'));
    const g = decoded.graph!;
    const ins = (g.input ?? []).filter((i) => !(g.initializer ?? []).some((q) => q.name === i.name));
    const shape = ins.length === 1 ? declaredShape(ins[0]!) : [];
    const dtype = ins.length === 1 ? ELEM_NAMES[elemType(ins[0]!)] : undefined;
    if (ins.length !== 1 || shape.length !== 2 || ![1, null].includes(typeof shape[0] === 'number' ? shape[0] : null) || (dtype !== 'int32' && dtype !== 'int64')) {
      throw fail('IMPORT_UNSUPPORTED', `${dir}/model.onnx must take one input_ids [1, length] int32/int64 (got ${ins.map((i) => `${i.name} ${JSON.stringify(declaredShape(i))}`).join(', ')})`,
        'Export each text encoder with input_ids alone (batch 1 or dynamic; a fixed length, or a dynamic one its tokenizer states).');
    }
    // a dynamic length (diffusers / Optimum exports: [batch_size, sequence_length]) is resolved below: the transformer's
    // text length for an encoder whose states are the context, else the tokenizer's own (CLIP: 77)
    const fixed = typeof shape[1] === 'number' ? shape[1] : null;
    const outs = (g.output ?? []).map((q) => ({ name: q.name!, shape: declaredShape(q).slice(1) }));
    infos.push({ dir, tokDir, bytes, tokBytes, padId: await padIdOf(tokBytes, join(comp, tokDir)), inputIds: ins[0]!.name!, idsElem: elemType(ins[0]!), length: fixed ?? 0,
      fixed, stated: fixed ?? await tokenizerLength(comp, tokDir, tokBytes), outs });
  }
  const tokensOk = (k: number, d: number | string | null) => (infos[k]!.fixed === null ? typeof d !== 'number' : d === infos[k]!.fixed);
  const numeric = (d: number | string | null): d is number => typeof d === 'number' && d > 0;
  const states = (k: number) => infos[k]!.outs.filter((q) => q.shape.length === 2 && tokensOk(k, q.shape[0]!) && numeric(q.shape[1]!)) as
    { name: string; shape: [number | string | null, number] }[];
  const vectors = (k: number) => infos[k]!.outs.filter((q) => q.shape.length === 1 && numeric(q.shape[0]!)) as { name: string; shape: [number] }[];
  /** An encoder's length where its export leaves it dynamic: its tokenizer's (CLIP: 77), or an error saying where to state it. */
  const lengthOf = (k: number): number => infos[k]!.stated ?? unsupported(`${infos[k]!.dir}/model.onnx has a dynamic length and ${infos[k]!.tokDir}/ states none`
    + ' (tokenizer.json truncation.max_length, or tokenizer_config.json model_max_length)');
  const named = <Q extends { name: string }>(list: Q[], re: RegExp) => (list.length === 1 ? list[0] : list.filter((q) => re.test(q.name))[0]);
  const last = (k: number) => states(k).find((q) => q.name === 'last_hidden_state') ?? (states(k).length === 1 ? states(k)[0] : undefined);
  const penultimate = (k: number) => {
    const hs = states(k).map((q) => ({ q, n: /^hidden_states\.(\d+)$/.exec(q.name) })).filter((x) => x.n).sort((a, b) => Number(a.n![1]) - Number(b.n![1]));
    return hs.length >= 2 ? hs[hs.length - 2]!.q : last(k);
  };
  const pooledOf = (k: number, P: number) => named(vectors(k).filter((q) => q.shape[0] === P), /pooler_output|text_embeds|pooled/);
  const described = infos.map((e) => `${e.dir} (input [1, ${e.fixed ?? 'dynamic'}]; outputs ${e.outs.map((q) => `${q.name} [1, ${q.shape.join(', ')}]`).join(', ')})`).join('; ');
  const unsupported = (why: string): never => {
    throw fail('IMPORT_UNSUPPORTED', `the text encoders do not fit the transformer's text input [B, ${t.L}, ${t.Dt}]${t.P ? ` and pooled input [B, ${t.P}]` : ''}: ${why} — ${described}`,
      'Flux layout: one encoder (T5) emits [1, L, D] exactly as the transformer reads it and the other (CLIP) a [1, P] pooled vector; '
      + 'SD3 layout: text_encoder/ and text_encoder_2/ (CLIP-L, CLIP-G) of one length with hidden_states.N (or last_hidden_state) whose widths '
      + 'sum to ≤ D and text_embeds whose widths sum to P, then text_encoder_3/ (T5) [1, L − their length, D].');
  };
  let assembly: TextAssemblyJson | null = null;
  // Flux: one encoder's own states are the context, the other gives the pooled vector
  if (infos.length === 2) {
    for (const [c, q] of [[1, 0], [0, 1]] as const) {
      const ctx = states(c).filter((s) => (s.shape[0] === t.L || infos[c]!.fixed === null) && s.shape[1] === t.Dt);
      const out = ctx.find((s) => s.name === 'last_hidden_state') ?? ctx[0];
      const pooled = t.P ? pooledOf(q, t.P) : undefined;
      if (out && pooled) {
        infos[c]!.length = t.L;
        infos[q]!.length = lengthOf(q);
        assembly = { context: [{ features: [{ encoder: c, output: out.name }] }], pooled: [{ encoder: q, output: pooled.name }] };
        break;
      }
    }
  }
  if (!assembly) {
    // SD3: CLIP-L | CLIP-G (penultimate states), padded to the transformer's width, (+ T5 along the tokens)
    const [a, b] = [penultimate(0), penultimate(1)];
    if (!a || !b) unsupported('text_encoder/ and text_encoder_2/ need a [1, length, width] output each (hidden_states.N or last_hidden_state)');
    infos[0]!.length = lengthOf(0);
    infos[1]!.length = lengthOf(1);
    if (infos[0]!.length !== infos[1]!.length) unsupported(`text_encoder/ and text_encoder_2/ read ${infos[0]!.length} and ${infos[1]!.length} tokens (SD3's CLIP pair shares one length)`);
    const width = a!.shape[1]! + b!.shape[1]!;
    if (width > t.Dt) unsupported(`the CLIP pair's widths ${a!.shape[1]} + ${b!.shape[1]} = ${width} exceed the transformer's text width ${t.Dt}`);
    const context: TextAssemblyJson['context'] = [{ features: [{ encoder: 0, output: a!.name }, { encoder: 1, output: b!.name }], ...(width < t.Dt ? { padTo: t.Dt } : {}) }];
    const Lc = infos[0]!.length;
    if (infos.length === 3) {
      const t5 = states(2).filter((s) => (s.shape[0] === t.L - Lc || infos[2]!.fixed === null) && s.shape[1] === t.Dt);
      const out = t5.find((s) => s.name === 'last_hidden_state') ?? t5[0];
      if (!out || t.L - Lc < 1) unsupported(`text_encoder_3/ needs a [1, ${t.L - Lc}, ${t.Dt}] output (the transformer reads ${t.L} tokens, the CLIP pair ${Lc})`);
      infos[2]!.length = t.L - Lc;
      context.push({ features: [{ encoder: 2, output: out!.name }] });
    } else if (Lc > t.L) {
      unsupported(`the CLIP pair reads ${Lc} tokens, the transformer ${t.L}`);
    } else if (Lc < t.L) { // SD3 without its T5 (diffusers: text_encoder_3=None): T5's tokens are zeros
      context.push({ features: [], tokens: t.L - Lc });
    }
    let pooled: TextAssemblyJson['pooled'];
    if (t.P) {
      const pa = vectors(0).filter((q) => /text_embeds|pooler_output|pooled/.test(q.name) || vectors(0).length === 1);
      const pb = vectors(1).filter((q) => /text_embeds|pooler_output|pooled/.test(q.name) || vectors(1).length === 1);
      const pick = pa.flatMap((x) => pb.filter((y) => x.shape[0]! + y.shape[0]! === t.P).map((y) => [x, y] as const))
        .sort((u, v) => Number(/text_embeds/.test(v[0].name)) - Number(/text_embeds/.test(u[0].name)))[0];
      if (!pick) unsupported(`no pooled outputs of text_encoder/ and text_encoder_2/ (text_embeds / pooler_output) whose widths add up to ${t.P}`);
      pooled = [{ encoder: 0, output: pick![0].name }, { encoder: 1, output: pick![1].name }];
    }
    assembly = { context, ...(pooled ? { pooled } : {}) };
  }
  // the manifest declares every output (the session's names must be the manifest's); the assembly names the ones read.
  // Dynamic axes become the sizes the runtime feeds: batch 1, the encoder's length.
  const encoders = infos.map((e) => ({ ...e, outputs: e.outs.map((q) => {
    const shape = q.shape.map((d, k) => (typeof d === 'number' ? d : q.shape.length === 2 && k === 0 ? e.length : d));
    if (!shape.every(numeric)) unsupported(`${e.dir}/model.onnx: output ${q.name} [1, ${q.shape.join(', ')}] has an axis other than batch and length left dynamic`);
    return { name: q.name, shape: shape as number[] };
  }) }));
  return { encoders, assembly };
}

/** What the VAE decoder reads: (latent / scaling + shift) · std_c + mean_c per channel (std 1, mean 0 when absent). */
interface Unscale { scaling: number; shift: number; mean: number[] | undefined; std: number[] | undefined }

/**
 * A least-squares latent → RGB map (C×3 + bias) against the VAE on random latents, pooled to the latent's size.
 * A video's latent [C, F, H, W] and output [3, F, H', W'] are read as images F·H (and F·H') high; a decoder that
 * upsamples time (T = s·(F−1)+1 frames, Wan) is read at frames 0, s, 2s, …: the last frame each latent frame gives.
 */
async function fitPreview(ort: Ort, vaeBytes: Uint8Array, input: string, output: string, dims: number[],
  u: Unscale): Promise<{ matrix: number[][]; bias: number[]; outDims: number[] }> {
  const C = dims[0]!;
  const W = dims[dims.length - 1]!;
  const H = prod(dims) / (C * W);
  const F = dims.length === 4 ? dims[1]! : 1;
  const plane = prod(dims) / C;
  const session = await ort.InferenceSession.create(vaeBytes);
  const rows: number[] = [];
  const ys: number[][] = [[], [], []];
  let outDims: number[] = [];
  try {
    for (let s = 0; s < 16; s++) {
      const z = gaussianNoise(100 + s, C * H * W);
      const scaled = z.map((v, k) => {
        const c = Math.floor(k / plane);
        return (v / u.scaling + u.shift) * (u.std?.[c] ?? 1) + (u.mean?.[c] ?? 0);
      });
      const r = await session.run({ [input]: new ort.Tensor('float32', scaled, [1, ...dims]) });
      const img = r[output]!;
      outDims = [...img.dims];
      const [, ch, ...rest] = img.dims as number[];
      const w2 = rest[rest.length - 1]!;
      let data = img.data as Float32Array;
      const T = rest.length === 3 ? rest[0]! : 1;
      if (T !== F) { // keep frames 0, s, 2s, … (one per latent frame)
        const step = (T - 1) / Math.max(1, F - 1);
        const fr = rest[1]! * w2;
        const kept = new Float32Array(ch! * F * fr);
        for (let c = 0; c < ch!; c++) for (let f = 0; f < F; f++) kept.set(data.subarray((c * T + f * step) * fr, (c * T + f * step + 1) * fr), (c * F + f) * fr);
        data = kept;
      }
      const h2 = (data.length / ch!) / w2;
      const fy = Math.max(1, Math.round(h2! / H));
      const fx = Math.max(1, Math.round(w2! / W));
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let k = 0; k < C; k++) rows.push(z[k * H * W + y * W + x]!);
          rows.push(1);
          for (let o = 0; o < 3; o++) {
            let acc = 0;
            for (let dy = 0; dy < fy; dy++) for (let dx = 0; dx < fx; dx++) acc += data[Math.min(o, ch! - 1) * h2! * w2! + (y * fy + dy) * w2! + x * fx + dx]!;
            ys[o]!.push(acc / (fy * fx));
          }
        }
      }
    }
  } finally {
    await session.release();
  }
  const n = rows.length / (C + 1);
  const sol = ys.map((y) => leastSquares(rows, n, C + 1, y));
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    matrix: Array.from({ length: C }, (_, k) => sol.map((s) => round(s[k]!))),
    bias: sol.map((s) => round(s[C]!)),
    outDims,
  };
}
