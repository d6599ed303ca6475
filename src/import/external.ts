// Source graphs whose weights are ONNX external data (torch.onnx.export of a model over 2 GB, or
// onnx.save_model(..., save_as_external_data=True)): model.onnx plus one or many data files beside it.
//
// Every external initializer's location / offset / length is checked against the files on disk
// (locations are relative to the .onnx file's folder; `..`, absolute paths, missing files and
// ranges past a file's end are IMPORT_EXTERNAL_DATA). The tensors stay external in memory — a
// protobuf cannot be encoded above 2 GB, so the graphs onnxruntime runs (probes, parity checks)
// keep pointing at the source's files, which onnxruntime-node reads from the source folder
// (session option session.model_external_initializers_file_folder_path). The graphs the importer
// writes get their weights in shards through the model tool's writer (src/model-tool/external-data.ts),
// whose bytes for an external tensor are read from the source file here, one tensor at a time.

import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { sha256Hex } from '../manifest/hash.ts';
import { LIMITS } from '../manifest/limits.ts';
import type { ShardEntry } from '../manifest/shards.ts';
import { writeModelProto } from '../model-tool/external-data.ts';
import type { Ort } from './common.ts';
import { ImportError } from './errors.ts';
import { encodeModel, nodeInputs, onnx, type Model, type Tensor } from './onnx-graph.ts';

const fail = (code: ConstructorParameters<typeof ImportError>[0], msg: string, hint: string) => new ImportError(code, msg, hint);
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
/** Bytes per element of the ONNX tensor types a weight can have (by TensorProto.DataType). */
const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
/** The types the shard writer moves (float32, int32, int64, float16). */
const MOVABLE = new Set([1, 6, 7, 10]);

/** Where an external tensor's bytes are: the source folder, the data file, the byte range. */
interface Located { dir: string; path: string; offset: number; length: number }
/** Keyed by the tensor objects themselves: sub-graphs cut from the source share them (subModel, withOutputs). */
const located = new WeakMap<Tensor, Located>();

export interface ExternalSummary {
  /** The source .onnx file's folder, the base of every location. */
  dir: string;
  tensors: number;
  bytes: number;
  /** Data files, as the graph names them. */
  files: string[];
}

export const isExternal = (t: Tensor): boolean => t.dataLocation === EXTERNAL;

/**
 * Checks every external initializer of the source graph read from `modelPath` against the files beside it
 * and records where its bytes are; null when the graph keeps all its weights inside.
 */
export async function checkExternalData(m: Model, modelPath: string): Promise<ExternalSummary | null> {
  const ext = (m.graph?.initializer ?? []).filter(isExternal);
  if (ext.length === 0) return null;
  const dir = resolve(dirname(modelPath));
  const sizes = new Map<string, number>();
  const where = (t: Tensor) => `${modelPath}: tensor ${t.name}`;
  const outside = 'Keep the data files in the .onnx file\'s folder (or below it) and re-save the graph naming them relatively: '
    + 'onnx.save_model(model, "model.onnx", save_as_external_data=True, location="model.onnx.data").';
  let bytes = 0;
  for (const t of ext) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location') ?? '';
    if (location === '') {
      throw fail('IMPORT_EXTERNAL_DATA', `${where(t)} is stored as external data but names no location`, `The graph is damaged: re-export it. ${outside}`);
    }
    if (isAbsolute(location) || /^[A-Za-z]:|^[\\/]/.test(location) || location.split(/[\\/]/).includes('..')) {
      throw fail('IMPORT_EXTERNAL_DATA', `${where(t)} keeps its bytes in ${JSON.stringify(location)}, outside the graph's folder (an absolute path or ..)`, outside);
    }
    const elem = ELEM_BYTES[t.dataType ?? 0];
    if (elem === undefined || !MOVABLE.has(t.dataType ?? 0)) {
      throw fail('IMPORT_EXTERNAL_DATA', `${where(t)} is external data of ONNX type ${t.dataType}; the importer reads float32, float16, int32 and int64 weights from data files`,
        'Export the weights as float32 or float16, or keep this tensor inside the graph (onnx.save_model(..., size_threshold=N) keeps tensors under N bytes inside).');
    }
    const need = elem * (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    const num = (key: string): number | undefined => {
      const v = kv.get(key);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw fail('IMPORT_EXTERNAL_DATA', `${where(t)}: external-data ${key} ${JSON.stringify(v)} is not a byte count`, 'The graph is damaged: re-export it.');
      return Number(v);
    };
    const offset = num('offset') ?? 0;
    const length = num('length') ?? need;
    if (length !== need) {
      throw fail('IMPORT_EXTERNAL_DATA', `${where(t)}: its external data is ${length} bytes long, but [${(t.dims ?? []).join(', ')}] of ONNX type ${t.dataType} takes ${need}`,
        'The graph and its data files disagree: re-export them together.');
    }
    const path = join(dir, location);
    let size = sizes.get(path);
    if (size === undefined) {
      const s = await stat(path).catch((e: NodeJS.ErrnoException) => e);
      if (s instanceof Error || !s.isFile()) {
        throw fail('IMPORT_EXTERNAL_DATA', `${where(t)} keeps its bytes in ${location}, but ${path} ${s instanceof Error ? `cannot be read (${s.code})` : 'is not a file'}`,
          'Copy every data file the exporter wrote (model.onnx.data, or one file a tensor) into the .onnx file\'s folder, under the names the graph records.');
      }
      size = s.size;
      sizes.set(path, size);
    }
    if (offset + length > size) {
      throw fail('IMPORT_EXTERNAL_DATA', `${where(t)} reads bytes ${offset} … ${offset + length} of ${location}, which has ${size} bytes`,
        'The data file is truncated or from another export: copy it again, or re-export the model.');
    }
    located.set(t, { dir, path, offset, length });
    bytes += length;
  }
  const files = [...new Set(ext.map((t) => (t.externalData ?? []).find((e) => e.key === 'location')!.value!))];
  return { dir, tensors: ext.length, bytes, files };
}

function locate(t: Tensor): Located {
  const l = located.get(t);
  if (!l) throw new Error(`internal: external tensor ${t.name} was not checked (checkExternalData)`);
  return l;
}

/** The source folder the external tensors of `m` live in; null when it has none. */
function externalFolder(m: Model): string | null {
  const dirs = new Set((m.graph?.initializer ?? []).filter(isExternal).map((t) => locate(t).dir));
  if (dirs.size > 1) throw new Error(`internal: external tensors from ${dirs.size} folders in one graph`);
  return dirs.size === 1 ? [...dirs][0]! : null;
}

/**
 * An onnxruntime-node session on an in-memory graph. A graph with external tensors of the source is
 * encoded as it is (small: the weights are not in it), and onnxruntime reads them from the source folder.
 */
export function createSession(ort: Ort, m: Model): ReturnType<Ort['InferenceSession']['create']> {
  const bytes = encodeModel(m);
  const dir = externalFolder(m);
  if (!dir) return ort.InferenceSession.create(bytes);
  return ort.InferenceSession.create(bytes, { extra: { session: { model_external_initializers_file_folder_path: dir } } });
}

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/**
 * Sessions on `models`, released when `fn` settles: the parity runs open the single graph and the split graphs
 * one group at a time, so a big model's weights are held about once, not once per group.
 */
export async function withSessions<K extends string, T>(ort: Ort, models: Record<K, Model>, fn: (s: Record<K, Session>) => Promise<T>): Promise<T> {
  const s = {} as Record<K, Session>;
  try {
    for (const k of Object.keys(models) as K[]) s[k] = await createSession(ort, models[k]);
    return await fn(s);
  } finally {
    await Promise.all((Object.values(s) as Session[]).map((x) => x.release()));
  }
}

/** Reads an external tensor's bytes from the source's data file into `out`. */
export async function readExternal(t: Tensor, out: Uint8Array): Promise<void> {
  const l = locate(t);
  if (out.byteLength !== l.length) throw new Error(`internal: ${t.name} is ${l.length} bytes, asked for ${out.byteLength}`);
  const fd = await open(l.path, 'r');
  try {
    let done = 0;
    while (done < l.length) {
      const { bytesRead } = await fd.read(out, done, l.length - done, l.offset + done);
      if (bytesRead === 0) throw new Error(`${l.path}: ended at byte ${l.offset + done} while reading ${t.name}`);
      done += bytesRead;
    }
  } finally {
    await fd.close();
  }
}

/** A graph's manifest fields as written: the model tool's (WrittenGraph) when it has shards. */
export interface WrittenEntry {
  file: string;
  sha256: string;
  bytes: number;
  externalData?: ShardEntry[];
  largestTensorBytes?: number;
  weightsDtype?: 'float32' | 'float16';
}

/** Bytes of one initializer (raw, typed fields or external). */
function tensorBytes(t: Tensor): number {
  if (isExternal(t)) return locate(t).length;
  const n = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  return n * (ELEM_BYTES[t.dataType ?? 0] ?? 0);
}

/**
 * IMPORT_UNSUPPORTED when a weight the graph reads is larger than a shard (a weight is never split across shards):
 * checked on the source before the probes, and on each graph before it is written.
 */
export function checkShardFits(m: Model, shardBytes: number, what: string): void {
  const read = new Set((m.graph?.node ?? []).flatMap(nodeInputs));
  const largest = (m.graph?.initializer ?? []).filter((t) => MOVABLE.has(t.dataType ?? 0) && read.has(t.name!))
    .reduce<Tensor | null>((a, t) => (a === null || tensorBytes(t) > tensorBytes(a) ? t : a), null);
  if (largest && tensorBytes(largest) > shardBytes) {
    throw fail('IMPORT_UNSUPPORTED', `${what}: the weight ${largest.name} takes ${tensorBytes(largest)} bytes, more than a shard (--shard-mb: ${shardBytes} bytes)`,
      `Pass --shard-mb ${Math.ceil(tensorBytes(largest) / 2 ** 20)} or more (a weight is never split across shards; at most 2047).`);
  }
}

/**
 * Writes `m` as out/file. A self-contained graph no larger than `shardBytes` is written as one protobuf
 * (the bytes the importer always wrote); one with external tensors, or larger, or when `shard` is set,
 * is written by the model tool's writer with its weights (≥ 1 KiB each) in shards of at most `shardBytes`
 * beside it (<stem>.weights.<k>.bin).
 */
export async function writeImportedGraph(m: Model, out: string, file: string, o: { shardBytes: number; shard: boolean }): Promise<WrittenEntry> {
  const dir = dirname(join(out, file));
  await mkdir(dir, { recursive: true });
  const external = (m.graph?.initializer ?? []).some(isExternal);
  if (!o.shard && !external) {
    const bytes = encodeModel(m);
    if (bytes.length <= o.shardBytes) {
      await writeFile(join(out, file), bytes);
      return { file, sha256: await sha256Hex(bytes), bytes: bytes.length };
    }
  }
  checkShardFits(m, o.shardBytes, file);
  const w = await writeModelProto(m, { dir, file: basename(file), shardBytes: o.shardBytes, producerName: m.producerName ?? 'erta-diffusion import-model', externalBytes: readExternal });
  return {
    file, sha256: w.sha256, bytes: w.bytes, largestTensorBytes: w.largestTensorBytes, weightsDtype: w.weightsDtype,
    ...(w.externalData ? { externalData: w.externalData } : {}),
  };
}

/** The files a written graph consists of (the graph, then its shards), as ImportResult lists them. */
export function writtenFiles(e: WrittenEntry): { file: string; bytes: number; sha256: string }[] {
  const folder = e.file.includes('/') ? e.file.slice(0, e.file.lastIndexOf('/') + 1) : '';
  return [{ file: e.file, bytes: e.bytes, sha256: e.sha256 }, ...(e.externalData ?? []).map((s) => ({ file: `${folder}${s.path}`, bytes: s.bytes, sha256: s.sha256 }))];
}

/** Component graphs (text encoders, VAE decoder) are copied as they are: one with external data is refused. */
export function requireSelfContained(m: Model, file: string): void {
  if ((m.graph?.initializer ?? []).some(isExternal)) {
    throw fail('IMPORT_UNSUPPORTED', `${file} keeps its weights in external data files, which the importer copies only for the transformer`,
      'Re-save the component as one file (onnx.save_model(onnx.load(path), path, save_as_external_data=False), under 2 GB).');
  }
}

/**
 * An upper bound of the bytes `m` takes written (graph + shards): its weights, a 4 KiB alignment gap each and
 * 16 MiB for the graph itself. Used to leave out the single graph (model.onnx, which repeats every weight of
 * embed, blocks and head) when all graphs together would pass the manifest's limit (LIMITS.totalGraphBytes).
 */
export function writtenBytesBound(m: Model): number {
  return (m.graph?.initializer ?? []).reduce((s, t) => s + tensorBytes(t) + 4096, 2 ** 24);
}

/** Bytes of a written graph with its shards. */
export const entryBytes = (e: Pick<WrittenEntry, 'bytes' | 'externalData'>): number =>
  e.bytes + (e.externalData ?? []).reduce((s, x) => s + x.bytes, 0);

/** Why model.onnx was left out: the split graphs (and components) already take `used` bytes of the manifest's total. */
export function singleGraphNote(used: number): string {
  return `model.onnx (the single graph, every weight again) is left out: with it the model's graphs would pass the manifest's `
    + `${LIMITS.totalGraphBytes / 2 ** 30} GiB limit (${(used / 2 ** 30).toFixed(2)} GiB without it); the split graphs run every mode but --graphs single`;
}
