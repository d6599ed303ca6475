// The runtime's own cost: the sampler with `none` against a bare loop of session.run calls on
// the same split graphs, with guidance and the Euler step written inline on host arrays
// (evaluation.md "Runtime overhead"). Both are timed interleaved, median of repeats.

import { gaussianNoise } from '../core/rng.ts';
import type { GraphSessions } from '../backend/sessions.ts';
import type { OrtNamespace, OrtTensorLike } from '../backend/ort-types.ts';
import { median } from './speed.ts';

export interface BareLoopSetup<T extends OrtTensorLike> {
  ort: OrtNamespace<T>;
  sessions: GraphSessions<T>;
  sigmas: ArrayLike<number>;
  guidance: number;
  nullLabel: number;
  xDims: readonly number[]; // [1, C, H, W]
}

/** One full-compute generation as plain session.run calls; returns wall-clock ms. */
export async function bareLoop<T extends OrtTensorLike>(s: BareLoopSetup<T>, label: number, seed: number): Promise<number> {
  const { embed, blocks, head } = s.sessions;
  if (!embed || !blocks || !head) throw new Error('bare loop needs the split graphs');
  const n = s.xDims.reduce((p, d) => p * d, 1);
  const t0 = performance.now();
  const x = gaussianNoise(seed, n);
  const y = new s.ort.Tensor('int32', Int32Array.of(label, s.nullLabel), [2]);
  for (let i = 0; i + 1 < s.sigmas.length; i++) {
    const x2 = new Float32Array(2 * n);
    x2.set(x);
    x2.set(x, n);
    const t = new s.ort.Tensor('float32', new Float32Array(2).fill(s.sigmas[i]!), [2]);
    const e = await embed.run({ x: new s.ort.Tensor('float32', x2, [2, ...s.xDims.slice(1)]), t, y });
    const z = await blocks.run({ h: e['h']!, c: e['c']! });
    const v = (await head.run({ z: z['z']!, c: e['c']! }))['v']!.data as Float32Array;
    const dt = s.sigmas[i]! - s.sigmas[i + 1]!;
    for (let k = 0; k < n; k++) x[k]! -= dt * (v[n + k]! + s.guidance * (v[k]! - v[n + k]!));
  }
  return performance.now() - t0;
}

export interface OverheadResult {
  msRuntime: number;
  msBare: number;
  overhead: number; // msRuntime / msBare − 1
}

export async function measureOverhead<T extends OrtTensorLike>(s: BareLoopSetup<T>,
  runtimeRun: (k: number) => Promise<number>, repeats: number): Promise<OverheadResult> {
  await bareLoop(s, 0, 2000);
  await runtimeRun(0);
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 1; k <= repeats; k++) {
    a.push(await runtimeRun(k));
    b.push(await bareLoop(s, k % 10, 2000 + k));
  }
  return { msRuntime: median(a), msBare: median(b), overhead: median(a) / median(b) - 1 };
}
