// Creating ONNX sessions from verified bytes and checking them against the manifest. Works for
// any injected ort namespace (node or web); execution providers come in through sessionOptions.

import { manifestError } from '../manifest/errors.ts';
import type { GraphEntry, GraphName, ModelManifest } from '../manifest/types.ts';
import type { OrtNamespace, OrtSession, OrtSessionOptions, OrtTensorLike, OrtValueMetadata } from './ort-types.ts';

export type GraphSessions<T> = Partial<Record<GraphName, OrtSession<T>>>;

/**
 * What a session is created from: a self-contained graph's verified bytes, or a graph with
 * external-data shards — its bytes plus each shard (onnxruntime-web's `externalData` option),
 * or its file path (onnxruntime-node finds the shards beside it, already verified).
 */
export type GraphSource = Uint8Array | {
  model: Uint8Array | string;
  externalData?: { path: string; data: Uint8Array | Blob }[];
};

function sourceArgs(src: GraphSource, options: OrtSessionOptions | undefined): [Uint8Array | string, OrtSessionOptions | undefined] {
  if (src instanceof Uint8Array) return [src, options];
  return [src.model, src.externalData ? { ...options, externalData: src.externalData } : options];
}

/** One options object for every graph, or per graph (e.g. a different output location). */
export type SessionOptionsFor = OrtSessionOptions | ((graph: GraphName) => OrtSessionOptions);

function optionsFor(opts: SessionOptionsFor | undefined, graph: GraphName): OrtSessionOptions | undefined {
  return typeof opts === 'function' ? opts(graph) : opts;
}

/**
 * Creates one session per graph, one after the other (onnxruntime-web initialises its backend on
 * the first create; racing creates gain nothing on a single device). On failure, sessions that
 * were already created are released before the error propagates.
 */
export async function createGraphSessions<T extends OrtTensorLike>(
  ort: OrtNamespace<T>,
  bytes: Partial<Record<GraphName, GraphSource>>,
  sessionOptions?: SessionOptionsFor,
): Promise<GraphSessions<T>> {
  const sessions: GraphSessions<T> = {};
  try {
    for (const [name, data] of Object.entries(bytes) as [GraphName, GraphSource][]) {
      try {
        sessions[name] = await ort.InferenceSession.create(...sourceArgs(data, optionsFor(sessionOptions, name)));
      } catch (e) {
        throw unparsable(name, e) ?? e;
      }
    }
  } catch (e) {
    await releaseSessions(sessions);
    throw e;
  }
  return sessions;
}

/**
 * ONNX Runtime's messages for bytes that are not a loadable ONNX model (protobuf parse, empty
 * buffer, broken graph), as opposed to a runtime that failed to start (missing .wasm/.mjs,
 * an EP that cannot initialise): the two need different fixes.
 */
const UNPARSABLE = /protobuf parsing failed|failed to load model|model data pointer is null|invalid_protobuf|invalid model|load model from .* failed|ModelProto/i;

/** MODEL_FILE_CORRUPT for a parse failure of one graph's bytes, else null. */
function unparsable(name: GraphName, e: unknown): Error | null {
  const message = e instanceof Error ? e.message : String(e);
  if (!UNPARSABLE.test(message)) return null;
  return manifestError(
    'MODEL_FILE_CORRUPT',
    `the ${name} graph matches its manifest hash, but ONNX Runtime cannot load it: ${message}`,
    'the model folder holds a broken export (the manifest was written for these bytes): re-export the model '
      + 'with tools/export.py; the ONNX Runtime files and the page are not the problem',
    { cause: e },
  );
}

export async function releaseSessions<T>(sessions: GraphSessions<T>): Promise<void> {
  await Promise.allSettled(Object.values(sessions).map((s) => s?.release()));
}

function sameNames(declared: readonly string[], actual: readonly string[]): boolean {
  return declared.length === actual.length && declared.every((n) => actual.includes(n));
}

const IO_HINT = 'The .onnx file and manifest.json come from different exports; re-export both with tools/export.py.';

/** A declared numeric dimension must match; symbols (dynamic) and unknown dims match anything. */
function sameShape(declared: readonly (number | string)[], actual: readonly (number | string)[]): boolean {
  return declared.length === actual.length
    && declared.every((d, k) => typeof d === 'string' || typeof actual[k] !== 'number' || actual[k] === d);
}

/** The session's own dtypes and shapes (when it reports them) against the manifest's. */
function checkSessionSpecs(entry: GraphEntry, side: 'inputs' | 'outputs', meta: readonly OrtValueMetadata[] | undefined) {
  for (const m of meta ?? []) {
    const spec = entry[side][m.name];
    if (!spec || !m.isTensor || m.type === undefined || m.shape === undefined) continue;
    if (m.type === spec.dtype && sameShape(spec.shape, m.shape)) continue;
    throw manifestError(
      'SESSION_IO_MISMATCH',
      `${entry.file}: ${side.slice(0, -1)} ${m.name} is ${m.type} ${JSON.stringify(m.shape)} in the graph, `
        + `but the manifest declares ${spec.dtype} ${JSON.stringify(spec.shape)}`,
      IO_HINT,
    );
  }
}

/**
 * SESSION_IO_MISMATCH unless the session's input and output names are the manifest's, with the
 * dtypes and shapes it declares (checked when the session reports them: onnxruntime ≥ 1.22).
 */
export function checkSessionIo<T>(name: GraphName, session: OrtSession<T>, entry: GraphEntry): void {
  const wantIn = Object.keys(entry.inputs);
  const wantOut = Object.keys(entry.outputs);
  if (sameNames(wantIn, session.inputNames) && sameNames(wantOut, session.outputNames)) {
    checkSessionSpecs(entry, 'inputs', session.inputMetadata);
    checkSessionSpecs(entry, 'outputs', session.outputMetadata);
    return;
  }
  throw manifestError(
    'SESSION_IO_MISMATCH',
    `${entry.file}: the graph has inputs [${session.inputNames.join(', ')}] and outputs ` +
      `[${session.outputNames.join(', ')}], but the manifest declares [${wantIn.join(', ')}] → [${wantOut.join(', ')}]`,
    IO_HINT,
  );
}

/** The session for a graph, checked against the manifest, or GRAPH_MISSING. */
export function sessionFor<T>(sessions: GraphSessions<T>, m: ModelManifest, name: GraphName): OrtSession<T> {
  const session = sessions[name];
  const entry = m.graphs[name];
  if (!session || !entry) {
    throw manifestError(
      'GRAPH_MISSING',
      `no ${name} session${entry ? '' : ` (the manifest lists no ${name} graph)`}`,
      `Create sessions for every graph the denoiser needs (loadNodeModel / createGraphSessions with ${name}).`,
    );
  }
  checkSessionIo(name, session, entry);
  return session;
}
