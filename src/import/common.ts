// Helpers shared by the importer's class and text paths: input roles, probing shapes with
// onnxruntime-node, renames.

import { gaussianNoise } from '../core/rng.ts';
import { ImportError } from './errors.ts';
import { createSession } from './external.ts';
import { ELEM, node, withOutputs, type Model, type Node } from './onnx-graph.ts';

export type Ort = typeof import('onnxruntime-node');

export interface Roles {
  latent: string;
  timestep: string;
  /** Class models: the labels input. */
  labels?: string;
  dtypeLabels: number;
  /** Text models: the text encoder's hidden states [B, L, Dt] input, and [L, Dt]. */
  context?: string;
  contextShape?: number[];
  /** Text models (SD3 / Flux): the pooled text embedding input [B, P] (`pooled_projections`), and P. */
  pooled?: string;
  pooledDim?: number;
  /** Guidance-distilled models (Flux dev): the guidance scale input [B] (`guidance`). */
  guidance?: string;
}
export const fail = (code: ConstructorParameters<typeof ImportError>[0], msg: string, hint: string, cand: string[] = []) =>
  new ImportError(code, msg, hint, cand);
export interface Probe { shapes: Map<string, number[][]>; }

/** Runs the graph at batch 1 and 2 with extra outputs: each tensor's shape at both (the batch dim is the one that changes). */
export async function probe(ort: Ort, src: Model, roles: Roles, latentShape: number[], names: string[], scale: number): Promise<Probe> {
  const want = [...new Set(names)].filter((n) => !src.graph!.output!.some((o) => o.name === n));
  const session = await createSession(ort, withOutputs(src, want));
  const shapes = new Map<string, number[][]>();
  try {
    for (const b of [1, 2]) {
      const r = await session.run(feedsFor(ort, roles, latentShape, b, 11, scale));
      for (const n of [...want, ...src.graph!.output!.map((o) => o.name!)]) {
        const t = r[n];
        if (!t) continue;
        shapes.set(n, [...(shapes.get(n) ?? []), t.dims.map(Number)]);
        t.dispose();
      }
    }
  } finally {
    await session.release();
  }
  return { shapes };
}

export function feedsFor(ort: Ort, roles: Roles, latentShape: number[], b: number, seed: number, scale: number) {
  const dims = latentShape.slice(1); // [C, H, W] or a video's [C, F, H, W]
  const x = gaussianNoise(seed, b * prod(dims));
  const t = Float32Array.from({ length: b }, (_, k) => scale * (0.3 + 0.4 * k / Math.max(1, b - 1)));
  const y = Array.from({ length: b }, (_, k) => k % 2);
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
    [roles.latent]: new ort.Tensor('float32', x, [b, ...dims]),
    [roles.timestep]: new ort.Tensor('float32', t, [b]),
  };
  if (roles.labels) {
    feeds[roles.labels] = roles.dtypeLabels === ELEM.int64
      ? new ort.Tensor('int64', BigInt64Array.from(y, BigInt), [b]) : new ort.Tensor('int32', Int32Array.from(y), [b]);
  }
  if (roles.context) {
    const shape = roles.contextShape!;
    feeds[roles.context] = new ort.Tensor('float32', gaussianNoise(seed + 1, b * shape[0]! * shape[1]!), [b, ...shape]);
  }
  if (roles.pooled) feeds[roles.pooled] = new ort.Tensor('float32', gaussianNoise(seed + 2, b * roles.pooledDim!), [b, roles.pooledDim!]);
  if (roles.guidance) feeds[roles.guidance] = new ort.Tensor('float32', Float32Array.from({ length: b }, (_, k) => 3.5 - 1.5 * k), [b]);
  return feeds;
}

/** Probes tensors whose shapes are not known yet (sides that appeared after moving side work), into p. */
export async function shapesKnown(ort: Ort, src: Model, roles: Roles, latentShape: number[], names: string[], p: Probe, scale: number): Promise<boolean> {
  const missing = names.filter((n) => !p.shapes.has(n));
  if (missing.length === 0) return true;
  const q = await probe(ort, src, roles, latentShape, missing, scale);
  for (const [k, v] of q.shapes) p.shapes.set(k, v);
  return true;
}

/** Per-sample shape of a probed tensor whose first dim is the batch (1 then 2); null otherwise. */
export function batched(p: Probe, name: string): number[] | null {
  const s = p.shapes.get(name);
  if (!s || s.length !== 2) return null;
  const [a, b] = s as [number[], number[]];
  if (a.length === 0 || a[0] !== 1 || b[0] !== 2 || a.length !== b.length || a.slice(1).some((d, k) => d !== b[k + 1])) return null;
  return a.slice(1);
}

export const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Identity src → dst (a rename), unless they are the same name. */
export const rename = (from: string, to: string, tag: string): Node[] => (from === to ? [] : [node('Identity', [from], [to], `erta_import/${tag}`)]);

