// fp16 conversion of an exported fp32 graph, by the rule of shared/design/pipelines.md ("fp16"):
// the weight matrices of MatMul / Gemm / Conv are stored in fp16 and those products run in fp16;
// everything else — Softmax, LayerNorm and other normalisations, reductions, the residual
// additions, the graph's inputs and outputs — stays fp32. Each converted product gets a Cast to
// fp16 on its activation input and a Cast back to fp32 on its output; an initializer is converted
// only when every node that reads it is such a product (shared weights stay fp32 otherwise).

import { readFile } from 'node:fs/promises';
import { onnx, toHalf, type ModelProto } from './onnx-build.ts';

type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

/** Ops whose weight inputs (by index) become fp16; the other inputs are activations. */
const PRODUCTS: Record<string, readonly number[]> = { MatMul: [1], Gemm: [1, 2], Conv: [1, 2] };
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

export interface Fp16Report {
  /** Products now running in fp16. */
  nodes: number;
  /** Initializers converted, and their bytes before → after. */
  initializers: number;
  bytesBefore: number;
  bytesAfter: number;
}

function floatValues(t: TensorProto): Float32Array | null {
  if (t.dataType !== FLOAT) return null;
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = Uint8Array.from(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return t.floatData && t.floatData.length > 0 ? Float32Array.from(t.floatData) : null;
}

/** Converts `model` in place; returns what it changed. */
export function convertToFp16(model: ModelProto): Fp16Report {
  const graph = model.graph!;
  const inits = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) inits.set(t.name!, t as TensorProto);
  const readers = new Map<string, { node: NodeProto; index: number }[]>();
  for (const node of graph.node as NodeProto[]) {
    (node.input ?? []).forEach((name, index) => {
      if (inits.has(name)) (readers.get(name) ?? readers.set(name, []).get(name)!).push({ node, index });
    });
  }
  const weightOf = (r: { node: NodeProto; index: number }) => PRODUCTS[r.node.opType!]?.includes(r.index) ?? false;
  const convertible = (name: string) => {
    const t = inits.get(name);
    return t !== undefined && t.dataType === FLOAT && readers.get(name)!.every(weightOf);
  };
  const products = (graph.node as NodeProto[]).filter((n) => {
    const weights = PRODUCTS[n.opType!];
    if (!weights) return false;
    const present = weights.filter((k) => (n.input?.[k] ?? '') !== '');
    return present.length > 0 && inits.has(n.input![1]!) && present.every((k) => convertible(n.input![k]!));
  });
  const report: Fp16Report = { nodes: 0, initializers: 0, bytesBefore: 0, bytesAfter: 0 };
  const converted = new Set<string>();
  const out: NodeProto[] = [];
  const chosen = new Set(products);
  let counter = 0;
  const cast = (input: string, to: number, output: string) => onnx.NodeProto.create({
    opType: 'Cast', input: [input], output: [output], name: `fp16_cast_${counter++}`,
    attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }],
  }) as NodeProto;
  for (const node of graph.node as NodeProto[]) {
    if (!chosen.has(node)) {
      out.push(node);
      continue;
    }
    const weights = PRODUCTS[node.opType!]!;
    node.input = node.input!.map((name, k) => {
      if (name === '' || weights.includes(k)) {
        if (name !== '') converted.add(name);
        return name;
      }
      const half = `${name}__fp16_${counter}`;
      out.push(cast(name, FLOAT16, half));
      return half;
    });
    const result = node.output![0]!;
    node.output = [`${result}__fp16`];
    out.push(node, cast(`${result}__fp16`, FLOAT, result));
    report.nodes += 1;
  }
  graph.node = out;
  for (const name of converted) {
    const t = inits.get(name)!;
    const values = floatValues(t)!;
    const raw = new Uint8Array(values.length * 2);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < values.length; k++) view.setUint16(2 * k, toHalf(values[k]!), true);
    report.initializers += 1;
    report.bytesBefore += values.length * 4;
    report.bytesAfter += raw.byteLength;
    t.dataType = FLOAT16;
    t.rawData = raw;
    t.floatData = [];
  }
  // Value infos of the products' outputs (if the exporter wrote them) now name fp32 tensors that
  // a Cast produces: still correct. Intermediate fp16 tensors get no value info: ORT infers them.
  return report;
}

export async function readModel(path: string): Promise<ModelProto> {
  return onnx.ModelProto.decode(await readFile(path));
}
