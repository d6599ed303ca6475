// The graphs of a text-to-image pipeline around the transformer (shared/design/pipelines.md):
// the text encoder (+ optional context graph) once per prompt, the transformer bound to the
// prompts' context rows for one run, the VAE decoder once at the end, and the linear preview.
// Every graph input/output name comes from the manifest's io maps, never from code.

import { BadInputError } from '../core/errors.ts';
import { manifestError } from '../manifest/errors.ts';
import type { ChannelLayout, Denoiser, TensorOps } from '../core/types.ts';
import { textConditioning } from '../manifest/conditioning.ts';
import { latentSize, type EncoderOutputRef, type GraphMode, type ModelManifest, type TextPipeline } from '../manifest/types.ts';
import { graphRunner, sameLabels } from './denoiser.ts';
import type { OrtNamespace, OrtTensorLike } from './ort-types.ts';
import type { RunQueue } from './run-queue.ts';
import { sessionFor, type GraphSessions } from './sessions.ts';

/** A latent x̂₀ → RGB map run on the device (WebGPU); absent, the map runs on the host. */
export type DevicePreviewMap<T> = (x: T, matrix: Float32Array, bias: Float32Array) => T;

/** What a run binds besides the prompts' rows. */
export interface BindOptions {
  /** Models with a guidance input (Flux dev): the scale fed to it; default the manifest's scheduler.defaultEmbeddedGuidance. */
  embeddedGuidance?: number;
}

export interface PipelineGraphs<T> {
  /**
   * Token ids (each text encoder's [maxLength], one after the other) → one conditioning row on the host (one read-back): the context [maxTokens · contextDim],
   * then, for a model with a pooled text input, the encoder's pooled embedding [pooledDim].
   */
  encode(ids: Int32Array): Promise<Float32Array>;
  /** The transformer bound to conditioning rows: batch row k runs row labels[k] (sampling: 0 = prompt, 1 = negative). */
  bind(contexts: readonly Float32Array[], options?: BindOptions): Denoiser<T>;
  /** Final latent → RGB planar [3, H', W'] (a video: [3, F, H', W']) in the decoder's range, on the host (one read-back). */
  decode(latent: T): Promise<Float32Array>;
  /** x̂₀ → rough RGB planar [3, H, W] (a video: [3, F, H, W]) through the linear preview map (one read-back). */
  preview(x0hat: T): Promise<Float32Array>;
}

export interface PipelineDeps<T extends OrtTensorLike> {
  ort: OrtNamespace<T>;
  sessions: GraphSessions<T>;
  manifest: ModelManifest;
  mode: GraphMode;
  ops: TensorOps<T>;
  queue: RunQueue;
  devicePreview?: DevicePreviewMap<T>;
}

/** RGB = Mᵀ·latent + bias per pixel, planar in and out (the host form of the preview map). */
export function previewOnHost(x: Float32Array, matrix: Float32Array, bias: Float32Array, channels: number): Float32Array {
  const plane = x.length / channels;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let o = 0; o < 3; o++) {
      let acc = bias[o]!;
      for (let c = 0; c < channels; c++) acc += matrix[c * 3 + o]! * x[c * plane + p]!;
      out[o * plane + p] = acc;
    }
  }
  return out;
}

/**
 * The [B, ...shape] tensor of a batch, row k = rows[labels[k]] from `offset` (the context part of a row, or its pooled
 * tail); made once per distinct labels (CPU, reused every step).
 */
function rowTensors<T extends OrtTensorLike>(ort: OrtNamespace<T>, rows: readonly Float32Array[], shape: number[], offset = 0) {
  const size = shape.reduce((a, b) => a * b, 1);
  const byLabels = new Map<string, T>();
  // The sampler passes the same labels array every step: answer it without forming the key.
  let last: { labels: Int32Array; copy: Int32Array; tensor: T } | null = null;
  return (labels: Int32Array): T => {
    if (last !== null && last.labels === labels && sameLabels(labels, last.copy)) return last.tensor;
    const key = labels.join(',');
    let t = byLabels.get(key);
    if (!t) {
      checkLabels(labels, rows.length);
      const data = new Float32Array(labels.length * size);
      labels.forEach((l, k) => data.set(rows[l]!.subarray(offset, offset + size), k * size));
      t = new ort.Tensor('float32', data, [labels.length, ...shape]);
      byLabels.set(key, t);
    }
    last = { labels, copy: labels.slice(), tensor: t };
    return t;
  };
}

function checkLabels(labels: Int32Array, bound: number): void {
  let ok = true;
  for (let k = 0; k < labels.length; k++) ok &&= labels[k]! >= 0 && labels[k]! < bound; // Int32Array: integers
  if (!ok) {
    throw new BadInputError(`a text model's batch rows name bound prompts 0 … ${bound - 1}, got [${[...labels]}]`,
      'bind the prompt and the negative prompt (CFG runs them as a batch of 2: cond { label: 0, nullLabel: 1 })');
  }
}

/** Rows 0 … b−1: the sampler's order when blocks() is called without labels. */
const firstRows = (b: number) => Int32Array.from({ length: b }, (_, k) => k);

function bindTransformer<T extends OrtTensorLike>(d: PipelineDeps<T>, p: TextPipeline, rows: readonly Float32Array[], o: BindOptions): Denoiser<T> {
  const { ort, sessions, manifest: m, queue } = d;
  const io = p.transformerIo;
  const { maxTokens, contextDim, pooledDim = 0 } = textConditioning(m).conditioning;
  rows.forEach((r, k) => {
    if (r.length !== maxTokens * contextDim + pooledDim) {
      throw new BadInputError(`conditioning row ${k} has ${r.length} values, expected ${maxTokens}×${contextDim}${pooledDim ? ` + ${pooledDim} pooled` : ''}`,
        'encode prompts with this model');
    }
  });
  const context = rowTensors(ort, rows, [maxTokens, contextDim]);
  const sigmas = (b: number, sigma: number) => new ort.Tensor('float32', new Float32Array(b).fill(sigma), [b]);
  // The pooled text embedding [B, P] (rows' tails) and the guidance scale [B]: inputs of embed and the single graph.
  const pooled = io.pooled ? rowTensors(ort, rows, [pooledDim], maxTokens * contextDim) : null;
  const scale = o.embeddedGuidance ?? m.scheduler.defaultEmbeddedGuidance;
  const guidance = io.guidance ? new Map<number, T>() : null;
  const conditioningFeeds = (feeds: Record<string, T>, labels: Int32Array): Record<string, T> => {
    if (pooled) feeds[io.pooled!] = pooled(labels);
    if (guidance) {
      let g = guidance.get(labels.length);
      if (!g) guidance.set(labels.length, g = new ort.Tensor('float32', new Float32Array(labels.length).fill(scale!), [labels.length]));
      feeds[io.guidance!] = g;
    }
    return feeds;
  };
  // [B, C, H, W] or a video's [B, C, F, H, W]: channel-major either way, the frames ride in `inner`
  const outputLayout: ChannelLayout = { channels: m.latent.channels, inner: latentSize(m.latent) / m.latent.channels };
  if (d.mode === 'single') {
    const model = graphRunner('model', sessionFor(sessions, m, 'model'), queue);
    return {
      kind: 'single', outputLayout,
      async forward(x, sigma, labels) {
        const t = sigmas(labels.length, sigma);
        try {
          return (await model(conditioningFeeds({ [io.latent]: x, [io.sigma]: t, [io.context]: context(labels) }, labels), [io.velocity]))[io.velocity]!;
        } finally {
          t.dispose();
        }
      },
    };
  }
  const embed = graphRunner('embed', sessionFor(sessions, m, 'embed'), queue);
  const blocks = graphRunner('blocks', sessionFor(sessions, m, 'blocks'), queue);
  const head = graphRunner('head', sessionFor(sessions, m, 'head'), queue);
  const embedOut = [io.hidden, io.temb, io.mod0];
  const blocksOut = [io.hiddenOut];
  const velocityOut = [io.velocity];
  return {
    kind: 'split',
    hiddenLayout: { channels: m.hidden.dim, inner: 1 },
    outputLayout,
    async embed(x, sigma, labels) {
      checkLabels(labels, rows.length);
      const t = sigmas(labels.length, sigma);
      try {
        const r = await embed(conditioningFeeds({ [io.latent]: x, [io.sigma]: t }, labels), embedOut);
        return { h: r[io.hidden]!, c: r[io.temb]!, mod0: r[io.mod0]! };
      } finally {
        t.dispose();
      }
    },
    blocks: async (h, c, labels) => (await blocks({ [io.hidden]: h, [io.temb]: c,
      [io.context]: context(labels ?? firstRows(h.dims[0]!)) }, blocksOut))[io.hiddenOut]!,
    head: async (z, c) => (await head({ [io.hidden]: z, [io.temb]: c }, velocityOut))[io.velocity]!,
  };
}

/**
 * The pipeline's text encoders and the assembly of their outputs (manifest components.textEncoders / textAssembly):
 * `run` feeds each encoder its slice of the combined ids (prompts.ts combineTokenizers: each tokenizer's padded ids in
 * encoder order) and fetches the outputs the assembly reads; the context is the segments one after the other along the
 * tokens, each the features of its outputs side by side, zero-padded to its width (SD3: [CLIP-L | CLIP-G | 0] then T5);
 * the pooled vector is its outputs side by side (SD3: CLIP-L's and CLIP-G's text_embeds; Flux: CLIP's pooler_output).
 */
function textEncoding<T extends OrtTensorLike>(d: PipelineDeps<T>, p: TextPipeline) {
  const { ort, sessions, manifest: m, ops, queue } = d;
  const a = p.assembly;
  const shapeOf = (f: EncoderOutputRef) => m.graphs[p.encoders[f.encoder]!.graph]!.outputs[f.output]!.shape as number[];
  const encoders = p.encoders.map((e, k) => ({
    run: graphRunner(e.graph, sessionFor(sessions, m, e.graph), queue),
    length: e.tokenizer.maxLength,
    idsDtype: m.graphs[e.graph]!.inputs[e.io.inputIds]!.dtype as 'int32' | 'int64',
    inputIds: e.io.inputIds,
    outputs: [...new Set([...a.context.flatMap((s) => s.features), ...a.pooled].filter((f) => f.encoder === k).map((f) => f.output))],
  }));
  const segments = a.context.map((s) => {
    const widths = s.features.map((f) => shapeOf(f)[2]!);
    // no features: `tokens` zero tokens (SD3 without T5)
    return { features: s.features, widths, tokens: s.tokens ?? shapeOf(s.features[0]!)[1]!, width: s.padTo ?? widths.reduce((x, y) => x + y, 0) };
  });
  const width = segments.find((s) => s.features.length > 0)!.width;
  const tokens = segments.reduce((x, s) => x + s.tokens, 0);
  // a graph with dynamic axes could return another size than the manifest declares: say so, never assemble garbage
  const sized = (f: EncoderOutputRef, v: Float32Array, n: number): Float32Array => {
    if (v.length === n) return v;
    const e = p.encoders[f.encoder]!;
    throw manifestError('SESSION_IO_MISMATCH', `${m.graphs[e.graph]!.file}: output ${f.output} has ${v.length} values, the manifest declares `
      + `${JSON.stringify(shapeOf(f))} (${n})`, 'Re-import the model (npm run import-model) from the same text encoder export.');
  };
  return {
    /** One encoder whose output is the context unchanged (every single-encoder pipeline). */
    direct: segments.length === 1 && segments[0]!.features.length === 1 && segments[0]!.width === segments[0]!.widths[0],
    width,
    async run(ids: Int32Array): Promise<Record<string, T>[]> {
      const outs: Record<string, T>[] = [];
      let at = 0;
      try {
        for (const e of encoders) {
          const slice = ids.subarray(at, at + e.length);
          at += e.length;
          const data = e.idsDtype === 'int64' ? BigInt64Array.from(slice, (v) => BigInt(v)) : Int32Array.from(slice);
          const input = new ort.Tensor(e.idsDtype, data, [1, e.length]);
          try {
            outs.push(await e.run({ [e.inputIds]: input }, e.outputs));
          } finally {
            input.dispose();
          }
        }
        return outs;
      } catch (err) {
        for (const o of outs) for (const t of Object.values(o)) ops.dispose(t);
        throw err;
      }
    },
    /** The context [tokens · width] on the host. */
    async assembleContext(outs: Record<string, T>[]): Promise<Float32Array> {
      const out = new Float32Array(tokens * width); // zeros: the padding
      let row = 0;
      for (const s of segments) {
        let col = 0;
        for (const [k, f] of s.features.entries()) {
          const w = s.widths[k]!;
          const v = sized(f, await ops.read(outs[f.encoder]![f.output]!), s.tokens * w);
          for (let t = 0; t < s.tokens; t++) out.set(v.subarray(t * w, (t + 1) * w), (row + t) * width + col);
          col += w;
        }
        row += s.tokens;
      }
      return out;
    },
    /** The pooled vector on the host. */
    async assemblePooled(outs: Record<string, T>[]): Promise<Float32Array> {
      const parts = await Promise.all(a.pooled.map(async (f) => sized(f, await ops.read(outs[f.encoder]![f.output]!), shapeOf(f)[1]!)));
      const out = new Float32Array(parts.reduce((x, q) => x + q.length, 0));
      let at = 0;
      for (const q of parts) {
        out.set(q, at);
        at += q.length;
      }
      return out;
    },
  };
}

export function createPipelineGraphs<T extends OrtTensorLike>(d: PipelineDeps<T>): PipelineGraphs<T> {
  const { ort, sessions, manifest: m, ops, queue } = d;
  const { pipeline: p } = textConditioning(m, 'a text pipeline');
  const encode = textEncoding(d, p);
  const projection = p.context ? graphRunner('context', sessionFor(sessions, m, 'context'), queue) : null;
  const vae = graphRunner('vaeDecoder', sessionFor(sessions, m, 'vaeDecoder'), queue);
  const C = m.latent.channels;
  const inner = latentSize(m.latent) / C; // H·W, or F·H·W for a video
  const matrix = Float32Array.from(p.preview.matrix.flat());
  const bias = Float32Array.from(p.preview.bias);
  // What the decoder reads, k_c·latent + m_c per channel: (latent / scaling + shift) · std_c + mean_c (std 1, mean 0
  // unless the manifest normalises latents per channel, as Wan), as t − (a·t + b) with a = 1 − k_c, b = −m_c (the ops' affine).
  const { scalingFactor, shiftFactor, latentsMean, latentsStd } = p.vaeDecoder;
  const unscaleA = Float32Array.from({ length: C }, (_, c) => 1 - (latentsStd?.[c] ?? 1) / scalingFactor);
  const unscaleB = Float32Array.from({ length: C }, (_, c) => -(shiftFactor * (latentsStd?.[c] ?? 1) + (latentsMean?.[c] ?? 0)));

  return {
    async encode(ids) {
      const outs = await encode.run(ids);
      const held = new Set(outs.flatMap((o) => Object.values(o)));
      let projected: T | null = null;
      let fed: T | null = null;
      try {
        let context: Float32Array;
        if (encode.direct) { // one encoder's output is the context as it is: no host round trip before the context graph
          const only = p.assembly.context[0]!.features[0]!;
          const hidden = outs[only.encoder]![only.output]!;
          if (projection && p.context) {
            projected = (await projection({ [p.context.io.hiddenStates]: hidden }, [p.context.io.context]))[p.context.io.context]!;
            context = await ops.read(projected);
          } else {
            context = await ops.read(hidden);
          }
        } else {
          const assembled = await encode.assembleContext(outs);
          if (projection && p.context) {
            fed = new ort.Tensor('float32', assembled, [1, assembled.length / encode.width, encode.width]);
            projected = (await projection({ [p.context.io.hiddenStates]: fed }, [p.context.io.context]))[p.context.io.context]!;
            context = await ops.read(projected);
          } else {
            context = assembled;
          }
        }
        if (p.assembly.pooled.length === 0) return context;
        const tail = await encode.assemblePooled(outs);
        const row = new Float32Array(context.length + tail.length); // [context | pooled]: one row per prompt, as the LRU keeps it
        row.set(context);
        row.set(tail, context.length);
        return row;
      } finally {
        for (const t of held) ops.dispose(t);
        if (projected) ops.dispose(projected);
        if (fed) fed.dispose();
      }
    },
    bind: (rows, options = {}) => bindTransformer(d, p, rows, options),
    async decode(latent) {
      const scaled = ops.rectifyAffine(latent, unscaleA, unscaleB, { channels: C, inner });
      let image: T | null = null;
      try {
        image = (await vae({ [p.vaeDecoder.io.latent]: scaled }, [p.vaeDecoder.io.image]))[p.vaeDecoder.io.image]!;
        return await ops.read(image);
      } finally {
        ops.dispose(scaled);
        if (image) ops.dispose(image);
      }
    },
    async preview(x0hat) {
      if (!d.devicePreview) return previewOnHost(await ops.read(x0hat), matrix, bias, C);
      const rgb = d.devicePreview(x0hat, matrix, bias);
      try {
        return await ops.read(rgb);
      } finally {
        ops.dispose(rgb);
      }
    },
  };
}
