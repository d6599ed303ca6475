// The evaluation classifier (public/models/mnist-classifier) on onnxruntime-node: images in model
// space → logits and penultimate features, for class accuracy and the Fréchet distance.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiffusionError } from '../core/errors.ts';
import type { Classified } from '../bench/fidelity.ts';
import { sha256Hex } from './node-files.ts';

interface ClassifierManifest {
  file: string;
  sha256: string;
  inputs: { image: { shape: (number | string)[] } };
  outputs: { features: { shape: (number | string)[] } };
}

export interface NodeClassifier {
  classify(images: Float32Array, n: number): Promise<Classified>;
  release(): Promise<void>;
}

export async function loadNodeClassifier(dir: string, batch = 100): Promise<NodeClassifier> {
  let man: ClassifierManifest;
  try {
    man = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ClassifierManifest;
  } catch (e) {
    throw new DiffusionError('MODEL_FILE_MISSING', `cannot read ${join(dir, 'manifest.json')}`,
      'pass --classifier <dir> pointing at public/models/mnist-classifier (written by tools/evaluate.py)', { cause: e });
  }
  const bytes = new Uint8Array(await readFile(join(dir, man.file)));
  if (sha256Hex(bytes) !== man.sha256) {
    throw new DiffusionError('MODEL_FILE_HASH_MISMATCH', `${man.file} does not match its manifest`,
      're-export the classifier with tools/evaluate.py');
  }
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const featureDim = Number(man.outputs.features.shape[1]);
  const imageDims = man.inputs.image.shape.slice(1).map(Number);
  return {
    async classify(images, n) {
      const per = images.length / n;
      const logits = new Float32Array(n * 10);
      const features = new Float32Array(n * featureDim);
      for (let s = 0; s < n; s += batch) {
        const m = Math.min(batch, n - s);
        const input = new ort.Tensor('float32', images.slice(s * per, (s + m) * per), [m, ...imageDims]);
        const out = await session.run({ image: input });
        logits.set(out['logits']!.data as Float32Array, s * 10);
        features.set(out['features']!.data as Float32Array, s * featureDim);
      }
      return { logits, features, featureDim };
    },
    release: () => session.release(),
  } satisfies NodeClassifier;
}
