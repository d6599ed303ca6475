// A class model folder → its fp16 twin: every graph converted by convertToFp16 (fp16 matmul and
// conv weights, everything else fp32), optionally with its weights in shards, and a manifest with
// the new sizes, hashes, weightsDtype and modelHash. Plans are not carried over: they are bound to
// the fp32 weights' hash (re-calibrate the twin). `npm run model:tool -- fp16 SRC --out DIR`.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { modelHashOf } from '../manifest/hash.ts';
import type { GraphEntry } from '../manifest/types.ts';
import { writeModelProto } from './external-data.ts';
import { convertToFp16, readModel, type Fp16Report } from './fp16.ts';

export async function writeFp16Model(src: string, out: string, shardBytes?: number): Promise<{ manifest: Record<string, unknown>; reports: Record<string, Fp16Report> }> {
  const base = JSON.parse(await readFile(join(src, 'manifest.json'), 'utf8')) as Record<string, any>;
  if (base['version'] !== 1) throw new Error('fp16: only class models (manifest version 1) are converted so far');
  const graphs: Record<string, GraphEntry> = {};
  const reports: Record<string, Fp16Report> = {};
  for (const [name, g] of Object.entries(base['graphs'] as Record<string, GraphEntry>)) {
    if (name === 'classifier') continue;
    const model = await readModel(join(src, g.file));
    reports[name] = convertToFp16(model);
    await mkdir(dirname(join(out, g.file)), { recursive: true });
    const w = await writeModelProto(model, {
      dir: dirname(join(out, g.file)), file: g.file.split('/').pop()!,
      ...(shardBytes ? { shardBytes } : { inlineBelow: Number.POSITIVE_INFINITY }),
    });
    const { externalData: _, ...rest } = g;
    graphs[name] = { ...rest, sha256: w.sha256, bytes: w.bytes, largestTensorBytes: w.largestTensorBytes,
      weightsDtype: w.weightsDtype, ...(w.externalData ? { externalData: w.externalData } : {}) };
  }
  const manifest = { ...base, name: `${base['name']}-fp16`, graphs, modelHash: await modelHashOf(graphs), plans: [] };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, reports };
}
