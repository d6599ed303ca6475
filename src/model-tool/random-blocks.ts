// A random-weight DiT-like block stack of a chosen size: the `blocks` graph of the split
// contract (h [B,N,D], c [B,D] → z [B,N,D]) with L layers of
//   h += Wo·softmax(q kᵀ/√D)·v   on LN(h) + c·Wc   (single-head attention, adaLN-style shift)
//   h += W2·silu(W1·LN(h))        (MLP of width F: this is where the bytes go)
// Weights are seeded (same options → same bytes) and small enough that the residual stays
// bounded through any depth. For timing, memory and loading tests only: it draws nothing.
//
// fp16 (`weights: 'float16'`): every matrix is stored in fp16 and the matmuls run in fp16;
// LayerNorm and Softmax run in fp32 (Cast around them), the residual stream and the graph's
// inputs/outputs stay fp32 — the conversion rule of shared/design/pipelines.md ("fp16").

import { GraphBuilder, inlineTensor, toHalf, type ElemType, type Weight } from './onnx-build.ts';
import { mulberry32 } from '../core/rng.ts';

export interface BlocksOptions {
  /** Hidden width D and tokens N (the host model's). */
  dim: number;
  tokens: number;
  layers: number;
  /** MLP width F. */
  mlp: number;
  /** Storage and matmul type of the matrices (default float32). */
  weights?: 'float32' | 'float16';
  seed?: number;
  /** Scale of each branch's output projection (default 0.05: the stack stays near identity). */
  branchGain?: number;
}

/** Parameters of the stack (matrices + norms), to size a model before writing it. */
export function blocksParameters(o: Pick<BlocksOptions, 'dim' | 'layers' | 'mlp'>): number {
  const d = o.dim;
  return o.layers * (5 * d * d + 2 * d * o.mlp + 4 * d);
}

/** The MLP width that makes the stack about `bytes` large (at least 1). */
export function mlpForBytes(bytes: number, o: Pick<BlocksOptions, 'dim' | 'layers' | 'weights'>): number {
  const per = o.weights === 'float16' ? 2 : 4;
  const d = o.dim;
  const perLayer = bytes / per / o.layers - 5 * d * d - 4 * d;
  return Math.max(1, Math.ceil(perLayer / (2 * d)));
}

/** A seeded uniform generator in [0, 1): the runtime's mulberry32 (src/core/rng.ts), scaled. */
function uniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** A matrix of uniform values with standard deviation `std` (seeded by name and seed). */
function randomMatrix(name: string, dims: number[], type: ElemType, std: number, seed: number): Weight {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const a = std * Math.sqrt(3);
  return {
    name, type, dims,
    fill(out) {
      const next = uniform(h);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      const n = dims.reduce((x, y) => x * y, 1);
      if (type === 'float16') for (let k = 0; k < n; k++) view.setUint16(2 * k, toHalf((2 * next() - 1) * a), true);
      else for (let k = 0; k < n; k++) view.setFloat32(4 * k, (2 * next() - 1) * a, true);
    },
  };
}

function constant(name: string, dims: number[], value: number): Weight {
  return inlineTensor(name, 'float32', dims, new Array<number>(dims.reduce((x, y) => x * y, 1)).fill(value));
}

/** The blocks graph; write it with writeGraph (external-data shards). */
export function buildRandomBlocks(o: BlocksOptions): GraphBuilder {
  const { dim: d, tokens: n, layers, mlp: f } = o;
  const type: ElemType = o.weights ?? 'float32';
  const seed = o.seed ?? 0;
  const gain = o.branchGain ?? 0.05;
  const g = new GraphBuilder('random_blocks');
  let h = g.input('h', 'float32', ['B', n, d]);
  const c32 = g.input('c', 'float32', ['B', d]);
  const half = type === 'float16';
  const toT = (x: string) => (half ? g.op1('Cast', [x], { to: 10 }) : x);
  const to32 = (x: string) => (half ? g.op1('Cast', [x], { to: 1 }) : x);
  const c = toT(c32);
  const ones = g.weight(constant('ln_scale', [d], 1));
  const zeros = g.weight(constant('ln_bias', [d], 0));
  const axes = g.weight(inlineTensor('axes_1', 'int64', [1], [1]));
  const scale = g.weight(inlineTensor('attn_scale', 'float32', [1], [1 / Math.sqrt(d)]));
  const norm = (x: string) => toT(g.op1('LayerNormalization', [x, ones, zeros], { axis: -1, epsilon: 1e-6 }));
  const w = (name: string, dims: number[], std: number) => g.weight(randomMatrix(name, dims, type, std, seed));
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}`;
    const shift = g.op1('Unsqueeze', [g.op1('MatMul', [c, w(`${p}.adaLN.weight`, [d, d], 1 / Math.sqrt(d))]), axes]);
    const x = g.op1('Add', [norm(h), shift]);
    const q = g.op1('MatMul', [x, w(`${p}.attn.to_q.weight`, [d, d], 1 / Math.sqrt(d))]);
    const k = g.op1('MatMul', [x, w(`${p}.attn.to_k.weight`, [d, d], 1 / Math.sqrt(d))]);
    const v = g.op1('MatMul', [x, w(`${p}.attn.to_v.weight`, [d, d], 1 / Math.sqrt(d))]);
    const logits = g.op1('Mul', [to32(g.op1('MatMul', [q, g.op1('Transpose', [k], { perm: [0, 2, 1] })])), scale]);
    const attn = g.op1('MatMul', [toT(g.op1('Softmax', [logits], { axis: -1 })), v]);
    const o1 = g.op1('MatMul', [attn, w(`${p}.attn.to_out.weight`, [d, d], gain / Math.sqrt(d))]);
    h = g.op1('Add', [h, to32(o1)]);
    const u = g.op1('MatMul', [norm(h), w(`${p}.ff.up.weight`, [d, f], 1 / Math.sqrt(d))]);
    const act = g.op1('Mul', [u, g.op1('Sigmoid', [u])]);
    const o2 = g.op1('MatMul', [act, w(`${p}.ff.down.weight`, [f, d], gain / Math.sqrt(f))]);
    h = g.op1('Add', [h, to32(o2)], {}, l === layers - 1 ? 'z' : undefined);
  }
  if (layers === 0) h = g.op1('Identity', [h], {}, 'z');
  g.output('z', 'float32', ['B', n, d]);
  return g;
}
