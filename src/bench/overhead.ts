// The runtime's own cost: the sampler with `none` against a bare loop of session.run calls on
// the same split graphs, with guidance and the Euler step written inline on host arrays
// (evaluation.md "Runtime overhead"). Any model with split graphs: a class model's (x, t, y)
// graphs, or a text model's transformer with its context rows bound once (the prompt encoding
// and the VAE decode are the same session runs on both sides, so neither side times them).
// Both sides are timed interleaved in counterbalanced order; the overhead is the median of the pairs' ratios, in wall-clock and in process CPU time:
// on a shared machine another process's load lands in the wall clock of whichever side it
// overlaps, while CPU time counts only this process's own work.

import { createPolicy } from '../cache/registry.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import type { Conditioning, Denoiser, TensorOps } from '../core/types.ts';
import type { GraphSessions } from '../backend/sessions.ts';
import type { OrtNamespace, OrtTensorLike } from '../backend/ort-types.ts';
import { latentDims, type ModelManifest } from '../manifest/types.ts';
import { median, pairedSpeedup } from './speed.ts';

/** One step's graph feeds, by conditioning type: what the bare loop runs, in the manifest's names. */
export interface BareFeeds<T extends OrtTensorLike> {
  embed(x2: T, t: T): Record<string, T>;
  names: { hidden: string; temb: string; hiddenOut: string; headIn: string; velocity: string };
  /** Extra blocks feeds (a text model's context rows). */
  blocksExtra: Record<string, T>;
  release(): void;
}

/** The bare loop's feeds for a class model (graph names x, t, y → h, c → z → v). */
export function classFeeds<T extends OrtTensorLike>(ort: OrtNamespace<T>, m: ModelManifest, label: number): BareFeeds<T> {
  if (m.conditioning.type !== 'class') throw new Error('classFeeds needs a class model');
  const { nullLabel, labelDtype } = m.conditioning;
  const y = labelDtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.of(BigInt(label), BigInt(nullLabel)), [2])
    : new ort.Tensor('int32', Int32Array.of(label, nullLabel), [2]);
  return {
    embed: (x, t) => ({ x, t, y }),
    names: { hidden: 'h', temb: 'c', hiddenOut: 'z', headIn: 'z', velocity: 'v' },
    blocksExtra: {},
    release: () => y.dispose(),
  };
}

/**
 * The bare loop's feeds for a text model: [prompt, negative] context rows as one batch-2 tensor; for SD3 / Flux
 * style models also the rows' pooled tails [2, P] and the manifest's guidance scale [2], inputs of embed.
 */
export function textFeeds<T extends OrtTensorLike>(ort: OrtNamespace<T>, m: ModelManifest, rows: readonly Float32Array[]): BareFeeds<T> {
  if (m.conditioning.type !== 'text' || !m.pipeline) throw new Error('textFeeds needs a text model');
  const io = m.pipeline.transformerIo;
  const { maxTokens, contextDim, pooledDim = 0 } = m.conditioning;
  const size = maxTokens * contextDim;
  const data = new Float32Array(rows.length * size);
  const pooledData = new Float32Array(rows.length * pooledDim);
  rows.forEach((r, k) => {
    data.set(r.subarray(0, size), k * size);
    pooledData.set(r.subarray(size, size + pooledDim), k * pooledDim);
  });
  const context = new ort.Tensor('float32', data, [rows.length, maxTokens, contextDim]);
  const extra: Record<string, T> = {};
  if (io.pooled) extra[io.pooled] = new ort.Tensor('float32', pooledData, [rows.length, pooledDim]);
  if (io.guidance) extra[io.guidance] = new ort.Tensor('float32', new Float32Array(rows.length).fill(m.scheduler.defaultEmbeddedGuidance!), [rows.length]);
  return {
    embed: (x, t) => ({ [io.latent]: x, [io.sigma]: t, ...extra }),
    names: { hidden: io.hidden, temb: io.temb, hiddenOut: io.hiddenOut, headIn: io.hidden, velocity: io.velocity },
    blocksExtra: { [io.context]: context },
    release: () => {
      context.dispose();
      for (const t of Object.values(extra)) t.dispose();
    },
  };
}

export interface BareLoopSetup<T extends OrtTensorLike> {
  ort: OrtNamespace<T>;
  sessions: GraphSessions<T>;
  sigmas: ArrayLike<number>;
  guidance: number;
  feeds: BareFeeds<T>;
  xDims: readonly number[]; // [1, C, H, W]
}

/** One full-compute CFG generation as plain session.run calls; returns the final latent. */
export async function bareLoop<T extends OrtTensorLike>(s: BareLoopSetup<T>, seed: number): Promise<Float32Array> {
  const { embed, blocks, head } = s.sessions;
  if (!embed || !blocks || !head) throw new Error('bare loop needs the split graphs');
  const { hidden, temb, hiddenOut, headIn, velocity } = s.feeds.names;
  const n = s.xDims.reduce((p, d) => p * d, 1);
  const x = gaussianNoise(seed, n);
  for (let i = 0; i + 1 < s.sigmas.length; i++) {
    const x2 = new Float32Array(2 * n);
    x2.set(x);
    x2.set(x, n);
    const t = new s.ort.Tensor('float32', new Float32Array(2).fill(s.sigmas[i]!), [2]);
    const e = await embed.run(s.feeds.embed(new s.ort.Tensor('float32', x2, [2, ...s.xDims.slice(1)]), t));
    const z = await blocks.run({ [hidden]: e[hidden]!, [temb]: e[temb]!, ...s.feeds.blocksExtra });
    const v = (await head.run({ [headIn]: z[hiddenOut]!, [temb]: e[temb]! }))[velocity]!.data as Float32Array;
    const dt = s.sigmas[i]! - s.sigmas[i + 1]!;
    for (let k = 0; k < n; k++) x[k]! -= dt * (v[n + k]! + s.guidance * (v[k]! - v[n + k]!));
  }
  return x;
}

export interface OverheadResult {
  /** The model directory's manifest name. */
  model: string;
  steps: number;
  pairs: number;
  msRuntime: number;
  msBare: number;
  /**
   * Wall clock: the median over the pairs of runtime ms / bare ms, − 1 (pairedSpeedup: a pair's two
   * runs share the machine's load of their moment; alternating order cancels on the logarithms).
   */
  overhead: number;
  /** The old estimate, msRuntime / msBare − 1 (medians from different pairs), kept for comparison. */
  overheadOfMedians?: number;
  cpuMsRuntime: number | null;
  cpuMsBare: number | null;
  cpuOverhead: number | null; // the same in process CPU time, paired (null where the host has no process clock)
  /** A random-weight test model (bench-args TEST_DENOISERS), not one the project ships for use. */
  testModel?: boolean;
}

/** Process CPU time in ms (user + system, every thread: ORT's included), or null outside Node. */
function cpuNow(): number | null {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!p?.cpuUsage) return null;
  const u = p.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timed(f: () => Promise<unknown>): Promise<{ wall: number; cpu: number | null }> {
  const c0 = cpuNow();
  const t0 = performance.now();
  await f();
  const wall = performance.now() - t0;
  const c1 = cpuNow();
  return { wall, cpu: c0 === null || c1 === null ? null : c1 - c0 };
}

export interface OverheadSetup<T extends OrtTensorLike> {
  manifest: ModelManifest;
  ort: OrtNamespace<T>;
  sessions: GraphSessions<T>;
  ops: TensorOps<T>;
  /** The runtime's denoiser, bound to the same conditioning as `feeds` (rows 0/1 of `cond`). */
  denoiser: Denoiser<T>;
  cond: Conditioning;
  feeds: BareFeeds<T>;
  steps: number;
  guidance: number;
}

/** Interleaved pairs runtime / bare on the same seeds; one warm-up pair first. */
export async function measureOverhead<T extends OrtTensorLike>(s: OverheadSetup<T>, repeats: number): Promise<OverheadResult> {
  const m = s.manifest;
  const xDims = [1, ...latentDims(m.latent)]; // [1, C, H, W], or [1, C, F, H, W] for a video model
  const n = xDims.reduce((p, d) => p * d, 1);
  const sigmas = flowMatchSigmas(s.steps, m.scheduler.shift);
  const bare: BareLoopSetup<T> = { ort: s.ort, sessions: s.sessions, sigmas, guidance: s.guidance, feeds: s.feeds, xDims };
  const runtime = async (seed: number) => {
    const noise = s.ops.fromHost(gaussianNoise(seed, n), xDims);
    try {
      const { x } = await sample({ denoiser: s.denoiser, ops: s.ops, sigmas, policy: createPolicy('none'), noise, cond: s.cond, guidance: s.guidance });
      await s.ops.read(x); // the final latent on the host, as the bare loop has it
      s.ops.dispose(x);
    } finally {
      s.ops.dispose(noise);
    }
  };
  await runtime(2000);
  await bareLoop(bare, 2000);
  const a: { wall: number; cpu: number | null }[] = [];
  const b: { wall: number; cpu: number | null }[] = [];
  // Counterbalanced order (runtime first on odd pairs, bare first on even ones): the first run of
  // a back-to-back pair is measurably slower on the same graphs (±5 % either way in probes), so a
  // fixed order would charge that to one side.
  for (let k = 1; k <= repeats; k++) {
    if (k % 2 === 1) {
      a.push(await timed(() => runtime(2000 + k)));
      b.push(await timed(() => bareLoop(bare, 2000 + k)));
    } else {
      b.push(await timed(() => bareLoop(bare, 2000 + k)));
      a.push(await timed(() => runtime(2000 + k)));
    }
  }
  const msRuntime = median(a.map((r) => r.wall));
  const msBare = median(b.map((r) => r.wall));
  const hasCpu = a.every((r) => r.cpu !== null) && b.every((r) => r.cpu !== null);
  const cpuMsRuntime = hasCpu ? median(a.map((r) => r.cpu!)) : null;
  const cpuMsBare = hasCpu ? median(b.map((r) => r.cpu!)) : null;
  return {
    model: m.name, steps: s.steps, pairs: repeats, msRuntime, msBare,
    overhead: pairedSpeedup(a.map((r) => r.wall), b.map((r) => r.wall)) - 1, overheadOfMedians: msRuntime / msBare - 1,
    cpuMsRuntime, cpuMsBare, cpuOverhead: hasCpu ? pairedSpeedup(a.map((r) => r.cpu!), b.map((r) => r.cpu!)) - 1 : null,
  };
}
