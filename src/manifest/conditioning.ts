// Narrowing the conditioning union at the places that only serve one kind (class labels for the
// digit bench, prompts for text models), with an error that says which kind the model is.

import { UnsupportedError } from '../core/errors.ts';
import type { ClassConditioning, ModelManifest, TextConditioning, TextPipeline } from './types.ts';

/** The class conditioning of a class model, or UNSUPPORTED naming what needed it. */
export function classConditioning(m: ModelManifest, what = 'this operation'): ClassConditioning {
  if (m.conditioning.type === 'class') return m.conditioning;
  throw new UnsupportedError(`${what} needs a class-conditional model, but ${m.name} is text-conditioned`,
    'pass a prompt instead of a class label, or load a class-conditional model (e.g. mnist-dit)');
}

/** The text conditioning and pipeline of a text model, or UNSUPPORTED naming what needed it. */
export function textConditioning(m: ModelManifest, what = 'this operation'): { conditioning: TextConditioning; pipeline: TextPipeline } {
  if (m.conditioning.type === 'text' && m.pipeline) return { conditioning: m.conditioning, pipeline: m.pipeline };
  throw new UnsupportedError(`${what} needs a text-conditioned model, but ${m.name} is class-conditional`,
    'pass a class label instead of a prompt, or load a text-to-image model (e.g. tiny-t2i)');
}
