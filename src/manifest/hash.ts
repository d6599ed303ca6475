// The model hash: one sha256 that names a set of exported weights, so calibrated plans can be
// bound to exactly the weights they were fitted for.
//
//   modelHash = sha256( utf8( concat of graphs[name].sha256, lower-case hex, names sorted ascending ) )
//
// over every graph the manifest lists (a graph with external data contributes its sha256 followed
// by its shards' sha256 values in manifest order, shards.ts) (tools/export.py writes it this way). Each graph file is
// checked against its own sha256 before a session sees it, so a manifest whose modelHash
// verifies names exactly the bytes that run, and a plan whose modelHash equals it was fitted
// for them. Web Crypto (crypto.subtle) runs in browsers, workers and Node ≥ 19 alike.

import { manifestError } from './errors.ts';
import { graphHashText } from './shards.ts';
import type { GraphEntry, GraphName, ModelManifest } from './types.ts';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The modelHash of a set of graphs (see the definition above). */
export function modelHashOf(graphs: Partial<Record<GraphName, Pick<GraphEntry, 'sha256' | 'externalData'>>>): Promise<string> {
  const names = (Object.keys(graphs) as GraphName[]).sort();
  const joined = names.map((n) => graphHashText(graphs[n]!)).join('');
  return sha256Hex(new TextEncoder().encode(joined));
}

/** MODEL_HASH_MISMATCH unless the manifest's modelHash is the hash of the graphs it lists. */
export async function verifyModelHash(m: ModelManifest): Promise<void> {
  const expected = await modelHashOf(m.graphs);
  if (expected === m.modelHash) return;
  throw manifestError(
    'MODEL_HASH_MISMATCH',
    `manifest.json: modelHash ${m.modelHash.slice(0, 12)}… is not the hash of the graphs it lists `
      + `(${Object.keys(m.graphs).sort().join(', ')} → ${expected.slice(0, 12)}…)`,
    'modelHash must be sha256 over the graphs\' sha256 values joined in name order (README, "Model hash"); '
      + 're-export with tools/export.py, or set modelHash to the value above — and re-calibrate plans made for other weights',
  );
}
