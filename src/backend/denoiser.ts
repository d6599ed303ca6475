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
    // Plain loops, no per-call arrays or closures: this runs three times a step (runtime overhead).
    const picked: Record<string, T> = {};
    let absent = false;
    for (const o of outputs) {
      const value = result[o];
      if (value === undefined) absent = true;
      else picked[o] = value;
    }
    for (const key in result) {
      if (!(key in picked)) result[key]!.dispose(); // GPU outputs nobody reads would leak every step
    }
    if (absent) throw new InternalError(`${name}.onnx returned no ${outputs.filter((o) => !(o in picked)).join(', ')}`);
    return picked;
  };
}

/** t = σ for every batch row, y = labels, as CPU tensors of the manifest's dtypes. The label
 *  data is converted once per labels array (the sampler passes the same one every step). */
function timeAndLabels<T extends OrtTensorLike>(ort: OrtNamespace<T>, dtype: LabelDtype) {
  let lastLabels: Int32Array | null = null;
  let lastCopy = new Int32Array(0);
  let lastData: BigInt64Array | Int32Array = lastCopy;
  return (sigma: number, labels: Int32Array) => {
    const b = labels.length;
    if (labels !== lastLabels || !sameLabels(labels, lastCopy)) {
      lastLabels = labels;
      lastCopy = labels.slice();
      lastData = dtype === 'int64' ? BigInt64Array.from(labels, (l) => BigInt(l)) : labels.slice();
    }
    const t = new ort.Tensor('float32', new Float32Array(b).fill(sigma), [b]);
    return { t, y: new ort.Tensor(dtype, lastData, [b]) };
  };
}

/** Element-wise equality of two label arrays. */
export function sameLabels(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

// Output names of the class graphs, made once (runtime overhead: no per-step arrays).
const EMBED_OUT = ['h', 'c', 'mod0'];
const BLOCKS_OUT = ['z'];
const VELOCITY_OUT = ['v'];

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
  const timeLabels = timeAndLabels(ort, classConditioning(manifest).labelDtype);
  return {
    kind: 'split',
    hiddenLayout: hidden,
    outputLayout: output,
    async embed(x, sigma, labels) {
      checkBatch(x, labels);
      const { t, y } = timeLabels(sigma, labels);
      try {
        const r = await embed({ x, t, y }, EMBED_OUT);
        return { h: r['h']!, c: r['c']!, mod0: r['mod0']! };
      } finally {
        t.dispose();
        y.dispose();
      }
    },
    blocks: async (h, c) => (await blocks({ h, c }, BLOCKS_OUT))['z']!,
    head: async (z, c) => (await head({ z, c }, VELOCITY_OUT))['v']!,
  };
}

export function createSingleDenoiser<T extends OrtTensorLike>(
  ort: OrtNamespace<T>,
  sessions: GraphSessions<T>,
  manifest: ModelManifest,
  options: DenoiserOptions = {},
): SingleDenoiser<T> {
  const model = graphRunner('model', sessionFor(sessions, manifest, 'model'), options.queue ?? createRunQueue());
  const timeLabels = timeAndLabels(ort, classConditioning(manifest).labelDtype);
  return {
    kind: 'single',
    outputLayout: layouts(manifest).output,
    async forward(x, sigma, labels) {
      checkBatch(x, labels);
      const { t, y } = timeLabels(sigma, labels);
      try {
        return (await model({ x, t, y }, VELOCITY_OUT))['v']!;
      } finally {
        t.dispose();
        y.dispose();
      }
    },
  };
}
