// ONNX execution in onnxruntime-node matches PyTorch: every graph of the exported model, loaded
// through the same verified path the CLI uses, reproduces the golden outputs written by
// tools/export.py (max abs diff ≤ the golden tolerance, 1e-4).

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readManifestFile } from './node-files.ts';
import { loadNodeSessions } from './node-model.ts';
import type { GraphName } from '../manifest/types.ts';
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  MODEL_DIR,
  maxAbsDiff,
  readGoldenIndex,
  readGoldenTensor,
  skipReason,
} from './test-model.ts';

const suite = `golden outputs of ${MODEL_DIR} vs ${GOLDEN_DIR}${HAVE_GOLDEN ? '' : ` ${skipReason('model or goldens')}`}`;
if (!HAVE_GOLDEN) console.warn(suite);

describe.skipIf(!HAVE_GOLDEN)(suite, () => {
  for (const name of ['embed', 'blocks', 'head', 'model'] as GraphName[]) {
    it(`${name}.onnx reproduces PyTorch`, async () => {
      const index = await readGoldenIndex();
      const golden = index.graphs[name]!;
      const manifest = await readManifestFile(MODEL_DIR);
      const session = (await loadNodeSessions(ort, manifest, [name]))[name]!;
      try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [input, g] of Object.entries(golden.inputs)) {
          feeds[input] = new ort.Tensor(g.dtype, await readGoldenTensor(g), g.dims);
        }
        const out = await session.run(feeds);
        for (const [output, g] of Object.entries(golden.outputs)) {
          const got = out[output]!;
          expect(got.dims).toEqual(g.dims);
          const diff = maxAbsDiff(got.data as Float32Array, await readGoldenTensor(g));
          expect(diff, `${name}.${output} max abs diff`).toBeLessThanOrEqual(index.tolerance);
        }
      } finally {
        await session.release();
      }
    });
  }
});
