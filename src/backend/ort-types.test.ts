// Compile-time proof (checked by `tsc --noEmit`) that both onnxruntime packages satisfy the
// structural namespace the backend is written against, with their own Tensor as T — so the web
// worker can inject onnxruntime-web where the CLI injects onnxruntime-node.

import type * as OrtNode from 'onnxruntime-node';
import type * as OrtWeb from 'onnxruntime-web';
import { describe, expectTypeOf, it } from 'vitest';
import type { SplitDenoiser } from '../core/types.ts';
import type { createSplitDenoiser } from './denoiser.ts';
import type { OrtNamespace } from './ort-types.ts';

describe('OrtNamespace', () => {
  it('accepts onnxruntime-node and onnxruntime-web, inferring their Tensor types', () => {
    expectTypeOf<typeof OrtNode>().toExtend<OrtNamespace<OrtNode.Tensor>>();
    expectTypeOf<typeof OrtWeb>().toExtend<OrtNamespace<OrtWeb.Tensor>>();
    type WebDenoiser = ReturnType<typeof createSplitDenoiser<OrtWeb.Tensor>>;
    expectTypeOf<WebDenoiser>().toEqualTypeOf<SplitDenoiser<OrtWeb.Tensor>>();
  });
});
