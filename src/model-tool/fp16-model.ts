// A model folder → its fp16 twin: every graph converted by convertToFp16 (fp16 matmul and conv
// weights, everything else fp32), optionally with its weights in shards, and a manifest with the
// new sizes, hashes, weightsDtype and modelHash. Class models (manifest version 1: `graphs`) and
// component models (version 2: the transformer's graphs, the text encoder, the context graph and
// the VAE decoder under `components`) alike; the other files a manifest names (tokenizer, prompt
// lists) are copied. Graphs named in `keepFp32` are copied unchanged (e.g. a VAE decoder known to
// overflow in fp16). Plans are not carried over: they are bound to the fp32 weights' hash
// (re-calibrate the twin). `npm run model:tool -- fp16 SRC --out DIR [--keep-fp32 vaeDecoder]`.

import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { modelHashOf } from '../manifest/hash.ts';
import { TEXT_ENCODER_GRAPHS, type GraphEntry, type GraphName } from '../manifest/types.ts';
import { writeModelProto } from './external-data.ts';
import { convertToFp16, readModel, type Fp16Report } from './fp16.ts';

type Json = Record<string, any>;

/** Where each graph entry of a manifest lives: its name (as in modelHash) and the object holding it. */
function graphSlots(m: Json): { name: GraphName; holder: Json; key: string }[] {
  if (m['version'] === 1) {
    return Object.keys(m['graphs'] ?? {}).filter((n) => n !== 'classifier')
      .map((name) => ({ name: name as GraphName, holder: m['graphs'], key: name }));
  }
  if (m['version'] !== 2) throw new Error(`fp16: manifest version ${String(m['version'])} is not one this tool knows (1 or 2)`);
  const c = m['components'] ?? {};
  const slots = Object.keys(c['transformer']?.['graphs'] ?? {})
    .map((name) => ({ name: name as GraphName, holder: c['transformer']['graphs'], key: name }));
  for (const [name, part] of [['textEncoder', 'textEncoder'], ['context', 'context'], ['vaeDecoder', 'vaeDecoder']] as const) {
    if (c[part]?.['graph']) slots.push({ name, holder: c[part], key: 'graph' });
  }
  // several text encoders (components.textEncoders: Flux, SD3): graphs textEncoder, textEncoder2, textEncoder3
  (c['textEncoders'] ?? []).forEach((e: Json, k: number) => {
    if (e?.['graph']) slots.push({ name: TEXT_ENCODER_GRAPHS[k]!, holder: e, key: 'graph' });
  });
  return slots;
}

/** Manifest-relative files that are not graphs: the tokenizer and the prompt lists. */
function otherFiles(m: Json): string[] {
  const files = [m['components']?.['tokenizer']?.['file'], ...(m['components']?.['textEncoders'] ?? []).map((e: Json) => e?.['tokenizer']?.['file']),
    m['calibrationPrompts'], m['evaluationPrompts']];
  return files.filter((f): f is string => typeof f === 'string');
}

export async function writeFp16Model(src: string, out: string, shardBytes?: number,
  keepFp32: readonly string[] = []): Promise<{ manifest: Json; reports: Record<string, Fp16Report> }> {
  const manifest = JSON.parse(await readFile(join(src, 'manifest.json'), 'utf8')) as Json;
  const slots = graphSlots(manifest);
  const unknown = keepFp32.filter((k) => !slots.some((s) => s.name === k));
  if (unknown.length) throw new Error(`fp16: --keep-fp32 names no graph of this model: ${unknown.join(', ')} (graphs: ${slots.map((s) => s.name).join(', ')})`);
  const graphs: Partial<Record<GraphName, GraphEntry>> = {};
  const reports: Record<string, Fp16Report> = {};
  for (const { name, holder, key } of slots) {
    const g = holder[key] as GraphEntry;
    await mkdir(dirname(join(out, g.file)), { recursive: true });
    if (keepFp32.includes(name)) {
      for (const f of [g.file, ...(g.externalData ?? []).map((x) => join(dirname(g.file), x.path))]) await copyFile(join(src, f), join(out, f));
      graphs[name] = g;
      continue;
    }
    if (g.externalData?.length) {
      throw new Error(`fp16: ${g.file} keeps its weights in external data; convert the self-contained fp32 export, then shard (--shard-mb)`);
    }
    const model = await readModel(join(src, g.file));
    reports[name] = convertToFp16(model);
    const w = await writeModelProto(model, {
      dir: dirname(join(out, g.file)), file: g.file.split('/').pop()!,
      ...(shardBytes ? { shardBytes } : { inlineBelow: Number.POSITIVE_INFINITY }),
    });
    const { externalData: _, ...rest } = g;
    holder[key] = graphs[name] = { ...rest, sha256: w.sha256, bytes: w.bytes, largestTensorBytes: w.largestTensorBytes,
      weightsDtype: w.weightsDtype, ...(w.externalData ? { externalData: w.externalData } : {}) };
  }
  for (const f of otherFiles(manifest)) {
    await mkdir(dirname(join(out, f)), { recursive: true });
    await copyFile(join(src, f), join(out, f));
  }
  Object.assign(manifest, { name: `${manifest['name']}-fp16`, modelHash: await modelHashOf(graphs), plans: [] });
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, reports };
}
