// Reading a model directory in Node: the manifest and the graph files, each graph verified
// against the manifest's sha256 and byte size before any session sees it.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestError } from '../manifest/errors.ts';
import type { GraphEntry, ModelManifest } from '../manifest/types.ts';
import { shardFile } from '../manifest/shards.ts';
import { verifyModelHash } from '../manifest/hash.ts';
import { parseManifest } from '../manifest/validate.ts';

export const MANIFEST_FILE = 'manifest.json';

async function readOrExplain(path: string, what: string, hint: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? String(e);
    throw manifestError('MODEL_FILE_MISSING', `cannot read ${what} ${path} (${reason})`, hint, { cause: e });
  }
}

/** Reads and validates <dir>/manifest.json; its baseUrl is `dir`. */
export async function readManifestFile(dir: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE);
  const bytes = await readOrExplain(
    path,
    'the model manifest',
    'Point --model at a model directory (e.g. public/models/mnist-dit) written by tools/export.py.',
  );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw manifestError(
      'MANIFEST_FORMAT',
      `${path} is not valid JSON (${(e as Error).message})`,
      'Re-export the model with tools/export.py, or restore manifest.json from version control.',
      { cause: e },
    );
  }
  const manifest = parseManifest(json, dir);
  await verifyModelHash(manifest);
  return manifest;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of a graph file, or MODEL_FILE_HASH_MISMATCH if they are not the exported ones. */
export async function readVerifiedGraph(dir: string, entry: Pick<GraphEntry, 'file' | 'sha256' | 'bytes'>): Promise<Uint8Array> {
  const path = join(dir, entry.file);
  const bytes = await readOrExplain(
    path,
    'the graph file',
    'Re-export the model with tools/export.py so every file the manifest lists is present.',
  );
  const actual = sha256Hex(bytes);
  if (bytes.byteLength !== entry.bytes || actual !== entry.sha256) {
    throw manifestError(
      'MODEL_FILE_HASH_MISMATCH',
      `${path}: ${bytes.byteLength} bytes with sha256 ${actual.slice(0, 16)}…, but the manifest ` +
        `declares ${entry.bytes} bytes with sha256 ${entry.sha256.slice(0, 16)}…`,
      'The file is damaged or comes from another export; re-export the model (tools/export.py) ' +
        'or restore the directory from version control.',
    );
  }
  return bytes;
}

/** sha256 and size of a file, streamed (a shard of 1 GB is never held in memory). */
async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
    }
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? String(e);
    throw manifestError('MODEL_FILE_MISSING', `cannot read the external-data shard ${path} (${reason})`,
      'Every shard the manifest lists must lie beside its graph file; copy the whole model directory.', { cause: e });
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * A graph with external-data shards: the graph file and every shard verified (streamed), then
 * the graph's path, from which onnxruntime-node reads the shards itself.
 */
export async function verifyShardedGraph(dir: string, entry: Pick<GraphEntry, 'file' | 'sha256' | 'bytes' | 'externalData'>): Promise<string> {
  await readVerifiedGraph(dir, entry);
  for (const shard of entry.externalData ?? []) {
    const path = join(dir, shardFile(entry.file, shard));
    const actual = await hashFile(path);
    if (actual.bytes !== shard.bytes || actual.sha256 !== shard.sha256) {
      throw manifestError('MODEL_FILE_HASH_MISMATCH',
        `${path}: ${actual.bytes} bytes with sha256 ${actual.sha256.slice(0, 16)}…, but the manifest declares `
          + `${shard.bytes} bytes with sha256 ${shard.sha256.slice(0, 16)}…`,
        'The shard is damaged, partial or from another export; copy the model directory again or re-run the model tool.');
    }
  }
  return join(dir, entry.file);
}
