// `npm run import-model -- model.onnx --out DIR [--blocks-input NAME --blocks-output NAME] [--json]`:
// flags → importModel (src/import), then a summary or one JSON line.

import { parseArgs } from 'node:util';
import { importModel, type ImportResult } from '../import/import-model.ts';
import { ArgReader, UsageError } from './args.ts';

export const IMPORT_USAGE = `usage: npm run import-model -- <model.onnx> --out <dir> [options]

Splits a single-graph ONNX diffusion transformer (exported from PyTorch with torch.onnx.export,
dynamo=False) at its block stack into embed | blocks | head, writes them with model.onnx and a
manifest.json (sha256 and sizes) into <dir>, and checks that the split graphs give the single
graph's output on a random batch. Then: npm run calibrate -- --model <dir> --budget <n>.
The graph may keep its weights in external data files beside it (models over 2 GB: model.onnx +
model.onnx.data, or one file a tensor); the written graphs then keep theirs in shards (--shard-mb).

  --out <dir>             folder to write (created)
  --blocks-input <name>   the tensor entering the first block, when node names do not show the
                          stack (the importer lists candidates when it finds none)
  --blocks-output <name>  the tensor leaving the last block (pass both or neither)
  --components <dir>      text models: the folder with tokenizer/tokenizer.json, text_encoder/model.onnx,
                          vae_decoder/model.onnx (+ config.json: scaling_factor, shift_factor); with
                          text_encoder_2/ (+ _3/) and tokenizer_2/ (+ _3/), several text encoders (Flux:
                          CLIP + T5; SD3: CLIP-L + CLIP-G + T5), their assembly inferred from the shapes
  --prompts <file>        text models: calibration prompts (JSON array or one a line), for npm run calibrate
  --pooled-input <name>   text models (SD3 / Flux style): the input taking the pooled text embedding [B, P]
                          (default: the one float [B, P] input; by name, *pool* / text_embeds, when several).
                          It feeds the time embedding, so embed reads it; its values come from the text
                          encoder's [1, P] output (CLIP's pooler_output / text_embeds)
  --guidance-input <name> guidance-distilled models (Flux dev style): the input taking the guidance scale
                          [B] (default: the [B] float input named *guidance*); the model then runs without
                          CFG (manifest defaultGuidance 1) and generate takes --embedded-guidance
  --embedded-guidance <g> the manifest's default guidance scale for such a model (default 3.5, Flux dev's)
  --latent-size <HxW>     packed-latent exports (diffusers' FluxTransformer2DModel: hidden_states
                          [B, (H/2)(W/2), 4C], img_ids, txt_ids; recognised with no flags): the latent's
                          height and width when the token count is not a square grid (default: square)
  --classes <k>           classes of a class-conditional model (default: rows of the label
                          embedding − 1; label k is the null class)
  --timestep-scale <s>    the model takes t = s·σ (e.g. 1000); default 1 (σ ∈ [0, 1])
  --name <name>           model name in the manifest (default: the file name)
  --tolerance <r>         largest split-vs-single difference, relative to the output (default 1e-4)
  --shard-mb <m>          largest external-data shard in MiB (default 1024, at most 2047): the graphs are written
                          with their weights (each ≥ 1 KiB) in shards <graph>.weights.<k>.bin beside them when the
                          source keeps its weights in external data (model.onnx + data files), or when a graph
                          would be larger than this; listed with sha256 and size in the manifest
  --json                  print one JSON object as the last stdout line
  --help                  show this message`;

export interface ImportArgs {
  model: string;
  out: string;
  blocksInput?: string;
  blocksOutput?: string;
  components?: string;
  prompts?: string;
  pooledInput?: string;
  guidanceInput?: string;
  embeddedGuidance?: number;
  latentSize?: [number, number];
  classes?: number;
  timestepScale?: number;
  name?: string;
  tolerance?: number;
  shardBytes?: number;
  json: boolean;
}

export function parseImportArgs(argv: readonly string[]): ImportArgs | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv], allowPositionals: true, strict: true,
      options: {
        out: { type: 'string' }, 'blocks-input': { type: 'string' }, 'blocks-output': { type: 'string' },
        classes: { type: 'string' }, components: { type: 'string' }, prompts: { type: 'string' }, 'timestep-scale': { type: 'string' }, name: { type: 'string' },
        tolerance: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
        'pooled-input': { type: 'string' }, 'guidance-input': { type: 'string' }, 'embedded-guidance': { type: 'string' },
        'latent-size': { type: 'string' }, 'shard-mb': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!, IMPORT_USAGE);
  }
  const r = new ArgReader(parsed.values, IMPORT_USAGE);
  if (r.flag('help')) return null;
  if (parsed.positionals.length !== 1) r.fail(`pass exactly one model file, got ${parsed.positionals.length}`);
  const out = r.str('out') ?? r.fail('--out <dir> is required');
  const blocksInput = r.str('blocks-input');
  const blocksOutput = r.str('blocks-output');
  if ((blocksInput === undefined) !== (blocksOutput === undefined)) r.fail('pass both --blocks-input and --blocks-output, or neither');
  const scale = r.num('timestep-scale');
  if (scale !== undefined && !(scale > 0)) r.fail(`--timestep-scale must be > 0, got ${scale}`);
  const tolerance = r.num('tolerance');
  if (tolerance !== undefined && !(tolerance > 0)) r.fail(`--tolerance must be > 0, got ${tolerance}`);
  const a: ImportArgs = { model: parsed.positionals[0]!, out, json: r.flag('json') };
  if (blocksInput !== undefined) a.blocksInput = blocksInput;
  if (blocksOutput !== undefined) a.blocksOutput = blocksOutput;
  const classes = r.int('classes', 1, 1_000_000);
  if (classes !== undefined) a.classes = classes;
  if (scale !== undefined) a.timestepScale = scale;
  if (tolerance !== undefined) a.tolerance = tolerance;
  const components = r.str('components');
  if (components !== undefined) a.components = components;
  const prompts = r.str('prompts');
  if (prompts !== undefined) a.prompts = prompts;
  const name = r.str('name');
  if (name !== undefined) a.name = name;
  const pooledInput = r.str('pooled-input');
  if (pooledInput !== undefined) a.pooledInput = pooledInput;
  const guidanceInput = r.str('guidance-input');
  if (guidanceInput !== undefined) a.guidanceInput = guidanceInput;
  const eg = r.num('embedded-guidance');
  if (eg !== undefined && !(eg >= 0 && eg <= 100)) r.fail(`--embedded-guidance must be in [0, 100], got ${eg}`);
  if (eg !== undefined) a.embeddedGuidance = eg;
  const size = r.str('latent-size');
  if (size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(size);
    if (!m) r.fail(`--latent-size must be HxW (the latent's height and width, e.g. 128x128), got ${size}`);
    a.latentSize = [Number(m![1]), Number(m![2])];
  }
  const shardMb = r.num('shard-mb');
  if (shardMb !== undefined && !(shardMb >= 1 / 16 && shardMb <= 2047)) r.fail(`--shard-mb must be in [0.0625, 2047] (MiB), got ${shardMb}`);
  if (shardMb !== undefined) a.shardBytes = Math.floor(shardMb * 2 ** 20);
  return a;
}

export const runImport = (a: ImportArgs): Promise<ImportResult> => importModel(a);

export function describeImport(r: ImportResult): string {
  return [
    `imported ${r.name} into ${r.out}`,
    `  stack: ${r.stack}; h = ${r.blocksInput} → z = ${r.blocksOutput} [B, ${r.hidden.tokens}, ${r.hidden.dim}]`,
    `  c packs: ${r.sides.map((s) => `${s.name} ${JSON.stringify(s.shape)}`).join(', ') || 'nothing'}`,
    ...(r.textEncoders && r.textAssembly ? [`  text encoders: ${r.textEncoders.map((e) => `${e.dir} (${e.length} tokens, ${e.tokenizer}/)`).join(', ')}; context = `
      + r.textAssembly.context.map((seg) => (seg.features.length === 0 ? `[${seg.tokens} zero tokens]`
        : `[${seg.features.map((f) => `${r.textEncoders![f.encoder]!.dir}:${f.output}`).join(' | ')}${seg.padTo ? `, zero-padded to ${seg.padTo}` : ''}]`)).join(' then ')] : []),
    ...(r.pooled ? [`  pooled text: ${r.pooled.input} [B, ${r.pooled.dim}] ← text encoder output ${r.pooled.encoderOutput} (an input of embed)`] : []),
    ...(r.guidance ? [`  guidance: ${r.guidance.input} [B] (an input of embed; default scale ${r.guidance.default}; runs without CFG)`] : []),
    ...(r.packedLatent ? [`  packed latents: ${r.packedLatent.input} [B, ${r.packedLatent.tokens}, ${4 * r.packedLatent.channels}] ← pack(latent [B, ${r.packedLatent.channels}, `
      + `${r.packedLatent.height}, ${r.packedLatent.width}]), output unpacked; ${r.packedLatent.imgIds} / ${r.packedLatent.txtIds} constants; `
      + `folded: ${r.packedLatent.folded.join(', ') || 'nothing'}`] : []),
    `  latent ${r.latent.channels}×${r.latent.frames !== undefined ? `${r.latent.frames}×` : ''}${r.latent.height}×${r.latent.width}, ${r.classes ? `${r.classes} classes` : 'text-conditioned'}, ${r.prediction}`,
    ...(r.sourceExternalData ? [`  source weights: ${r.sourceExternalData.tensors} tensors, ${r.sourceExternalData.bytes} bytes in external data `
      + `(${r.sourceExternalData.files.length <= 3 ? r.sourceExternalData.files.join(', ') : `${r.sourceExternalData.files.length} files`}); written in shards`] : []),
    ...r.files.map((f) => `  ${f.file}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…`),
    `  split vs single: ${r.parity.toExponential(2)} (relative max-abs, tolerance ${r.tolerance})`,
    ...(r.singleGraphOmitted ? [`  ${r.singleGraphOmitted}`] : []),
    `next: npm run calibrate -- --model ${r.out} --steps 50 --budget 25`,
  ].join('\n');
}
