// A small ONNX graph builder over onnx-proto (the ONNX protobuf schema for JavaScript): nodes,
// graph inputs/outputs and initializers whose bytes are produced on demand, so a model of any
// size can be written straight into external-data shards without holding its weights in memory.
// Node only (the model tool); nothing here runs in the browser.

import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32';

export const ONNX_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
};
export const ELEM_BYTES: Record<ElemType, number> = { float32: 4, float16: 2, int64: 8, int32: 4 };

/** An initializer: name, dtype, dims, and a function that fills its little-endian bytes. */
export interface Weight {
  name: string;
  type: ElemType;
  dims: number[];
  /** Writes the tensor's bytes into `out` (exactly byteSize(this) bytes). */
  fill(out: Uint8Array): void | Promise<void>;
}

export function byteSize(w: Pick<Weight, 'type' | 'dims'>): number {
  return w.dims.reduce((a, b) => a * b, 1) * ELEM_BYTES[w.type];
}

type Attr = number | number[] | string;

/** Nodes, graph I/O and weights of one graph under construction. */
export class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly weights: Weight[] = [];
  readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, type: ElemType, shape: (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElemType, shape: (number | string)[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  weight(w: Weight): string {
    this.weights.push(w);
    return w.name;
  }

  /** One node; returns its output names (one unless `outputs` says more). */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, outName?: string): string[] {
    const outs = Array.from({ length: outputs }, (_, k) => (k === 0 && outName ? outName : this.fresh(opType.toLowerCase())));
    this.nodes.push(onnx.NodeProto.create({
      opType, input: inputs, output: outs, name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    }));
    return outs;
  }

  /** op() with one output. */
  op1(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outName?: string): string {
    return this.op(opType, inputs, attrs, 1, outName)[0]!;
  }
}

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (Number.isInteger(v) && !Object.is(v, -0) && name !== 'alpha' && name !== 'epsilon' && name !== 'beta') {
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
}

function valueInfo(name: string, type: ElemType, shape: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** A small inline tensor (shape constants, scalars): stored in the graph itself, never in a shard. */
export function inlineTensor(name: string, type: ElemType, dims: number[], values: readonly number[]): Weight {
  return {
    name, type, dims,
    fill(out) {
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      values.forEach((v, k) => {
        if (type === 'int64') view.setBigInt64(k * 8, BigInt(v), true);
        else if (type === 'int32') view.setInt32(k * 4, v, true);
        else if (type === 'float16') view.setUint16(k * 2, toHalf(v), true);
        else view.setFloat32(k * 4, v, true);
      });
    },
  };
}

/** float32 → IEEE 754 binary16 bits, round to nearest even (overflow → ±Inf, NaN kept). */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
export function toHalf(value: number): number {
  F32[0] = value;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half += 1;
  return sign | half;
}

/** binary16 bits → number. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
