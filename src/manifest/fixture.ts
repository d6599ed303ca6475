// A valid manifest in exactly the shape tools/export.py writes (small sizes, fake hashes), for
// tests that need one without model files. Returns a fresh object each call: mutate freely.

const hex = (c: string) => c.repeat(64);
const image = { dtype: 'float32', shape: ['B', 1, 28, 28] };
const tokens = { dtype: 'float32', shape: ['B', 49, 128] };
const cond = { dtype: 'float32', shape: ['B', 128] };
const xty = { x: image, t: { dtype: 'float32', shape: ['B'] }, y: { dtype: 'int32', shape: ['B'] } };

function graph(file: string, sha: string, inputs: object, outputs: object) {
  return { file, sha256: hex(sha), bytes: 1000, inputs, outputs, flopsPerSample: 1 };
}

export function manifestFixture(): Record<string, any> {
  // JSON round trip, not structuredClone: the latter keeps shared sub-objects shared.
  return JSON.parse(JSON.stringify({
    format: 'erta-diffusion-manifest',
    version: 1,
    name: 'mnist-dit',
    // modelHash of the graphs below (src/manifest/hash.ts): sha256('b'×64 'a'×64 'c'×64 'd'×64).
    modelHash: 'f3eb5f8ec2b9669d8823cf46875e11b5f36fff766533eea5a029e1a068590b32',
    architecture: { type: 'dit-adaln-zero', dim: 128, depth: 6, heads: 4, patch: 4, tokens: 49 },
    latent: { channels: 1, height: 28, width: 28 },
    hidden: { tokens: 49, dim: 128 },
    conditioning: { type: 'class', classes: 10, nullLabel: 10, labelDtype: 'int32' },
    graphs: {
      embed: graph('embed.onnx', 'a', xty, { h: tokens, c: cond, mod0: tokens }),
      blocks: graph('blocks.onnx', 'b', { h: tokens, c: cond }, { z: tokens }),
      head: graph('head.onnx', 'c', { z: tokens, c: cond }, { v: image }),
      model: graph('model.onnx', 'd', xty, { v: image }),
    },
    scheduler: { type: 'flow-match-euler', shift: 1.0, defaultSteps: 50, defaultGuidance: 3.0 },
    preview: { from: [-1, 1], to: [0, 255], channels: 1 },
    plans: [
      { file: 'plans/ertacache-50-b25.json', kind: 'ertacache', steps: 50, budget: 25 },
      { file: 'plans/teacache-50.json', kind: 'teacache', steps: 50 },
    ],
    weights: 'trained',
  }));
}
