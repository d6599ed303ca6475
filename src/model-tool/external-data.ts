// Writing an ONNX graph with its weights in external-data shards (< 2 GB each). Each weight is
// produced, hashed and written one at a time (one tensor in memory at a time, never the model),
// aligned to 4 KiB inside its shard so onnxruntime can map it. Also converts an existing
// self-contained .onnx into graph + shards.

import { createHash } from 'node:crypto';
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ShardEntry } from '../manifest/shards.ts';
import { SHARD_LIMITS } from '../manifest/shards.ts';
import { byteSize, GraphBuilder, onnx, ONNX_TYPE, type ElemType, type ModelProto, type Weight } from './onnx-build.ts';

export interface WriteOptions {
  /** Folder the graph and its shards are written to. */
  dir: string;
  /** Graph file name, e.g. "blocks.onnx"; shards are "<stem>.weights.<k>.bin" beside it. */
  file: string;
  /** Largest shard in bytes (default 1 GiB; at most 2^31 − 1). */
  shardBytes?: number;
  /** Weights smaller than this stay inside the graph (default 1024 bytes). */
  inlineBelow?: number;
  opset?: number;
  /** The source model's operator sets (all domains), kept by shardOnnxFile / writeModelProto. */
  opsetImport?: { domain?: string | null; version?: number | Long | null }[];
  irVersion?: number;
  /** The model's producer (default "erta-diffusion model tool"). */
  producerName?: string;
  /** Model-local functions the nodes call (kept by writeModelProto when the source has any). */
  functions?: ModelProto['functions'];
  /** Initializers kept inside the graph as they are (tensors whose bytes cannot be moved: strings, empty or exotic types). */
  keepInline?: InstanceType<typeof onnx.TensorProto>[];
}

type Long = { toNumber(): number };

export interface WrittenGraph {
  file: string;
  sha256: string;
  bytes: number;
  /** Absent when every weight stayed inside the graph. */
  externalData?: ShardEntry[];
  /** Bytes of the largest weight (one GPU buffer; checked against WebGPU adapter limits). */
  largestTensorBytes: number;
  /** 'float16' when any floating-point weight is fp16. */
  weightsDtype: 'float32' | 'float16';
}

const ALIGN = 4096;

interface OpenShard {
  path: string;
  fd: FileHandle;
  hash: ReturnType<typeof createHash>;
  offset: number;
}

/** Writes `g` as dir/file plus shards; returns what the manifest lists for it. */
export async function writeGraph(g: GraphBuilder, options: WriteOptions): Promise<WrittenGraph> {
  const shardBytes = Math.min(options.shardBytes ?? 2 ** 30, SHARD_LIMITS.shardBytes);
  const inlineBelow = options.inlineBelow ?? 1024;
  const stem = options.file.replace(/\.onnx$/, '');
  const shards: ShardEntry[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  let shard: OpenShard | null = null;
  const close = async () => {
    if (!shard) return;
    await shard.fd.close();
    shards.push({ path: shard.path, sha256: shard.hash.digest('hex'), bytes: shard.offset });
    shard = null;
  };
  try {
    for (const w of g.weights) {
      const size = byteSize(w);
      const data = new Uint8Array(size);
      await w.fill(data);
      if (size < inlineBelow) {
        initializers.push(onnx.TensorProto.create({ name: w.name, dims: w.dims, dataType: ONNX_TYPE[w.type], rawData: data }));
        continue;
      }
      if (size > shardBytes) throw new Error(`weight ${w.name} (${size} bytes) is larger than a shard (${shardBytes} bytes)`);
      let s: OpenShard | null = shard;
      const pad = s ? (ALIGN - (s.offset % ALIGN)) % ALIGN : 0;
      if (s && s.offset + pad + size > shardBytes) {
        await close();
        s = null;
      }
      if (!s) {
        const path = `${basename(stem)}.weights.${shards.length}.bin`;
        s = { path, fd: await open(join(options.dir, path), 'w'), hash: createHash('sha256'), offset: 0 };
        shard = s;
      }
      const gap = (ALIGN - (s.offset % ALIGN)) % ALIGN;
      if (gap > 0) {
        const zeros = new Uint8Array(gap);
        await s.fd.write(zeros);
        s.hash.update(zeros);
        s.offset += gap;
      }
      await s.fd.write(data);
      s.hash.update(data);
      initializers.push(onnx.TensorProto.create({
        name: w.name, dims: w.dims, dataType: ONNX_TYPE[w.type],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: s.path },
          { key: 'offset', value: String(s.offset) },
          { key: 'length', value: String(size) },
        ],
      }));
      s.offset += size;
    }
    await close();
  } finally {
    await (shard as OpenShard | null)?.fd.close().catch(() => {});
  }
  const model: ModelProto = onnx.ModelProto.create({
    irVersion: options.irVersion ?? 8,
    producerName: options.producerName ?? 'erta-diffusion model tool',
    opsetImport: options.opsetImport ?? [{ domain: '', version: options.opset ?? 17 }],
    graph: { name: g.name, node: g.nodes, input: g.inputs, output: g.outputs, initializer: [...initializers, ...(options.keepInline ?? [])] },
    ...(options.functions?.length ? { functions: options.functions } : {}),
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  await writeFile(join(options.dir, options.file), bytes);
  const out: WrittenGraph = {
    file: options.file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength,
    largestTensorBytes: Math.max(1, ...g.weights.map(byteSize)),
    weightsDtype: g.weights.some((w) => w.type === 'float16') ? 'float16' : 'float32',
  };
  if (shards.length > 0) out.externalData = shards;
  return out;
}

const TYPE_OF: Record<number, ElemType> = Object.fromEntries(
  Object.entries(ONNX_TYPE).map(([k, v]) => [v, k as ElemType]),
);

/**
 * A self-contained .onnx (raw-data initializers, as torch.onnx.export writes them) → the same
 * graph with its weights in shards. The source graph is read whole (ONNX protobufs are < 2 GB).
 */
export async function shardOnnxFile(src: string, options: WriteOptions): Promise<WrittenGraph> {
  return writeModelProto(onnx.ModelProto.decode(await readFile(src)), options);
}

/** What writeModelProto reads the bytes of an external-data initializer with (the importer: the source's data files). */
export type ExternalBytes = (t: InstanceType<typeof onnx.TensorProto>, out: Uint8Array) => Promise<void>;

/**
 * A decoded model written as graph + shards; weights below inlineBelow stay inside. Initializers may hold
 * raw data, typed fields (float_data, int32_data, int64_data: converted to raw bytes) or, with `externalBytes`,
 * external data of another file; tensors of other types (or empty ones) stay inside the graph as they are.
 */
export async function writeModelProto(model: ModelProto, options: WriteOptions & { externalBytes?: ExternalBytes }): Promise<WrittenGraph> {
  const graph = model.graph!;
  const g = new GraphBuilder(graph.name || 'graph');
  g.nodes.push(...(graph.node as InstanceType<typeof onnx.NodeProto>[]));
  g.inputs.push(...(graph.input as InstanceType<typeof onnx.ValueInfoProto>[]));
  g.outputs.push(...(graph.output as InstanceType<typeof onnx.ValueInfoProto>[]));
  const keep: InstanceType<typeof onnx.TensorProto>[] = [];
  for (const t of (graph.initializer ?? []) as InstanceType<typeof onnx.TensorProto>[]) {
    const type = TYPE_OF[t.dataType ?? 0];
    const dims = (t.dims ?? []).map(Number);
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const read = options.externalBytes;
      if (!type || !read) throw new Error(`initializer ${t.name}: external data of type ${t.dataType} cannot be moved to shards`);
      g.weights.push({ name: t.name!, type, dims, fill: (out) => read(t, out) } satisfies Weight);
      continue;
    }
    const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : type ? typedFieldBytes(t, type) : null;
    if (!type || !raw || raw.byteLength === 0 || raw.byteLength !== byteSize({ type, dims })) {
      keep.push(t);
      continue;
    }
    g.weights.push({ name: t.name!, type, dims, fill: (out) => out.set(raw) } satisfies Weight);
  }
  const ir = model.irVersion;
  return writeGraph(g, {
    ...options, opsetImport: model.opsetImport, ...(ir ? { irVersion: Number(ir) } : {}),
    ...(keep.length > 0 ? { keepInline: keep } : {}), ...(model.functions?.length ? { functions: model.functions } : {}),
  });
}

/** Little-endian bytes of a tensor stored in its typed fields (float_data, int32_data, int64_data); null when they hold nothing. */
function typedFieldBytes(t: InstanceType<typeof onnx.TensorProto>, type: ElemType): Uint8Array | null {
  const view = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (type) {
    case 'float32': return t.floatData?.length ? view(Float32Array.from(t.floatData)) : null;
    case 'int32': return t.int32Data?.length ? view(Int32Array.from(t.int32Data)) : null;
    case 'float16': return t.int32Data?.length ? view(Uint16Array.from(t.int32Data)) : null; // fp16 bits in int32_data
    case 'int64': return t.int64Data?.length ? view(BigInt64Array.from(t.int64Data, (v) => BigInt(v.toString()))) : null;
  }
}
