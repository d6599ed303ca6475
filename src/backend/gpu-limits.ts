// Before WebGPU sessions exist: what the model needs of the adapter (its largest weight tensor
// and its largest declared activation, each one GPU buffer bound as storage; shader-f16 for fp16
// weights) against what the adapter can give. ONNX Runtime asks the adapter for its maximum
// buffer limits when it creates its device (so the higher limits the adapter allows are
// requested); a model that still cannot fit is a typed error naming the limit and the numbers,
// instead of "binding size larger than the maximum" deep inside a session.

import type { GraphName, ModelManifest, TensorSpec } from '../manifest/types.ts';
import { WebBackendError } from './web-errors.ts';

/** Batch of the declared shapes' symbols: classifier-free guidance runs cond and uncond together. */
const BATCH = 2;

export interface ModelNeeds {
  /** Bytes of the largest single GPU buffer the model needs. */
  largestBuffer: number;
  /** What that buffer is, for the message ("blocks: largest weight tensor"). */
  what: string;
  shaderF16: boolean;
}

const BYTES: Record<TensorSpec['dtype'], number> = { float32: 4, int32: 4, int64: 8 };

function specBytes(spec: TensorSpec): number {
  return spec.shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : BATCH), 1) * BYTES[spec.dtype];
}

export function modelNeeds(m: ModelManifest, names: readonly GraphName[]): ModelNeeds {
  let needs: ModelNeeds = { largestBuffer: 0, what: 'nothing', shaderF16: false };
  const consider = (bytes: number, what: string) => {
    if (bytes > needs.largestBuffer) needs = { ...needs, largestBuffer: bytes, what };
  };
  for (const name of names) {
    const g = m.graphs[name];
    if (!g) continue;
    if (g.largestTensorBytes) consider(g.largestTensorBytes, `${name}: its largest weight tensor`);
    for (const [io, spec] of [...Object.entries(g.inputs), ...Object.entries(g.outputs)]) {
      consider(specBytes(spec), `${name}: ${io} ${JSON.stringify(spec.shape)} at batch ${BATCH}`);
    }
    if (g.weightsDtype === 'float16') needs.shaderF16 = true;
  }
  return needs;
}

export interface AdapterLike {
  readonly limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
  readonly features: { has(name: string): boolean };
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** ADAPTER_LIMITS or SHADER_F16_UNAVAILABLE when the adapter (or device) cannot run the model. */
export function checkAdapter(needs: ModelNeeds, adapter: AdapterLike, what = 'this WebGPU adapter'): void {
  for (const limit of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
    const have = adapter.limits[limit];
    if (needs.largestBuffer <= have) continue;
    throw new WebBackendError('ADAPTER_LIMITS',
      `the model needs a GPU buffer of ${needs.largestBuffer} bytes (${mb(needs.largestBuffer)}; ${needs.what}), `
        + `but ${what}'s ${limit} is ${have} bytes (${mb(have)})`,
      'use provider "wasm", a GPU whose adapter allows larger buffers, or a model whose weights are split into smaller '
        + 'tensors (the model tool writes the largest tensor size into the manifest)');
  }
  if (needs.shaderF16 && !adapter.features.has('shader-f16')) {
    throw new WebBackendError('SHADER_F16_UNAVAILABLE',
      `the model has fp16 weights, but ${what} lacks the "shader-f16" feature`,
      'use provider "wasm" (it runs fp16 weights), the model\'s fp32 export, or a GPU/browser with shader-f16');
  }
}
