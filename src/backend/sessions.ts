// Creating ONNX sessions from verified bytes and checking them against the manifest. Works for
// any injected ort namespace (node or web); execution providers come in through sessionOptions.

import { manifestError } from '../manifest/errors.ts';
import type { GraphEntry, GraphName, ModelManifest } from '../manifest/types.ts';
import type { OrtNamespace, OrtSession, OrtSessionOptions, OrtTensorLike } from './ort-types.ts';

export type GraphSessions<T> = Partial<Record<GraphName, OrtSession<T>>>;

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
  bytes: Partial<Record<GraphName, Uint8Array>>,
  sessionOptions?: SessionOptionsFor,
): Promise<GraphSessions<T>> {
  const sessions: GraphSessions<T> = {};
  try {
    for (const [name, data] of Object.entries(bytes) as [GraphName, Uint8Array][]) {
      sessions[name] = await ort.InferenceSession.create(data, optionsFor(sessionOptions, name));
    }
  } catch (e) {
    await releaseSessions(sessions);
    throw e;
  }
  return sessions;
}

export async function releaseSessions<T>(sessions: GraphSessions<T>): Promise<void> {
  await Promise.allSettled(Object.values(sessions).map((s) => s?.release()));
}

function sameNames(declared: readonly string[], actual: readonly string[]): boolean {
  return declared.length === actual.length && declared.every((n) => actual.includes(n));
}

/** SESSION_IO_MISMATCH unless the session's input and output names are the manifest's. */
export function checkSessionIo<T>(name: GraphName, session: OrtSession<T>, entry: GraphEntry): void {
  const wantIn = Object.keys(entry.inputs);
  const wantOut = Object.keys(entry.outputs);
  if (sameNames(wantIn, session.inputNames) && sameNames(wantOut, session.outputNames)) return;
  throw manifestError(
    'SESSION_IO_MISMATCH',
    `${entry.file}: the graph has inputs [${session.inputNames.join(', ')}] and outputs ` +
      `[${session.outputNames.join(', ')}], but the manifest declares [${wantIn.join(', ')}] → [${wantOut.join(', ')}]`,
    'The .onnx file and manifest.json come from different exports; re-export both with tools/export.py.',
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
