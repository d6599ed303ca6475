// Flux as diffusers exports it (FluxTransformer2DModel): the forward takes PACKED latents
// `hidden_states` [B, (H/2)(W/2), 4C] (2×2 patches, packed by the pipeline's _pack_latents, not by the
// model), the RoPE positions `img_ids` [(H/2)(W/2), 3] and `txt_ids` [T, 3] (the model computes its
// rotary tables from them, FluxPosEmbed), and returns the packed prediction [B, L, 4C] (the pipeline
// unpacks). The runtime's latent model takes [B, C, H, W] and no ids, so before the split the importer
// rewrites the graph:
//   - a new input latent [B, C, H, W], packed in the graph (Reshape, Transpose, Reshape) into the old
//     hidden_states;
//   - img_ids / txt_ids become constants made at import from the latent grid and the text length, as
//     the pipeline makes them (_prepare_latent_image_ids: (0, row, col); txt_ids: zeros), and every
//     tensor computed from them alone outside the blocks (the RoPE cos / sin tables) is evaluated once
//     here and stored as a weight: no per-step RoPE work and no float64 ops left in the graphs;
//   - the output is unpacked in the graph (Reshape, Transpose, Reshape) to [B, C, H, W].
// The result is what the flux family exports (pack and unpack inside, RoPE tables constant), which
// the rest of the importer splits as before.

import { fail, type Ort } from './common.ts';
import { createSession } from './external.ts';
import { inStackScope } from './find-stack.ts';
import {
  backwardSlice, declaredShape, elemType, ELEM, ELEM_NAMES, indexGraph, int64Tensor, intsAttr, node, nodeInputs, onnx,
  valueInfo, type Model, type Tensor, type ValueInfo,
} from './onnx-graph.ts';

export interface PackedLatent {
  /** The graph's packed latent input [B, L, 4C] (diffusers: hidden_states), now computed from the new latent input. */
  input: string;
  /** The new latent input [B, C, H, W]. */
  latent: string;
  /** The graph's position-id inputs, now constants (absent when the export has none). */
  imgIds?: string;
  txtIds?: string;
  channels: number;
  height: number;
  width: number;
  /** Image tokens L = (H/2)(W/2) and text tokens T. */
  tokens: number;
  textTokens?: number;
  /** Tensors computed from the ids alone (the RoPE tables), evaluated at import and stored as weights. */
  folded: string[];
}

const PACKED_README = 'README, "Pooled text and guidance (SD3, Flux)": export diffusers\' FluxTransformer2DModel with input_names '
  + '["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids", "txt_ids", "guidance"]';

const isIds = (v: ValueInfo, which: 'img' | 'txt') => (which === 'img' ? /(^|[^a-z])(img|image)_ids$/i : /(^|[^a-z])(txt|text)_ids$/i).test(v.name ?? '');

/**
 * Rewrites a packed-latent Flux export (diffusers' signature) in place into a [B, C, H, W] latent model with
 * its ids as constants; null (graph untouched) when the graph takes a [B, C, H, W] / [B, C, F, H, W] latent.
 * `latentSize` [H, W]: the latent's height and width when the token count is not a square grid.
 */
export async function unpackLatentSignature(ort: Ort, src: Model, latentSize?: readonly [number, number]): Promise<PackedLatent | null> {
  const g = src.graph!;
  const ix = indexGraph(src);
  const ins = [...ix.inputs.values()];
  const rank = (v: ValueInfo) => declaredShape(v).length;
  if (ins.some((v) => (rank(v) === 4 || rank(v) === 5) && elemType(v) === ELEM.float32)) {
    if (latentSize) {
      throw fail('IMPORT_UNSUPPORTED', '--latent-size applies to packed latents (Flux\'s hidden_states [B, (H/2)(W/2), 4C]); this graph takes a [B, C, H, W] latent',
        'Drop --latent-size: the latent\'s size is read from the graph.');
    }
    return null;
  }
  const img = ins.find((v) => isIds(v, 'img'));
  const txt = ins.find((v) => isIds(v, 'txt'));
  const rank3 = ins.filter((v) => v !== img && v !== txt && rank(v) === 3 && elemType(v) === ELEM.float32);
  const describe = ins.map((v) => `${v.name} ${ELEM_NAMES[elemType(v)] ?? `type ${elemType(v)}`} ${JSON.stringify(declaredShape(v))}`).join(', ');
  if (!img && !txt) {
    const named = rank3.find((v) => v.name === 'hidden_states');
    if (named && rank3.length >= 2) {
      throw fail('IMPORT_UNSUPPORTED', `the graph takes no [B, C, H, W] latent; ${named.name} ${JSON.stringify(declaredShape(named))} looks like Flux's packed latents, `
        + `but there are no img_ids / txt_ids inputs (inputs: ${describe})`,
      `The importer recognises packed latents with their position ids: ${PACKED_README}, passing img_ids and txt_ids as inputs.`);
    }
    if (latentSize) {
      throw fail('IMPORT_UNSUPPORTED', '--latent-size applies to packed latents with img_ids / txt_ids inputs (Flux, diffusers\' signature), which this graph does not take',
        'Drop --latent-size.');
    }
    return null;
  }
  if (!img || !txt) {
    throw fail('IMPORT_UNSUPPORTED', `the graph takes ${(img ?? txt)!.name} but no ${img ? 'txt_ids' : 'img_ids'} input: a packed Flux export takes both (inputs: ${describe})`,
      `${PACKED_README}.`);
  }
  for (const v of [img, txt]) {
    const s = declaredShape(v);
    const okRank = s.length === 2 || (s.length === 3 && (s[0] === 1 || typeof s[0] === 'string'));
    if (!okRank || (typeof s[s.length - 1] === 'number' && s[s.length - 1] !== 3) || ![ELEM.float32, ELEM.int64, ELEM.int32].includes(elemType(v) as 1)) {
      throw fail('IMPORT_UNSUPPORTED', `${v.name} is ${ELEM_NAMES[elemType(v)] ?? `type ${elemType(v)}`} ${JSON.stringify(s)}: position ids are [N, 3] `
        + '(one row per token: axis 0, row, column) float32 / int64 / int32', `${PACKED_README}; the ids as the pipeline makes them: `
        + 'img_ids = _prepare_latent_image_ids(…, H/2, W/2, …) [(H/2)(W/2), 3], txt_ids = zeros [T, 3].');
    }
  }
  const rows = (v: ValueInfo) => {
    const s = declaredShape(v);
    const n = s[s.length - 2];
    return typeof n === 'number' ? n : undefined;
  };
  // the packed latent: by diffusers' name, else the one rank-3 input with one token per img_ids row
  const byName = rank3.filter((v) => v.name === 'hidden_states');
  const byRows = rank3.filter((v) => rows(img) !== undefined && declaredShape(v)[1] === rows(img));
  const lat = byName.length === 1 ? byName[0]! : byRows.length === 1 ? byRows[0]! : undefined;
  if (!lat) {
    throw fail('IMPORT_UNSUPPORTED', `the graph takes img_ids / txt_ids, but its packed latent [B, (H/2)(W/2), 4C] cannot be told among the rank-3 inputs `
      + `(${rank3.map((v) => `${v.name} ${JSON.stringify(declaredShape(v))}`).join(', ') || 'none'})`, `${PACKED_README} (the packed latent named hidden_states).`);
  }
  const text = rank3.filter((v) => v !== lat);
  const [, Ld, D4] = declaredShape(lat);
  if (typeof D4 !== 'number' || D4 % 4 !== 0) {
    throw fail('IMPORT_UNSUPPORTED', `the packed latent ${lat.name} is ${JSON.stringify(declaredShape(lat))}: its last axis must be a fixed 4·C (2×2 patches of C latent channels)`,
      'Export with static shapes except the batch (dynamic_axes only on axis 0), packed as FluxPipeline._pack_latents packs.');
  }
  const C = D4 / 4;
  const L = typeof Ld === 'number' ? Ld : rows(img) ?? (latentSize ? (latentSize[0] * latentSize[1]) / 4 : undefined);
  if (L === undefined) {
    throw fail('IMPORT_UNSUPPORTED', `the packed latent ${lat.name} ${JSON.stringify(declaredShape(lat))} and ${img.name} ${JSON.stringify(declaredShape(img))} `
      + 'do not fix the number of image tokens', 'Pass --latent-size HxW (the latent\'s height and width, e.g. 128x128 for a 1024² Flux image), or export with static token counts.');
  }
  if (rows(img) !== undefined && rows(img) !== L) {
    throw fail('IMPORT_UNSUPPORTED', `${img.name} has ${rows(img)} rows but the packed latent ${lat.name} has ${L} tokens: img_ids must give one (0, row, column) per token`,
      'Export with img_ids = FluxPipeline._prepare_latent_image_ids(1, H/2, W/2, …) for the same H, W as the latent you export with.');
  }
  let H: number;
  let W: number;
  if (latentSize) {
    [H, W] = latentSize;
    if (!(Number.isInteger(H) && Number.isInteger(W) && H > 0 && W > 0 && H % 2 === 0 && W % 2 === 0)) {
      throw fail('IMPORT_UNSUPPORTED', `--latent-size ${H}x${W}: the latent's height and width must be even (Flux packs 2×2 patches)`,
        'Pass the latent\'s size (the image\'s / 8 for Flux\'s VAE), both even: e.g. --latent-size 128x128.');
    }
    if ((H / 2) * (W / 2) !== L) {
      throw fail('IMPORT_UNSUPPORTED', `--latent-size ${H}x${W} gives ${(H / 2) * (W / 2)} packed tokens, but the graph has ${L}`,
        `Pass the latent size the model was exported at: (H/2)·(W/2) = ${L}.`);
    }
  } else {
    const side = Math.round(Math.sqrt(L));
    if (side * side !== L) {
      throw fail('IMPORT_UNSUPPORTED', `the packed latent has ${L} tokens, not a square grid: the latent's height and width cannot be read from the graph`,
        `Pass --latent-size HxW (the latent's height and width, (H/2)·(W/2) = ${L}).`);
    }
    [H, W] = [2 * side, 2 * side];
  }
  // the text length: the text input's, else txt_ids' rows
  const textLen = text.length === 1 && typeof declaredShape(text[0]!)[1] === 'number' ? declaredShape(text[0]!)[1] as number : rows(txt);
  if (textLen === undefined) {
    throw fail('IMPORT_UNSUPPORTED', `the text length is not fixed (${text.map((v) => `${v.name} ${JSON.stringify(declaredShape(v))}`).join(', ')}, ${txt.name} ${JSON.stringify(declaredShape(txt))})`,
      'Export with a fixed text length (the tokenizer pads to it); only the batch axis may be dynamic.');
  }
  if (rows(txt) !== undefined && rows(txt) !== textLen) {
    throw fail('IMPORT_UNSUPPORTED', `${txt.name} has ${rows(txt)} rows but the text input ${text[0]?.name} has ${textLen} tokens: txt_ids must give one row per text token`,
      'Export with txt_ids = torch.zeros(T, 3) for the text length T the text input has.');
  }
  const outs = g.output ?? [];
  const out = outs[0];
  const outShape = out ? declaredShape(out) : [];
  if (outs.length !== 1 || outShape.length !== 3 || (typeof outShape[2] === 'number' && outShape[2] !== D4) || (typeof outShape[1] === 'number' && outShape[1] !== L)) {
    throw fail('IMPORT_UNSUPPORTED', `a packed latent in needs the packed prediction out, one [B, ${L}, ${D4}] tensor; the graph's outputs are `
      + `${outs.map((o) => `${o.name} ${JSON.stringify(declaredShape(o))}`).join(', ')}`, 'Export the transformer\'s sample (return_dict=False, the first output) as the only output.');
  }

  // ---- rewrite: latent [B, C, H, W] → pack → hidden_states; ids → constants; sample → unpack ----
  const taken = new Set([...ix.producer.keys(), ...ix.initializers.keys(), ...ix.inputs.keys()]);
  const latent = taken.has('latent') ? 'erta_import/latent' : 'latent';
  const b = declaredShape(lat)[0];
  const batch = typeof b === 'number' ? b : 'B';
  const [h2, w2] = [H / 2, W / 2];
  const p = (k: string) => `erta_import/pack_${k}`;
  const u = (k: string) => `erta_import/unpack_${k}`;
  const packNodes = [
    node('Reshape', [latent, p('shape6')], [p('6d')], p('reshape6')),
    node('Transpose', [p('6d')], [p('perm')], p('transpose'), [intsAttr('perm', [0, 2, 4, 1, 3, 5])]),
    node('Reshape', [p('perm'), p('shape3')], [lat.name!], p('reshape3')),
  ];
  const unpacked = taken.has('sample_unpacked') ? 'erta_import/sample_unpacked' : 'sample_unpacked';
  const unpackNodes = [
    node('Reshape', [out!.name!, u('shape6')], [u('6d')], u('reshape6')),
    node('Transpose', [u('6d')], [u('perm')], u('transpose'), [intsAttr('perm', [0, 3, 1, 4, 2, 5])]),
    node('Reshape', [u('perm'), u('shape4')], [unpacked], u('reshape4')),
  ];
  const ids = (v: ValueInfo, n: number, values: (k: number, axis: number) => number): Tensor => {
    const flat = Array.from({ length: n * 3 }, (_, k) => values(Math.floor(k / 3), k % 3));
    const dims = declaredShape(v).length === 3 ? [1, n, 3] : [n, 3];
    const e = elemType(v);
    return onnx.TensorProto.create({ name: v.name!, dataType: e, dims, ...(e === ELEM.float32 ? { floatData: flat } : e === ELEM.int64 ? { int64Data: flat } : { int32Data: flat }) });
  };
  // _prepare_latent_image_ids: token k = (row, col) = (⌊k / (W/2)⌋, k mod (W/2)), ids (0, row, col); txt_ids zeros
  const imgIds = ids(img, L, (k, a) => (a === 1 ? Math.floor(k / w2) : a === 2 ? k % w2 : 0));
  const txtIds = ids(txt, textLen, () => 0);
  g.node = [...packNodes, ...(g.node ?? []), ...unpackNodes];
  g.initializer = [...(g.initializer ?? []), imgIds, txtIds,
    int64Tensor(p('shape6'), [0, C, h2, 2, w2, 2]), int64Tensor(p('shape3'), [0, L, D4]),
    int64Tensor(u('shape6'), [0, h2, w2, C, 2, 2]), int64Tensor(u('shape4'), [0, C, H, W])];
  const removed = new Set([lat.name!, img.name!, txt.name!]);
  g.input = [valueInfo({ name: latent, elem: ELEM.float32, shape: [batch, C, H, W] }), ...(g.input ?? []).filter((v) => !removed.has(v.name!))];
  g.output = [valueInfo({ name: unpacked, elem: ELEM.float32, shape: [batch, C, H, W] })];

  const folded = await foldConstants(ort, src, [img.name!, txt.name!]);
  return { input: lat.name!, latent, imgIds: img.name!, txtIds: txt.name!, channels: C, height: H, width: W, tokens: L, textTokens: textLen, folded };
}

const ORT_ELEM: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 };

/**
 * Evaluates every tensor computed from `seeds` (constants of the graph) and other constants alone that a
 * non-constant node reads, stores each as a weight of that name, and drops the nodes nothing needs any more.
 * Nodes inside the blocks are left alone: a real export broadcasts the tables in every block (diffusers'
 * cos[None, :, None, :]), and folding those would store one copy of the tables per block; they stay cheap
 * reshapes of the shared tables. Returns the names folded.
 */
async function foldConstants(ort: Ort, src: Model, seeds: string[]): Promise<string[]> {
  const g = src.graph!;
  const ix = indexGraph(src);
  const fromSeeds = new Set(seeds);
  const mine = new Set<number>();
  ix.nodes.forEach((n, k) => {
    const ins = nodeInputs(n);
    if (ins.some((i) => fromSeeds.has(i)) && ins.every((i) => ix.constant.has(i)) && !inStackScope(n.name ?? '')) {
      mine.add(k);
      for (const o of n.output ?? []) if (o) fromSeeds.add(o);
    }
  });
  const frontier = [...fromSeeds].filter((t) => !seeds.includes(t)
    && ((ix.consumers.get(t) ?? []).some((k) => !mine.has(k)) || ix.outputs.includes(t)));
  if (frontier.length === 0) return [];
  const slice = backwardSlice(ix, frontier, new Set());
  const nodes = slice.nodes.map((k) => ix.nodes[k]!);
  const read = new Set(nodes.flatMap((n) => nodeInputs(n)));
  const m = onnx.ModelProto.create({
    irVersion: src.irVersion, opsetImport: src.opsetImport, functions: src.functions,
    graph: onnx.GraphProto.create({ name: 'erta_import_fold', node: nodes, initializer: (g.initializer ?? []).filter((t) => read.has(t.name!)),
      output: frontier.map((name) => onnx.ValueInfoProto.create({ name })) }),
  });
  const session = await createSession(ort, m);
  const values: Tensor[] = [];
  try {
    const r = await session.run({});
    for (const name of frontier) {
      const t = r[name]!;
      const data = t.data as ArrayBufferView;
      const dataType = ORT_ELEM[t.type];
      if (dataType === undefined) throw new Error(`fold: ${name} is ${t.type}`);
      values.push(onnx.TensorProto.create({ name, dataType, dims: t.dims.map(Number),
        rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) }));
    }
  } finally {
    await session.release();
  }
  g.initializer = [...(g.initializer ?? []), ...values];
  // keep the nodes the outputs still need (the folded tensors are weights now: the slice stops there)
  const live = backwardSlice(indexGraph(src), ix.outputs, new Set()).nodes;
  g.node = live.map((k) => ix.nodes[k]!);
  const used = new Set(g.node.flatMap((n) => nodeInputs(n)));
  g.initializer = g.initializer.filter((t) => used.has(t.name!) || ix.outputs.includes(t.name!));
  return frontier;
}
