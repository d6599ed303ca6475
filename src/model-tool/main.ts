// The model tool's command line (Node; no PyTorch needed):
//   npm run model:tool -- random --out DIR [--bytes N | --mlp F] [--layers L] [--fp16] [--shard-mb M] [--seed S] [--base DIR]
//   npm run model:tool -- shard SRC.onnx --out DIR [--shard-mb M]
//   npm run model:tool -- fp16 SRC_DIR --out DIR [--shard-mb M] [--keep-fp32 GRAPH,…]
// `random` writes a runnable random-weight model folder (manifest + embed/head + sharded blocks);
// `shard` moves a self-contained graph's weights into external-data shards and prints the
// manifest entry (file, sha256, bytes, externalData) to paste into the graph's entry.

import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { shardOnnxFile } from './external-data.ts';
import { writeRandomModel } from './random-model.ts';
import { writeFp16Model } from './fp16-model.ts';

const USAGE = `usage: model:tool random --out DIR [--bytes N | --mlp F] [--layers L] [--fp16] [--shard-mb M] [--seed S] [--base DIR] [--gain G]
       model:tool shard SRC.onnx --out DIR [--shard-mb M]
       model:tool fp16 SRC_DIR --out DIR [--shard-mb M] [--keep-fp32 GRAPH,…]   (manifest version 1 or 2)`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      out: { type: 'string' }, bytes: { type: 'string' }, mlp: { type: 'string' }, layers: { type: 'string' },
      fp16: { type: 'boolean' }, 'shard-mb': { type: 'string' }, seed: { type: 'string' }, base: { type: 'string' }, gain: { type: 'string' },
      'keep-fp32': { type: 'string' },
    },
  });
  const [command, src] = positionals;
  const num = (v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}\n${USAGE}`);
    return n;
  };
  const shardBytes = values['shard-mb'] ? Math.floor(num(values['shard-mb'])! * 2 ** 20) : undefined;
  if (!values.out || !['random', 'shard', 'fp16'].includes(command ?? '') || (command !== 'random' && !src)) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const t0 = performance.now();
  if (command === 'random') {
    const r = await writeRandomModel({
      base: values.base ?? 'public/models/mnist-dit', out: values.out,
      layers: num(values.layers) ?? 4, weights: values.fp16 ? 'float16' : 'float32',
      ...(values.mlp ? { mlp: num(values.mlp)! } : {}), ...(values.bytes ? { bytes: num(values.bytes)! } : {}),
      ...(shardBytes ? { shardBytes } : {}), ...(values.seed ? { seed: num(values.seed)! } : {}),
      ...(values.gain ? { branchGain: num(values.gain)! } : {}),
    });
    const total = r.blocks.bytes + (r.blocks.externalData ?? []).reduce((s, x) => s + x.bytes, 0);
    console.log(JSON.stringify({ dir: r.dir, name: r.manifest['name'], parameters: r.parameters, blocksBytes: total,
      shards: r.blocks.externalData?.length ?? 0, seconds: +((performance.now() - t0) / 1000).toFixed(1) }));
  } else if (command === 'fp16') {
    await mkdir(values.out, { recursive: true });
    const r = await writeFp16Model(src!, values.out, shardBytes, values['keep-fp32']?.split(',').filter(Boolean) ?? []);
    console.log(JSON.stringify({ dir: values.out, name: r.manifest['name'], graphs: r.reports }));
  } else {
    await mkdir(values.out, { recursive: true });
    const g = await shardOnnxFile(src!, { dir: values.out, file: basename(src!), ...(shardBytes ? { shardBytes } : {}) });
    console.log(JSON.stringify(g, null, 2));
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
