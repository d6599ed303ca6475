// `npm run import-model -- model.onnx --out DIR`: a single-graph DiT exported from PyTorch →
// a model folder this runtime loads (embed | blocks | head + model.onnx, manifest.json with sha256
// and sizes), checked on random inputs: the split graphs must give the single graph's output.
//
// How (shared/design/pipelines.md, "Where the residual is"): the block stack is found by node
// names (find-stack.ts) or by the two tensors named on the command line; the residual stream h
// enters it and z leaves it. Everything the stack reads besides h (the time/class embedding c,
// per-block side tensors) is computed once per step in embed and handed to blocks and head packed
// into one tensor c [B, D] (zero-padded), unpacked again inside them (Slice + Reshape), so the
// runtime's graph contract (model.md) holds for any family that fits it.
// A source whose weights are external data (model.onnx + data files) is read as it is and written with
// its weights in shards (external.ts).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIT_DDIM, type DdimConfig } from '../core/ddim.ts';
import { modelHashOf } from '../manifest/hash.ts';
import { SHARD_LIMITS } from '../manifest/shards.ts';
import { checkExternalData, checkShardFits, createSession, entryBytes, singleGraphNote, withSessions, writeImportedGraph, writtenBytesBound, writtenFiles } from './external.ts';
import { LIMITS } from '../manifest/limits.ts';
import { parseManifest } from '../manifest/validate.ts';
import { ImportError } from './errors.ts';
import { importText, type TextAssemblyJson } from './text-import.ts';
import { unpackLatentSignature, type PackedLatent } from './packed.ts';
import { batched, fail, feedsFor, prod, probe, rename, shapesKnown, type Ort, type Probe, type Roles } from './common.ts';
import { closure, regionBoundary, regionFromNames, regionFromTensors, STACK_NAMES, type Region } from './find-stack.ts';
import {
  backwardSlice, declaredShape, decodeModel, elemType, ELEM, ELEM_NAMES, indexGraph, int64Tensor, intAttr,
  node, subModel, withOutputs, type GraphIndex, type IoSpec, type Model, type Node, type Tensor,
} from './onnx-graph.ts';


export interface ImportOptions {
  /** Path of the single-graph ONNX export. */
  model: string;
  /** Folder to write (created). */
  out: string;
  /** The tensor entering the first block, when node names do not show the stack. */
  blocksInput?: string;
  /** The tensor leaving the last block. */
  blocksOutput?: string;
  /** Classes of a class-conditional model (default: rows of the label embedding − 1, the null class). */
  classes?: number;
  name?: string;
  /** Largest max-abs difference split vs single, relative to the output's max-abs (default 1e-4). */
  tolerance?: number;
  /** The runtime feeds σ ∈ [0, 1]; a model trained on t = 1000·σ takes 1000 (inserted into the graphs). */
  timestepScale?: number;
  /**
   * What the output is: 'velocity' (flow matching) or 'epsilon' (the noise, VP diffusion as DiT:
   * sampled with DDIM on `ddim`'s schedule). Default: 'epsilon' when the output has twice the
   * latent's channels (learned variance, of which the head keeps the first half), else 'velocity'.
   */
  prediction?: 'velocity' | 'epsilon';
  /** ε-models: the training noise schedule (default DiT's: linear betas 1e-4 … 0.02 over 1000 steps). */
  ddim?: DdimConfig;
  /** Text models: the folder with tokenizer/, text_encoder/ and vae_decoder/ (diffusers / Optimum layout). */
  components?: string;
  /** Text models: calibration prompts (a JSON array, or one a line), listed as the manifest's calibrationPrompts. */
  prompts?: string;
  /**
   * Text models: the input taking the pooled text embedding [B, P] (SD3 / Flux `pooled_projections`).
   * Default: the one float [B, P] input (by name when several: pooled / text_embeds).
   */
  pooledInput?: string;
  /** Guidance-distilled models (Flux dev): the input taking the guidance scale [B]. Default: the [B] float input named *guidance*. */
  guidanceInput?: string;
  /** The manifest's default guidance scale for a model with a guidance input (default 3.5, Flux dev's). */
  embeddedGuidance?: number;
  /**
   * Packed-latent exports (diffusers' FluxTransformer2DModel: hidden_states [B, (H/2)(W/2), 4C], img_ids, txt_ids):
   * the latent's [height, width] when the token count is not a square grid (default: square).
   */
  latentSize?: [number, number];
  /**
   * Largest external-data shard in bytes (default 1 GiB). The written graphs get their weights in shards of at
   * most this size when the source keeps its weights in external data, or when a graph would be larger than it.
   */
  shardBytes?: number;
  ort?: Ort;
}

export interface ImportResult {
  out: string;
  name: string;
  modelHash: string;
  stack: string;
  blocksInput: string;
  blocksOutput: string;
  /** Tensors the stack and head read besides h, packed into c. */
  sides: { name: string; shape: (number | string)[] }[];
  /** `frames`: video models only (latent [B, C, F, H, W]). */
  latent: { channels: number; height: number; width: number; frames?: number };
  hidden: { tokens: number; dim: number };
  classes: number;
  prediction: 'velocity' | 'epsilon';
  /** The output had 2·C channels (ε and the learned variance); the head keeps ε. */
  learnedVariance: boolean;
  files: { file: string; bytes: number; sha256: string }[];
  /** max |split − single| / max |single| on a random batch of 2. */
  parity: number;
  tolerance: number;
  /** Text models with a pooled text input: the transformer's input, its width P and the text encoder's output feeding it. */
  pooled?: { input: string; dim: number; encoderOutput: string };
  /** Guidance-distilled models: the guidance input and the manifest's default scale. */
  guidance?: { input: string; default: number };
  /** Several text encoders (text_encoder_2/, _3/): each one's folder, tokenizer folder and length, and the assembly written to the manifest. */
  textEncoders?: { dir: string; tokenizer: string; length: number }[];
  textAssembly?: TextAssemblyJson;
  /** Packed-latent exports (Flux, diffusers' signature): what was rewritten (pack / unpack, ids as constants, RoPE folded). */
  packedLatent?: PackedLatent;
  /** Sources with weights in external data: how many tensors, their bytes, and the data files the graph names. */
  sourceExternalData?: { tensors: number; bytes: number; files: string[] };
  /** Set when model.onnx was not written (all graphs together would pass LIMITS.totalGraphBytes): why. */
  singleGraphOmitted?: string;
}





/**
 * Which graph input is which: latent [B, C, H, W] (or [B, C, F, H, W]) float, timestep [B] float, and class labels [B]
 * int or text hidden states [B, L, D] float; a text model may also take the pooled text embedding [B, P] and a
 * guidance scale [B] (SD3, Flux), found by shape and name or named by --pooled-input / --guidance-input.
 */
function inputRoles(ix: GraphIndex, o: Pick<ImportOptions, 'pooledInput' | 'guidanceInput'> = {}): Roles {
  const ins = [...ix.inputs.values()];
  const describe = ins.map((v) => `${v.name} ${ELEM_NAMES[elemType(v)] ?? `type ${elemType(v)}`} ${JSON.stringify(declaredShape(v))}`).join(', ');
  const named = (flag: string, name: string | undefined, rank: number, what: string) => {
    if (name === undefined) return undefined;
    const v = ix.inputs.get(name);
    if (!v || declaredShape(v).length !== rank || elemType(v) !== ELEM.float32) {
      throw fail('IMPORT_TENSOR_UNKNOWN', `${flag} ${name}: ${v ? `the input is ${ELEM_NAMES[elemType(v)]} ${JSON.stringify(declaredShape(v))}, not ${what}` : 'no graph input has that name'}`,
        `Name a float32 ${what} input of the graph (inputs: ${describe}).`);
    }
    return v;
  };
  let guidance = named('--guidance-input', o.guidanceInput, 1, '[B]');
  let pooled = named('--pooled-input', o.pooledInput, 2, '[B, P]');
  const rest = ins.filter((v) => v !== guidance && v !== pooled);
  const pick = (ok: (rank: number, elem: number) => boolean) => rest.filter((v) => ok(declaredShape(v).length, elemType(v)));
  // [B, C, H, W] images, or [B, C, F, H, W] videos (Wan: 3-D patches over frames)
  const latent = pick((r, e) => (r === 4 || r === 5) && e === ELEM.float32);
  let time = pick((r, e) => r === 1 && e === ELEM.float32);
  const labels = pick((r, e) => r === 1 && (e === ELEM.int32 || e === ELEM.int64));
  const text = pick((r, e) => r === 3 && e === ELEM.float32);
  let flat = pick((r, e) => r === 2 && e === ELEM.float32);
  // Flux dev: timestep and guidance are both [B] floats; the guidance one says so in its name.
  if (!guidance && time.length === 2) {
    const g = time.filter((v) => /guidance/i.test(v.name ?? ''));
    if (g.length !== 1) {
      throw fail('IMPORT_UNSUPPORTED', `two [B] float inputs (${time.map((v) => v.name).join(', ')}) and neither is named *guidance*: cannot tell the timestep from the guidance scale`,
        'Pass --guidance-input NAME (the input taking the guidance scale, Flux dev style), or export with input_names [..., "guidance"].');
    }
    guidance = g[0]!;
    time = time.filter((v) => v !== guidance);
  }
  if (!pooled && flat.length > 0) {
    const byName = flat.filter((v) => /pool|text_embeds/i.test(v.name ?? ''));
    if (flat.length > 1 && byName.length !== 1) {
      throw fail('IMPORT_UNSUPPORTED', `several [B, P] float inputs (${flat.map((v) => v.name).join(', ')}): cannot tell which is the pooled text embedding`,
        'Pass --pooled-input NAME (the input taking the pooled text embedding, SD3 / Flux `pooled_projections`).');
    }
    pooled = flat.length === 1 ? flat[0]! : byName[0]!;
    flat = flat.filter((v) => v !== pooled);
  }
  if (latent.length !== 1 || time.length !== 1) {
    throw fail('IMPORT_NOT_A_DIT', `the graph's inputs (${describe || 'none'}) are not a diffusion transformer's: it needs one latent `
      + `[B, C, H, W] float32 and one timestep [B] float32 (found ${latent.length} and ${time.length})`,
    'Export the transformer alone, with inputs (latent, timestep, class labels or text context) — README, "Bring your own model".');
  }
  const sides = (pooled ? 1 : 0) + (guidance ? 1 : 0);
  if (text.length === 1 && labels.length === 0 && ins.length === 3 + sides) {
    const shape = declaredShape(text[0]!);
    if (shape.slice(1).some((d) => typeof d !== 'number')) {
      throw fail('IMPORT_UNSUPPORTED', `text input ${text[0]!.name} has shape ${JSON.stringify(shape)}: L and the width must be fixed`,
        'Export with a fixed text length (the tokenizer pads to it); only the batch axis may be dynamic.');
    }
    const pooledDim = pooled ? declaredShape(pooled)[1] : undefined;
    if (pooled && typeof pooledDim !== 'number') {
      throw fail('IMPORT_UNSUPPORTED', `pooled input ${pooled.name} has shape ${JSON.stringify(declaredShape(pooled))}: its width P must be fixed`,
        'Export with a fixed pooled width; only the batch axis may be dynamic.');
    }
    return {
      latent: latent[0]!.name!, timestep: time[0]!.name!, dtypeLabels: 0, context: text[0]!.name!, contextShape: shape.slice(1) as number[],
      ...(pooled ? { pooled: pooled.name!, pooledDim: pooledDim as number } : {}), ...(guidance ? { guidance: guidance.name! } : {}),
    };
  }
  if (sides > 0) {
    throw fail('IMPORT_UNSUPPORTED', `the graph takes ${[pooled?.name, guidance?.name].filter(Boolean).join(' and ')} (pooled text / guidance) `
      + `but not exactly one text input [B, L, D] beside the latent and timestep (inputs: ${describe})`,
    'Pooled text and guidance embeddings go with text-conditioned models (SD3 / Flux style): export (latent, timestep, encoder_hidden_states, pooled_projections[, guidance]).');
  }
  if (declaredShape(latent[0]!).length === 5) {
    throw fail('IMPORT_UNSUPPORTED', `the latent ${latent[0]!.name} is a video [B, C, F, H, W]: video models import text-conditioned only `
      + `(inputs latent, timestep, encoder hidden states [B, L, D]; found ${describe})`,
    'Export a text-to-video transformer (Wan style) with exactly these three inputs (README, "Bring your own model").');
  }
  if (labels.length !== 1 || ins.length !== 3) {
    throw fail('IMPORT_NOT_A_DIT', `the graph's inputs (${describe}) are not those of a class-conditional DiT (latent, timestep, labels) `
      + 'nor of a text-conditioned one (latent, timestep, encoder hidden states [B, L, D][, pooled text [B, P]][, guidance [B]])',
    'Export the transformer with exactly these inputs (README, "Bring your own model").');
  }
  return { latent: latent[0]!.name!, timestep: time[0]!.name!, labels: labels[0]!.name!, dtypeLabels: elemType(labels[0]!) };
}

/**
 * From a stack output over more tokens than its input (text + image), the nodes of a Slice / Gather /
 * Split right after it whose output has the shape of one of the stack's inputs; null if none.
 */
async function sliceTail(ort: Ort, src: Model, ix: GraphIndex, roles: Roles, latentShape: number[], p: Probe, z: string,
  inputs: string[], scale: number): Promise<{ nodes: number[]; out: string } | null> {
  const cands: { node: number; out: string }[] = [];
  for (const k of ix.consumers.get(z) ?? []) {
    const n = ix.nodes[k]!;
    if (['Slice', 'Gather', 'Split'].includes(n.opType ?? '') && n.input?.[0] === z) for (const out of n.output ?? []) cands.push({ node: k, out });
  }
  if (cands.length === 0) return null;
  await shapesKnown(ort, src, roles, latentShape, cands.map((c) => c.out), p, scale);
  const want = inputs.map((i) => JSON.stringify(batched(p, i)));
  const hit = cands.find((c) => want.includes(JSON.stringify(batched(p, c.out))));
  if (!hit) return null;
  // The slice bounds may be computed (Shape of the text stream, whose length is fixed): read their
  // values at batch 1 and 2, and if equal make them constants of the graph.
  const n = ix.nodes[hit.node]!;
  const dynamic = (n.input ?? []).slice(1).filter((i) => i && !ix.constant.has(i));
  if (dynamic.length > 0) {
    const session = await createSession(ort, withOutputs(src, dynamic));
    const values: Map<string, bigint[]>[] = [];
    try {
      for (const b of [1, 2]) {
        const r = await session.run(feedsFor(ort, roles, latentShape, b, 5, scale));
        values.push(new Map(dynamic.map((d) => [d, [...(r[d]!.data as BigInt64Array)]])));
      }
    } finally {
      await session.release();
    }
    for (const d of dynamic) {
      const [a, b] = [values[0]!.get(d)!, values[1]!.get(d)!];
      if (a.join() !== b.join()) return null;
      const name = `erta_import/tail_${d.replace(/[^A-Za-z0-9_]/g, '_')}`;
      const t = int64Tensor(name, a.map(Number));
      src.graph!.initializer!.push(t);
      ix.initializers.set(name, t);
      ix.constant.add(name);
      n.input = (n.input ?? []).map((i) => (i === d ? name : i));
    }
  }
  return { nodes: [hit.node], out: hit.out };
}

/** Rows of the table the labels index (Gather, possibly after a Cast) → classes + 1 (the null class). */
function labelRows(ix: GraphIndex, labels: string): number | null {
  const queue = [labels];
  for (let depth = 0; depth < 4 && queue.length > 0; depth++) {
    const t = queue.shift()!;
    for (const k of ix.consumers.get(t) ?? []) {
      const n = ix.nodes[k]!;
      if (n.opType === 'Gather' && n.input?.[1] === t) {
        const w = ix.initializers.get(n.input[0]!);
        if (w?.dims?.length) return Number(w.dims[0]);
      }
      if (n.opType === 'Cast' || n.opType === 'Identity') queue.push(n.output![0]!);
    }
  }
  return null;
}

/** Tensors that could be the stack's input/output: outputs of residual Adds with a [B, N, D] shape. */
async function candidates(ort: Ort, src: Model, ix: GraphIndex, roles: Roles, latentShape: number[], scale: number): Promise<string[]> {
  const adds = ix.nodes.filter((n) => n.opType === 'Add').map((n) => n.output![0]!).filter((o) => !ix.constant.has(o));
  const p = await probe(ort, src, roles, latentShape, adds, scale);
  const rows = adds.map((a) => ({ a, s: batched(p, a) })).filter((r) => r.s?.length === 2);
  const list = rows.length > 12 ? [...rows.slice(0, 6), ...rows.slice(-6)] : rows;
  return list.map((r) => `${r.a} [B, ${r.s!.join(', ')}]`);
}

export async function importModel(o: ImportOptions): Promise<ImportResult> {
  const ort = o.ort ?? (await import('onnxruntime-node'));
  const scale = o.timestepScale ?? 1;
  const tolerance = o.tolerance ?? 1e-4;
  let src: Model;
  try {
    src = decodeModel(await readFile(o.model));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw fail('IMPORT_NOT_ONNX', `${o.model}: no such file`, 'Pass the path of the .onnx file you exported.');
    }
    throw new ImportError('IMPORT_NOT_ONNX', `${o.model} is not an ONNX model (${(e as Error).message})`,
      'Export with torch.onnx.export (README, "Bring your own model") and pass the .onnx file.', [], { cause: e });
  }
  if (!src.graph || (src.graph.node ?? []).length === 0) {
    throw fail('IMPORT_NOT_ONNX', `${o.model} holds no graph nodes`, 'Export with torch.onnx.export and pass the .onnx file.');
  }
  const shardBytes = o.shardBytes ?? 2 ** 30;
  if (!(Number.isInteger(shardBytes) && shardBytes >= 2 ** 16 && shardBytes <= SHARD_LIMITS.shardBytes)) {
    throw fail('IMPORT_UNSUPPORTED', `shard size ${shardBytes} bytes is outside 64 KiB … 2 GiB − 1`, 'Pass --shard-mb between 0.0625 and 2047.');
  }
  // Weights in external data files (model.onnx + model.onnx.data …): checked against the files, kept external in memory.
  const external = await checkExternalData(src, o.model);
  checkShardFits(src, shardBytes, o.model);
  const write = { shardBytes, shard: external !== null };
  const source = external ? { sourceExternalData: { tensors: external.tensors, bytes: external.bytes, files: external.files } } : {};
  // Flux as diffusers exports it (packed latents, img_ids / txt_ids): rewritten into a [B, C, H, W] latent model first.
  const packedLatent = await unpackLatentSignature(ort, src, o.latentSize);
  const ix = indexGraph(src);
  const roles = inputRoles(ix, o);
  const latentDecl = declaredShape(ix.inputs.get(roles.latent)!);
  if (latentDecl.slice(1).some((d) => typeof d !== 'number')) {
    throw fail('IMPORT_UNSUPPORTED', `latent input ${roles.latent} has shape ${JSON.stringify(latentDecl)}: C, (F,) H and W must be fixed`,
      'Export with static spatial shapes; only the batch axis may be dynamic (dynamic_axes={"latent": {0: "B"}, …}).');
  }
  const latentShape = latentDecl.map((d) => (typeof d === 'number' ? d : 1));

  // ---- the stack ----
  let region: Region | null;
  if (o.blocksInput || o.blocksOutput) {
    if (!o.blocksInput || !o.blocksOutput) {
      throw fail('IMPORT_TENSOR_UNKNOWN', 'pass both --blocks-input and --blocks-output (or neither)', 'Name the tensor entering the first block and the one leaving the last.');
    }
    region = regionFromTensors(ix, o.blocksInput, o.blocksOutput);
  } else {
    region = regionFromNames(ix);
  }
  if (!region) {
    const cand = await candidates(ort, src, ix, roles, latentShape, scale);
    throw fail('IMPORT_NO_STACK', `no block stack found by node name in ${o.model} (looked for ${STACK_NAMES.map((s) => `${s}.N`).join(', ')})`
      + (cand.length ? `; tensors on a residual stream (outputs of Add with shape [B, N, D]):\n  ${cand.join('\n  ')}` : ''),
    'Pass --blocks-input NAME (the tensor entering the first block) and --blocks-output NAME (the one leaving the last), both [B, N, D]; '
      + 'or export with torch.onnx.export(dynamo=False) so node names keep the module names.', cand);
  }
  let boundary = regionBoundary(ix, region.nodes);
  const p = await probe(ort, src, roles, latentShape, [...boundary.inputs, ...boundary.outputs], scale);
  const rank2 = boundary.outputs.filter((n) => batched(p, n)?.length === 2);
  let z = o.blocksOutput ?? (rank2.length > 0 ? rank2[rank2.length - 1]! : null);
  if (!z) {
    throw fail('IMPORT_UNSUPPORTED', `none of the stack's outputs (${region.how}: ${boundary.outputs.join(', ')}) is a [B, N, D] tensor`,
      'Pass --blocks-output NAME (the residual stream leaving the last block) and --blocks-input NAME.');
  }
  let zShape = batched(p, z);
  const same = (a: number[] | null, b: number[] | null) => a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
  if (!o.blocksInput && zShape && !boundary.inputs.some((i) => same(batched(p, i), zShape))) {
    // Flux: the single-stream blocks run over [text, image] tokens and the stack ends with the slice
    // that keeps the image tokens: follow z through Slice / Gather / Split to a tensor of h's shape.
    const tail = await sliceTail(ort, src, ix, roles, latentShape, p, z, boundary.inputs, scale);
    if (tail) {
      for (const k of tail.nodes) region.nodes.add(k);
      boundary = regionBoundary(ix, region.nodes);
      await shapesKnown(ort, src, roles, latentShape, boundary.inputs, p, scale);
      z = tail.out;
      zShape = batched(p, z);
      region.how += ` + ${tail.nodes.map((k) => ix.nodes[k]!.opType).join(', ')} to the image tokens`;
    }
  }
  if (!zShape || zShape.length !== 2) {
    throw fail('IMPORT_UNSUPPORTED', `the stack's output ${z} has shape ${JSON.stringify(p.shapes.get(z)?.[1])}, not [B, N, D]`,
      'Pass --blocks-output NAME: a [B, N, D] tensor on the residual stream after the last block.');
  }
  const h = o.blocksInput ?? boundary.inputs.find((i) => JSON.stringify(batched(p, i)) === JSON.stringify(zShape));
  if (!h) {
    throw fail('IMPORT_UNSUPPORTED', `none of the stack's inputs (${boundary.inputs.join(', ')}) has the output's shape [B, ${zShape.join(', ')}]`,
      'Pass --blocks-input NAME: the [B, N, D] tensor entering the first block.');
  }
  // Side work the exporter merged into a block's scope but the head reads too (one SiLU(c) shared by
  // block 0 and the final layer): it does not depend on h, so it moves to embed and becomes a side input.
  const onStream = closure(ix, ix.consumers.get(h) ?? [], 'down');
  const shared = boundary.outputs.filter((n) => n !== z && !onStream.has(ix.producer.get(n)!));
  if (shared.length > 0) {
    const moved = closure(ix, shared.map((n) => ix.producer.get(n)!), 'up');
    for (const k of moved) if (!onStream.has(k)) region.nodes.delete(k);
    boundary = regionBoundary(ix, region.nodes);
  }
  const extra = boundary.outputs.filter((n) => n !== z);
  if (extra.length > 0) {
    throw fail('IMPORT_UNSUPPORTED', `the stack (${region.how}) has outputs besides ${z} that are read after it: ${extra.join(', ')}`,
      'Pass --blocks-output NAME (the residual stream leaving the last block) and --blocks-input NAME.');
  }
  if (!(await shapesKnown(ort, src, roles, latentShape, boundary.inputs, p, scale))) throw new Error('unreachable');
  const [N, D] = zShape as [number, number];

  // ---- embed / blocks / head ----
  const graphInputs = new Set(ix.inputs.keys());
  const blockSides = boundary.inputs.filter((i) => i !== h);
  const embedSlice = backwardSlice(ix, [h, ...blockSides], new Set());
  const embedOut = new Set(embedSlice.nodes.flatMap((k) => ix.nodes[k]!.output ?? []));
  const headSlice = backwardSlice(ix, ix.outputs, new Set([z, ...embedOut, ...graphInputs]));
  if (headSlice.nodes.some((k) => region!.nodes.has(k))) {
    throw fail('IMPORT_UNSUPPORTED', `the head reads tensors from inside the stack besides ${z}`, 'Pass --blocks-output NAME: the last tensor of the stack that the head reads.');
  }
  const headSides = [...headSlice.needs].filter((n) => n !== z);
  await shapesKnown(ort, src, roles, latentShape, headSides, p, scale);
  if (roles.context) {
    const r = await importText({ o, ort, src, ix, p, roles, region, h, z, N, D, blockSides, headSides, latentShape, scale, tolerance, write });
    if (!packedLatent) return { ...r, ...source };
    // the manifest records the rewrite (the graphs' hashes, hence modelHash, are unchanged by this note)
    const file = join(o.out, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { import: Record<string, unknown> };
    const { input, imgIds, txtIds, folded } = packedLatent;
    manifest.import['packedLatent'] = { input, imgIds, txtIds, folded };
    parseManifest(manifest, o.out);
    await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
    return { ...r, packedLatent, ...source };
  }
  if (packedLatent) {
    throw fail('IMPORT_UNSUPPORTED', `${packedLatent.input} is a packed latent (Flux): packed exports import text-conditioned only`,
      'Export the transformer with its text inputs (encoder_hidden_states, pooled_projections): README, "Pooled text and guidance (SD3, Flux)".');
  }
  const labelsInput = roles.labels!;
  const sides = [...new Set([...blockSides, ...headSides])];
  const packed: { name: string; shape: number[]; offset: number; size: number }[] = [];
  let width = 0;
  for (const s of sides) {
    const shape = batched(p, s);
    const v = src.graph.valueInfo?.find((vi) => vi.name === s);
    const elem = ix.inputs.get(s) ? elemType(ix.inputs.get(s)!) : v ? elemType(v) : ELEM.float32;
    if (!shape || elem !== ELEM.float32) {
      throw fail('IMPORT_UNSUPPORTED', `the stack or head reads ${s} (shape ${JSON.stringify(p.shapes.get(s)?.[0])}), which is not a float tensor with the batch first`,
        'Export so that blocks read only the hidden state and per-sample conditioning (README, "Bring your own model", limits).');
    }
    packed.push({ name: s, shape, offset: width, size: prod(shape) });
    width += prod(shape);
  }
  if (width > D) {
    throw fail('IMPORT_UNSUPPORTED', `the stack and head read ${width} values per sample besides h (${sides.join(', ')}), more than the hidden width ${D}`,
      'This importer hands them to the blocks as one [B, D] tensor; export the model so that the blocks read only h and c = emb(t, y).');
  }
  // Names the runtime uses must not be taken by other tensors of the graph.
  const taken = new Set([...ix.producer.keys(), ...ix.initializers.keys(), ...graphInputs]);
  const ours = { x: roles.latent, t: roles.timestep, y: labelsInput, h, z, v: ix.outputs[0]! } as Record<string, string>;
  for (const n of ['x', 't', 'y', 'h', 'c', 'mod0', 'z', 'v']) {
    if (taken.has(n) && ours[n] !== n) {
      throw fail('IMPORT_UNSUPPORTED', `the graph already has a tensor named "${n}", which the runtime's graph contract uses for another role`,
        'Rename it in the export (input_names / output_names), or rename the module.');
    }
  }
  if (ix.outputs.length !== 1) {
    throw fail('IMPORT_NOT_A_DIT', `the graph has ${ix.outputs.length} outputs (${ix.outputs.join(', ')}); a DiT predicts one tensor`, 'Export the velocity (or noise) prediction as the only output.');
  }
  const outShape = batched(p, ix.outputs[0]!);
  const [C0, H0, W0] = latentShape.slice(1) as [number, number, number];
  const learnedVariance = JSON.stringify(outShape) === JSON.stringify([2 * C0, H0, W0]);
  if (JSON.stringify(outShape) !== JSON.stringify([C0, H0, W0]) && !learnedVariance) {
    throw fail('IMPORT_UNSUPPORTED', `the output ${ix.outputs[0]} has shape [B, ${outShape?.join(', ')}], not the latent's [B, ${C0}, ${H0}, ${W0}] `
      + `(velocity or ε) nor [B, ${2 * C0}, ${H0}, ${W0}] (ε with learned variance)`,
    'Export the model\'s prediction for the latent as the only output.');
  }
  const prediction = o.prediction ?? (learnedVariance ? 'epsilon' : 'velocity');
  if (learnedVariance && prediction !== 'epsilon') {
    throw fail('IMPORT_UNSUPPORTED', `the output has ${2 * C0} channels (twice the latent's): a learned variance, which goes with ε-prediction`,
      'Drop --prediction velocity, or export only the velocity.');
  }
  if (prediction === 'epsilon' && scale !== 1) {
    throw fail('IMPORT_UNSUPPORTED', '--timestep-scale applies to flow-matching models; an ε-model takes its training timestep (0 … T−1) as it is',
      'Drop --timestep-scale; the DDIM schedule (manifest scheduler.ddim) maps σ to the timestep.');
  }

  const [C, H, W] = latentShape.slice(1) as [number, number, number];
  const labelDtype = roles.dtypeLabels === ELEM.int64 ? 'int64' : 'int32';
  const rows = o.classes !== undefined ? o.classes + 1 : labelRows(ix, labelsInput);
  if (!rows || rows < 2) {
    throw fail('IMPORT_UNSUPPORTED', `cannot tell the number of classes from ${labelsInput}'s embedding table`, 'Pass --classes K (the null class is label K).');
  }
  const io = (name: string, elem: number, shape: (number | string)[]): IoSpec => ({ name, elem, shape });
  const x = io('x', ELEM.float32, ['B', C, H, W]);
  const t = io('t', ELEM.float32, ['B']);
  const y = io('y', roles.dtypeLabels, ['B']);
  const hSpec = (n: string) => io(n, ELEM.float32, ['B', N, D]);
  const cSpec = io('c', ELEM.float32, ['B', D]);
  const vSpec = io('v', ELEM.float32, ['B', C, H, W]);
  const inputRenames = (): Node[] => [
    ...rename('x', roles.latent, 'x'),
    ...(scale === 1 ? rename('t', roles.timestep, 't') : [node('Mul', ['t', 'erta_import/t_scale'], [roles.timestep], 'erta_import/t_scale')]),
    ...rename('y', labelsInput, 'y'),
  ];
  const scaleInit = (): Tensor[] => (scale === 1 ? [] : [{ name: 'erta_import/t_scale', dataType: ELEM.float32, dims: [], floatData: [scale] }]);

  // pack: c = Concat(Reshape(side_i, [0, -1]) …, zeros) → [B, D]
  const pack: Node[] = [];
  const packInit: Tensor[] = [int64Tensor('erta_import/flat', [0, -1])];
  const flat = packed.map((s, k) => {
    pack.push(node('Reshape', [s.name, 'erta_import/flat'], [`erta_import/flat_${k}`], `erta_import/pack_${k}`));
    return `erta_import/flat_${k}`;
  });
  if (width < D) {
    // zeros [B, D − width] made from h's batch: Slice(h flattened) · 0 keeps the graph free of Shape arithmetic
    pack.push(node('Reshape', [h, 'erta_import/flat'], ['erta_import/h_flat'], 'erta_import/pad_src'));
    packInit.push(int64Tensor('erta_import/pad_start', [0]), int64Tensor('erta_import/pad_end', [D - width]), int64Tensor('erta_import/axis1', [1]));
    pack.push(node('Slice', ['erta_import/h_flat', 'erta_import/pad_start', 'erta_import/pad_end', 'erta_import/axis1'], ['erta_import/pad_raw'], 'erta_import/pad_slice'));
    packInit.push({ name: 'erta_import/zero', dataType: ELEM.float32, dims: [], floatData: [0] });
    pack.push(node('Mul', ['erta_import/pad_raw', 'erta_import/zero'], ['erta_import/pad'], 'erta_import/pad_zero'));
    flat.push('erta_import/pad');
  }
  pack.push(flat.length === 1 ? node('Identity', flat, ['c'], 'erta_import/pack') : node('Concat', flat, ['c'], 'erta_import/pack', [intAttr('axis', 1)]));

  const unpack = (names: readonly string[]): { nodes: Node[]; init: Tensor[] } => {
    const nodes: Node[] = [];
    const init: Tensor[] = [int64Tensor('erta_import/axis1', [1])];
    for (const s of packed.filter((q) => names.includes(q.name))) {
      const k = packed.indexOf(s);
      init.push(int64Tensor(`erta_import/u${k}_start`, [s.offset]), int64Tensor(`erta_import/u${k}_end`, [s.offset + s.size]),
        int64Tensor(`erta_import/u${k}_shape`, [-1, ...s.shape]));
      nodes.push(node('Slice', ['c', `erta_import/u${k}_start`, `erta_import/u${k}_end`, 'erta_import/axis1'], [`erta_import/u${k}`], `erta_import/unpack_${k}`),
        node('Reshape', [`erta_import/u${k}`, `erta_import/u${k}_shape`], [s.name], `erta_import/unshape_${k}`));
    }
    return { nodes, init };
  };

  const blocksSlice = backwardSlice(ix, [z], new Set([h, ...blockSides]));
  // ε with learned variance: v = out[:, :C] (the variance half is for stochastic samplers only).
  const outName = ix.outputs[0]!;
  const toV = (): { nodes: Node[]; init: Tensor[] } => (!learnedVariance ? { nodes: rename(outName, 'v', 'v'), init: [] } : {
    nodes: [node('Slice', [outName, 'erta_import/eps_start', 'erta_import/eps_end', 'erta_import/eps_axis'], ['v'], 'erta_import/eps')],
    init: [int64Tensor('erta_import/eps_start', [0]), int64Tensor('erta_import/eps_end', [C]), int64Tensor('erta_import/eps_axis', [1])],
  });
  const headOut = toV();
  const ub = unpack(blockSides);
  const uh = unpack(headSides);
  const models: Record<'embed' | 'blocks' | 'head' | 'model', Model> = {
    embed: subModel(src, ix, {
      name: 'embed', keep: embedSlice.nodes, before: inputRenames(),
      after: [...pack, ...rename(h, 'h', 'h'), node('Identity', [h], ['mod0'], 'erta_import/mod0')],
      extraInit: [...scaleInit(), ...packInit], inputs: [x, t, y], outputs: [hSpec('h'), cSpec, hSpec('mod0')],
    }),
    blocks: subModel(src, ix, {
      name: 'blocks', keep: blocksSlice.nodes, before: [...rename('h', h, 'h'), ...ub.nodes], after: rename(z, 'z', 'z'),
      extraInit: ub.init, inputs: [hSpec('h'), cSpec], outputs: [hSpec('z')],
    }),
    head: subModel(src, ix, {
      name: 'head', keep: headSlice.nodes, before: [...rename('z', z, 'z'), ...uh.nodes], after: headOut.nodes,
      extraInit: [...uh.init, ...headOut.init], inputs: [hSpec('z'), cSpec], outputs: [vSpec],
    }),
    model: subModel(src, ix, {
      name: 'model', keep: ix.nodes.map((_, k) => k), before: inputRenames(), after: headOut.nodes,
      extraInit: [...scaleInit(), ...headOut.init], inputs: [x, t, y], outputs: [vSpec],
    }),
  };

  // ---- verify: split chain vs single graph on a random batch of 2 ----
  const feeds = feedsFor(ort, { latent: 'x', timestep: 't', labels: 'y', dtypeLabels: roles.dtypeLabels }, latentShape, 2, 23, 1);
  const single = await withSessions(ort, { model: models.model }, async (s) => (await s.model.run(feeds))['v']!.data as Float32Array);
  const split = await withSessions(ort, { embed: models.embed, blocks: models.blocks, head: models.head }, async (s) => {
    const e = await s.embed.run(feeds);
    const bz = await s.blocks.run({ h: e['h']!, c: e['c']! });
    return (await s.head.run({ z: bz['z']!, c: e['c']! }))['v']!.data as Float32Array;
  });
  let diff = 0;
  let mag = 0;
  for (let k = 0; k < single.length; k++) {
    diff = Math.max(diff, Math.abs(single[k]! - split[k]!));
    mag = Math.max(mag, Math.abs(single[k]!));
  }
  const parity = diff / Math.max(mag, 1e-12);
  if (!(parity <= tolerance)) {
    throw fail('IMPORT_PARITY', `the split graphs differ from the single graph by ${parity.toExponential(2)} (relative max-abs; tolerance ${tolerance})`,
      'The stack was cut at the wrong tensors: pass --blocks-input / --blocks-output explicitly, or report the model.');
  }

  // ---- write ----
  await mkdir(o.out, { recursive: true });
  const files: ImportResult['files'] = [];
  const graphs: Record<string, unknown> = {};
  const specs = (list: IoSpec[]) => Object.fromEntries(list.map((s) => [s.name, { dtype: ELEM_NAMES[s.elem], shape: s.shape }]));
  const ioOf = { embed: [[x, t, y], [hSpec('h'), cSpec, hSpec('mod0')]], blocks: [[hSpec('h'), cSpec], [hSpec('z')]],
    head: [[hSpec('z'), cSpec], [vSpec]], model: [[x, t, y], [vSpec]] } as const;
  let total = 0;
  let singleGraphOmitted: string | undefined;
  for (const [k, m] of Object.entries(models) as [keyof typeof models, Model][]) {
    if (k === 'model' && total + writtenBytesBound(m) > LIMITS.totalGraphBytes) {
      singleGraphOmitted = singleGraphNote(total);
      continue;
    }
    const { file, sha256, bytes, ...weights } = await writeImportedGraph(m, o.out, `${k}.onnx`, write);
    files.push(...writtenFiles({ file, sha256, bytes, ...weights }));
    total += entryBytes({ bytes, ...weights });
    graphs[k] = { file, sha256, bytes, inputs: specs([...ioOf[k][0]]), outputs: specs([...ioOf[k][1]]), ...weights };
  }
  const modelHash = await modelHashOf(graphs as Record<'embed', { sha256: string }>);
  const name = o.name ?? (o.model.split('/').pop() ?? 'model').replace(/\.onnx$/i, '');
  const depth = region.groups.reduce((s, g) => s + g.depth, 0);
  const manifest = {
    format: 'erta-diffusion-manifest', version: 1, name, modelHash,
    architecture: { type: 'imported-dit', source: o.model.split('/').pop(), stack: region.how, depth: depth || undefined, tokens: N, dim: D },
    latent: { channels: C, height: H, width: W },
    hidden: { tokens: N, dim: D },
    conditioning: { type: 'class', classes: rows - 1, nullLabel: rows - 1, labelDtype },
    graphs,
    scheduler: prediction === 'epsilon'
      ? { type: 'ddim', prediction: 'epsilon', ...(o.ddim ?? DIT_DDIM), defaultSteps: 50, defaultGuidance: 4 }
      : { type: 'flow-match-euler', shift: 1, defaultSteps: 50, defaultGuidance: 3 },
    preview: { from: [-1, 1], to: [0, 255], channels: Math.min(3, C) },
    import: { prediction, learnedVariance, blocksInput: h, blocksOutput: z, sides: packed.map((s) => ({ name: s.name, shape: ['B', ...s.shape] })), parity, timestepScale: scale },
    plans: [],
    weights: 'imported',
  };
  parseManifest(manifest, o.out); // what the runtime will check, checked now
  await writeFile(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    out: o.out, name, modelHash, stack: region.how, blocksInput: h, blocksOutput: z,
    sides: packed.map((s) => ({ name: s.name, shape: ['B', ...s.shape] })),
    latent: { channels: C, height: H, width: W }, hidden: { tokens: N, dim: D }, classes: rows - 1,
    prediction, learnedVariance, files, parity, tolerance, ...source, ...(singleGraphOmitted ? { singleGraphOmitted } : {}),
  };
}
