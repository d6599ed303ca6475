// Wall-clock speed of cache policies (shared/design/evaluation.md "Speed"): every policy is timed
// against `none` interleaved (A B A B …) in one process after a warm-up, median of repeats;
// the ratio is the result, absolute times on shared CPUs are noise.

import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import type { CachePolicy, Denoiser, Dims, SampleStats, TensorOps } from '../core/types.ts';

export interface SpeedSetup<T> {
  denoiser: Denoiser<T>;
  ops: TensorOps<T>;
  sigmas: ArrayLike<number>;
  guidance: number;
  nullLabel: number;
  xDims: Dims;
}

export interface SpeedCase {
  policy: string;
  budget: number | null;
  create: () => CachePolicy;
}

export interface SpeedRow {
  policy: string;
  budget: number | null;
  computedSteps: number;
  msNone: number; // median wall-clock of a `none` run, interleaved with this policy's runs
  msPolicy: number; // median wall-clock of this policy's runs
  speedup: number; // median over the timed pairs of none ms / policy ms (pairedSpeedup)
  reuseCost: number; // reuse-step / compute-step cost within the policy's runs (reuseCostOf)
  reuseCostMedian: number; // the old estimate: median reuse-step ms / median compute-step ms (for comparison)
  idealSpeedup: number; // T / (computed + reused·reuseCost)
  efficiency: number; // speedup / idealSpeedup
  /**
   * A distribution-free 95 % interval of `efficiency` from the spread of the pairs' ratios
   * (medianInterval over the log ratios, divided by the ideal, whose own error is left out);
   * absent below 6 pairs. On this 2-core machine one 50-step run varies by ~6.5 % (coefficient of
   * variation, process CPU time alike), so a row needs tens of pairs before ±5 % means anything.
   */
  efficiencyCi?: [number, number];
  /**
   * Median ms of a run outside its steps (wall clock − Σ stepMs): set-up, the final read, and in
   * a browser the round trip to the worker and the image sent to the page. Caching does not
   * shrink it, while the ideal assumes all of the time shrinks; `none`'s and the policy's runs.
   */
  fixedMsNone?: number;
  fixedMsPolicy?: number;
  /** Every timed pair's wall clock, [none ms, policy ms], in timing order: for re-analysis of the noise. */
  pairMs?: [number, number][];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The sample of timed pair k, the same in Node and in the browser: seeds from 2000 (never the
 * evaluation or calibration seeds); the label rotates so that no single digit is favoured.
 */
export const timedSample = (k: number, classes = 10) => ({ seed: 2000 + k, label: k % classes });

/** One timed generation of timedSample(k). */
export async function timeRun<T>(s: SpeedSetup<T>, policy: CachePolicy, k: number): Promise<TimedRun> {
  const n = s.xDims.reduce((p, d) => p * d, 1);
  const { seed, label } = timedSample(k);
  const noise = s.ops.fromHost(gaussianNoise(seed, n), s.xDims);
  try {
    const t0 = performance.now();
    const { x, stats } = await sample({
      denoiser: s.denoiser, ops: s.ops, sigmas: s.sigmas, policy, noise,
      cond: { label, nullLabel: s.nullLabel }, guidance: s.guidance,
    });
    await s.ops.read(x); // the final image is part of a generation
    const ms = performance.now() - t0;
    s.ops.dispose(x);
    return { ms, stats };
  } finally {
    s.ops.dispose(noise);
  }
}

const mean = (xs: number[]): number => xs.reduce((p, x) => p + x, 0) / xs.length;

/**
 * The reuse cost the ideal T / (computed + reused × cost) needs: what a reused step costs on
 * average relative to a computed step, since a run's wall clock is the sum of its steps. Per
 * run, mean reuse-step ms / mean compute-step ms; the median over the runs. Per-step medians
 * (the old estimate, stepMedians) drop the rare slow steps (a GC scavenge, a timer interrupt,
 * a preemption) that the wall clock pays, and they drop more of a short step's cost than of a
 * long one's: at a load average of 5–7 that made the reuse cost 0.069 against 0.080 (median
 * over the 36 cached rows) and the ideal ~1 % too high.
 */
export function reuseCostOf(stats: SampleStats[]): number {
  const perRun: number[] = [];
  for (const st of stats) {
    const c: number[] = [];
    const r: number[] = [];
    st.stepMs.forEach((ms, i) => (st.decisions[i] === 'compute' ? c : r).push(ms));
    if (c.length > 0) perRun.push(r.length > 0 ? mean(r) / mean(c) : 0);
  }
  return perRun.length > 0 ? median(perRun) : 0;
}

function stepMedians(stats: SampleStats[]): { compute: number; reuse: number } {
  const c: number[] = [];
  const r: number[] = [];
  for (const st of stats) st.stepMs.forEach((ms, i) => (st.decisions[i] === 'compute' ? c : r).push(ms));
  return { compute: median(c), reuse: r.length ? median(r) : 0 };
}

/** One timed run: wall-clock ms and the run's stats. */
export interface TimedRun {
  ms: number;
  stats: SampleStats;
}

/**
 * The interleaved A/B protocol, independent of where the runs happen (in-process sampler, a
 * browser worker): one warm-up pair per case (or, with `warmup: 'first-case'`, before the first
 * case only: for runs so slow that one warm-up is all the budget allows), then `repeats` pairs
 * none/policy with the same seed index k in alternating order, medians of each side.
 */
export async function measureInterleaved<C extends { policy: string; budget: number | null }>(
  steps: number, cases: C[], runNone: (k: number) => Promise<TimedRun>, runCase: (c: C, k: number) => Promise<TimedRun>,
  repeats: number, onProgress?: (m: string) => void, warmup: 'every-case' | 'first-case' = 'every-case',
): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  for (const [i, c] of cases.entries()) {
    onProgress?.(`speed: ${c.policy} budget ${c.budget}`);
    if (i === 0 || warmup === 'every-case') {
      await runNone(0);
      await runCase(c, 0);
    }
    const a: number[] = [];
    const b: number[] = [];
    const stats: SampleStats[] = [];
    const noneStats: SampleStats[] = [];
    for (let k = 1; k <= repeats; k++) {
      // Counterbalanced order (none first on odd pairs, the policy first on even ones): the first
      // run of a back-to-back pair is measurably slower (src/bench/overhead.ts), which a fixed
      // order would charge to `none` and so inflate every speedup.
      const first = k % 2 === 1 ? await runNone(k) : await runCase(c, k);
      const second = k % 2 === 1 ? await runCase(c, k) : await runNone(k);
      const [none, run] = k % 2 === 1 ? [first, second] : [second, first];
      a.push(none.ms);
      b.push(run.ms);
      stats.push(run.stats);
      noneStats.push(none.stats);
    }
    rows.push({
      ...speedRow(c.policy, c.budget, steps, a, b, stats),
      fixedMsNone: fixedMs(a, noneStats), fixedMsPolicy: fixedMs(b, stats),
      pairMs: a.map((n, k) => [n, b[k]!]),
    });
  }
  return rows;
}

/**
 * The wall-clock speedup of interleaved pairs: the median over pairs of none ms / policy ms, pair
 * k's two runs side by side (taken on the logarithms, so that with an even count the two middle
 * ratios meet at their geometric mean, and a pair order that alternates, (1+p) and 1/(1+p),
 * cancels exactly). The two runs of a pair share the machine's load at that moment, so
 * a load that drifts between pairs cancels in each ratio; the ratio of the two medians
 * (median(none) / median(policy), the old estimate) takes its two medians from different pairs.
 * On the same timed runs at load averages 3–7 (36 rows, 7–9 pairs) the paired estimate scattered
 * less around the ideal: standard deviation 0.10 against 0.13, and 0.12 against 0.18.
 */
export function pairedSpeedup(msNone: readonly number[], msPolicy: readonly number[]): number {
  return Math.exp(median(logRatios(msNone, msPolicy)));
}

/** Each pair's log(none ms / policy ms), the quantity pairedSpeedup and the row's interval are taken on. */
function logRatios(msNone: readonly number[], msPolicy: readonly number[]): number[] {
  if (msNone.length !== msPolicy.length || msNone.length === 0) {
    throw new Error(`pairedSpeedup needs one none run per policy run, got ${msNone.length} and ${msPolicy.length}`);
  }
  return msNone.map((n, k) => Math.log(n / msPolicy[k]!));
}

/**
 * A distribution-free ~95 % confidence interval for the median of xs: the order statistics
 * x(j) and x(n+1−j) with j = ⌊n/2 − 1.96·√n/2⌋ (at least 1), the sign-test interval; null below 6
 * values (the interval would need more coverage than the data can give).
 */
export function medianInterval(xs: readonly number[]): [number, number] | null {
  const n = xs.length;
  if (n < 6) return null;
  const s = [...xs].sort((a, b) => a - b);
  const j = Math.max(1, Math.floor(n / 2 - (1.96 * Math.sqrt(n)) / 2));
  return [s[j - 1]!, s[n - j]!];
}

/** Median over runs of wall-clock ms − the run's Σ stepMs (SpeedRow.fixedMsNone). */
export function fixedMs(ms: readonly number[], stats: readonly SampleStats[]): number {
  return median(ms.map((m, k) => m - stats[k]!.stepMs.reduce((p, x) => p + x, 0)));
}

/** The speed row of one case from its timed pairs (msNone[k] and msPolicy[k]: pair k). */
export function speedRow(policy: string, budget: number | null, steps: number, msNone: number[], msPolicy: number[],
  stats: SampleStats[]): SpeedRow {
  const computed = stats.reduce((p, st) => p + st.computedSteps, 0) / stats.length;
  const { compute, reuse } = stepMedians(stats);
  const reuseCostMedian = compute > 0 ? reuse / compute : 0;
  const reuseCost = reuseCostOf(stats);
  const ideal = steps / (computed + (steps - computed) * reuseCost);
  const ratios = logRatios(msNone, msPolicy);
  const speedup = Math.exp(median(ratios)); // pairedSpeedup
  const ci = medianInterval(ratios);
  return {
    policy, budget, computedSteps: computed, msNone: median(msNone), msPolicy: median(msPolicy),
    speedup, reuseCost, reuseCostMedian, idealSpeedup: ideal, efficiency: speedup / ideal,
    ...(ci ? { efficiencyCi: [Math.exp(ci[0]) / ideal, Math.exp(ci[1]) / ideal] as [number, number] } : {}),
  };
}

/** Interleaved A/B timing of each case against `none`, in this process (see measureInterleaved). */
export async function measureSpeed<T>(s: SpeedSetup<T>, none: () => CachePolicy, cases: SpeedCase[],
  repeats: number, onProgress?: (m: string) => void): Promise<SpeedRow[]> {
  return measureInterleaved(s.sigmas.length - 1, cases, (k) => timeRun(s, none(), k), (c, k) => timeRun(s, c.create(), k),
    repeats, onProgress);
}
