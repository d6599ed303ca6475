// ONNX graph surgery on the protobuf (onnx-proto): read a model, index producers and consumers,
// cut a sub-graph between named tensors, add small nodes, write it back. Only what the importer
// needs; nodes keep their original order (an ONNX graph is topologically sorted).

import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type Model = onnxProto.onnx.ModelProto;
export type Node = onnxProto.onnx.INodeProto;
export type Tensor = onnxProto.onnx.ITensorProto;
export type ValueInfo = onnxProto.onnx.IValueInfoProto;

export const ELEM = { float32: 1, int32: 6, int64: 7 } as const;
export const ELEM_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(m: Model): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/** Names a node reads, including names its sub-graphs (If / Loop / Scan bodies) take from the outer scope. */
export function nodeInputs(n: Node): string[] {
  const names = (n.input ?? []).filter((s) => s !== '');
  for (const a of n.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) if (g) names.push(...outerNames(g));
  }
  return names;
}

function outerNames(g: onnxProto.onnx.IGraphProto): string[] {
  const local = new Set<string>([...(g.input ?? []).map((i) => i.name!), ...(g.initializer ?? []).map((t) => t.name!)]);
  const used: string[] = [];
  for (const n of g.node ?? []) {
    for (const name of nodeInputs(n)) if (!local.has(name)) used.push(name);
    for (const o of n.output ?? []) local.add(o);
  }
  return used;
}

/** The graph's tensors: who makes each one, who reads it, which are weights and inputs. */
export interface GraphIndex {
  nodes: Node[];
  producer: Map<string, number>;
  consumers: Map<string, number[]>;
  initializers: Map<string, Tensor>;
  inputs: Map<string, ValueInfo>;
  outputs: string[];
  /** Tensors computable from weights alone (Constant nodes, Identity of a weight, shapes of weights). */
  constant: Set<string>;
}

export function indexGraph(m: Model): GraphIndex {
  const g = m.graph!;
  const nodes = g.node ?? [];
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const inputs = new Map((g.input ?? []).filter((i) => !initializers.has(i.name!)).map((i) => [i.name!, i]));
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const constant = new Set<string>(initializers.keys());
  nodes.forEach((n, k) => {
    for (const o of n.output ?? []) if (o) producer.set(o, k);
    const ins = nodeInputs(n);
    for (const i of ins) {
      const list = consumers.get(i) ?? [];
      list.push(k);
      consumers.set(i, list);
    }
    if (ins.every((i) => constant.has(i)) && !['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike'].includes(n.opType!)) {
      for (const o of n.output ?? []) if (o) constant.add(o);
    }
  });
  return { nodes, producer, consumers, initializers, inputs, outputs: (g.output ?? []).map((o) => o.name!), constant };
}

/**
 * The nodes needed to compute `targets` when `given` are fed from outside (a backward slice),
 * in graph order. `needs` = the non-weight tensors it reads that it does not make itself.
 */
export function backwardSlice(ix: GraphIndex, targets: readonly string[], given: ReadonlySet<string>): { nodes: number[]; needs: Set<string> } {
  const picked = new Set<number>();
  const needs = new Set<string>();
  const stack = [...targets];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (given.has(t)) {
      needs.add(t);
      continue;
    }
    if (ix.initializers.has(t)) continue;
    const p = ix.producer.get(t);
    if (p === undefined) {
      needs.add(t); // a graph input
      continue;
    }
    if (picked.has(p)) continue;
    picked.add(p);
    stack.push(...nodeInputs(ix.nodes[p]!));
  }
  return { nodes: [...picked].sort((a, b) => a - b), needs };
}

export interface IoSpec {
  name: string;
  elem: number;
  /** Numbers, or a symbol (the batch: "B"). */
  shape: (number | string)[];
}

export function valueInfo(s: IoSpec): ValueInfo {
  return onnx.ValueInfoProto.create({
    name: s.name,
    type: {
      tensorType: {
        elemType: s.elem,
        shape: { dim: s.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

export function int64Tensor(name: string, values: readonly number[]): Tensor {
  return onnx.TensorProto.create({ name, dataType: ELEM.int64, dims: [values.length], int64Data: [...values] });
}

export function floatTensor(name: string, values: readonly number[], dims: number[] = [values.length]): Tensor {
  return onnx.TensorProto.create({ name, dataType: ELEM.float32, dims, floatData: [...values] });
}

export function node(opType: string, inputs: string[], outputs: string[], name: string, attrs: onnxProto.onnx.IAttributeProto[] = []): Node {
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute: attrs });
}

export function intAttr(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

export function intsAttr(name: string, ints: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

/**
 * A new model: the source model's nodes `keep` (in order) between `inputs` and `outputs`, plus
 * `before` nodes (run first: renames from the new input names) and `after` nodes (renames to the
 * new output names), with only the weights the nodes read.
 */
export function subModel(src: Model, ix: GraphIndex, parts: {
  keep: number[]; before: Node[]; after: Node[]; extraInit: Tensor[]; inputs: IoSpec[]; outputs: IoSpec[]; name: string;
}): Model {
  const nodes = [...parts.before, ...parts.keep.map((k) => ix.nodes[k]!), ...parts.after];
  const read = new Set(nodes.flatMap((n) => nodeInputs(n)));
  const init = [...ix.initializers.values()].filter((t) => read.has(t.name!));
  const g = onnx.GraphProto.create({
    name: parts.name,
    node: nodes,
    initializer: [...init, ...parts.extraInit],
    input: parts.inputs.map(valueInfo),
    output: parts.outputs.map(valueInfo),
  });
  return onnx.ModelProto.create({
    irVersion: src.irVersion,
    opsetImport: src.opsetImport,
    producerName: 'erta-diffusion import-model',
    graph: g,
    functions: src.functions,
  });
}

/** The source model with extra graph outputs (to read intermediate tensors' shapes and values). */
export function withOutputs(src: Model, names: readonly string[]): Model {
  const g = onnx.GraphProto.create({
    ...src.graph!,
    output: [...(src.graph!.output ?? []), ...names.map((name) => onnx.ValueInfoProto.create({ name }))],
  });
  return onnx.ModelProto.create({ ...src, graph: g });
}

/** Declared shape of a graph input: numbers, symbols, or null for an unknown dim. */
export function declaredShape(v: ValueInfo): (number | string | null)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    const n = d.dimValue == null ? 0 : Number(d.dimValue);
    return n > 0 ? n : null;
  });
}

export function elemType(v: ValueInfo): number {
  return v.type?.tensorType?.elemType ?? 0;
}
