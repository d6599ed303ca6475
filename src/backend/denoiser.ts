// Denoisers over ONNX sessions: the split DiT (embed | blocks | head) and the single model.onnx.
// Tensors x, h, c, z are fed exactly as given and outputs returned as ORT produced them: on the
// WebGPU path they are GPU buffers (preferredOutputLocation 'gpu-buffer'), so this file never
// touches .data. Only t and y, which it creates itself, live on the CPU.

import { BadInputError, InternalError } from '../core/errors.ts';
import type { ChannelLayout, SingleDenoiser, SplitDenoiser } from '../core/types.ts';
import type { GraphName, LabelDtype, ModelManifest } from '../manifest/types.ts';
import type { OrtNamespace, OrtSession, OrtTensorLike } from './ort-types.ts';
import { createRunQueue, type RunQueue } from './run-queue.ts';
import { sessionFor, type GraphSessions } from './sessions.ts';
import { classConditioning } from '../manifest/conditioning.ts';

export interface DenoiserOptions {
  /** The queue every session.run goes through. Default: a fresh queue per denoiser; pass one to
   *  share it with other sessions on the same device (e.g. the classifier). */
  queue?: RunQueue;
}

/** Runs one graph through the queue; disposes outputs the caller did not ask for. Shared with the pipeline graphs (text-pipeline.ts). */
export function graphRunner<T extends OrtTensorLike>(name: GraphName, session: OrtSession<T>, queue: RunQueue) {
  return async (feeds: Record<string, T>, outputs: readonly string[]): Promise<Record<string, T>> => {
    const result = await queue.enqueue(() => session.run(feeds));
    const picked: Record<string, T> = {};
    for (const [key, value] of Object.entries(result)) {
      if (outputs.includes(key)) picked[key] = value;
      else value.dispose(); // GPU outputs nobody reads would leak every step
    }
    const absent = outputs.filter((o) => !(o in picked));
    if (absent.length > 0) throw new InternalError(`${name}.onnx returned no ${absent.join(', ')}`);
    return picked;
  };
}

/** t = σ for every batch row, y = labels, as CPU tensors of the manifest's dtypes. */
function timeAndLabels<T extends OrtTensorLike>(ort: OrtNamespace<T>, sigma: number, labels: Int32Array, dtype: LabelDtype) {
  const b = labels.length;
  const t = new ort.Tensor('float32', new Float32Array(b).fill(sigma), [b]);
  const data = dtype === 'int64' ? BigInt64Array.from(labels, (l) => BigInt(l)) : Int32Array.from(labels);
  return { t, y: new ort.Tensor(dtype, data, [b]) };
}

function checkBatch(x: OrtTensorLike, labels: Int32Array): void {
  if (x.dims[0] !== labels.length) {
    throw new BadInputError(
      `x has batch ${x.dims[0]} but ${labels.length} labels were given`,
      'pass one label per batch row (cond and uncond as a batch of 2)',
    );
  }
}

function layouts(m: ModelManifest): { hidden: ChannelLayout; output: ChannelLayout } {
  return {
    hidden: { channels: m.hidden.dim, inner: 1 }, // [B, N, D]: channels last
    output: { channels: m.latent.channels, inner: m.latent.height * m.latent.width }, // [B, C, H, W]
  };
}

/** Input/output names are checked against the manifest here, at creation, not on first use. */
export function createSplitDenoiser<T extends OrtTensorLike>(
  ort: OrtNamespace<T>,
  sessions: GraphSessions<T>,
  manifest: ModelManifest,
  options: DenoiserOptions = {},
): SplitDenoiser<T> {
  const queue = options.queue ?? createRunQueue();
  const embed = graphRunner('embed', sessionFor(sessions, manifest, 'embed'), queue);
  const blocks = graphRunner('blocks', sessionFor(sessions, manifest, 'blocks'), queue);
  const head = graphRunner('head', sessionFor(sessions, manifest, 'head'), queue);
  const { hidden, output } = layouts(manifest);
  return {
    kind: 'split',
    hiddenLayout: hidden,
    outputLayout: output,
    async embed(x, sigma, labels) {
      checkBatch(x, labels);
      const { t, y } = timeAndLabels(ort, sigma, labels, classConditioning(manifest).labelDtype);
      try {
        const r = await embed({ x, t, y }, ['h', 'c', 'mod0']);
        return { h: r['h']!, c: r['c']!, mod0: r['mod0']! };
      } finally {
        t.dispose();
        y.dispose();
      }
    },
    blocks: async (h, c) => (await blocks({ h, c }, ['z']))['z']!,
    head: async (z, c) => (await head({ z, c }, ['v']))['v']!,
  };
}

export function createSingleDenoiser<T extends OrtTensorLike>(
  ort: OrtNamespace<T>,
  sessions: GraphSessions<T>,
  manifest: ModelManifest,
  options: DenoiserOptions = {},
): SingleDenoiser<T> {
  const model = graphRunner('model', sessionFor(sessions, manifest, 'model'), options.queue ?? createRunQueue());
  return {
    kind: 'single',
    outputLayout: layouts(manifest).output,
    async forward(x, sigma, labels) {
      checkBatch(x, labels);
      const { t, y } = timeAndLabels(ort, sigma, labels, classConditioning(manifest).labelDtype);
      try {
        return (await model({ x, t, y }, ['v']))['v']!;
      } finally {
        t.dispose();
        y.dispose();
      }
    },
  };
}
