// Calibrated step adjustment and the residual forecast (ertacache.md "What the first release
// measured"): every candidate is scored by the objective the plan is for — mean final-image
// PSNR against full compute on the calibration seeds — by simulating the runtime's loop over the
// whole batch in lockstep (static plans decide the same for every sample, so one graph call per
// step serves the batch). Bounded: a fixed grid, then a fixed number of coordinate sweeps.

import { rectifyAffineData } from '../core/ops.ts';
import { psnr, toUnitRange } from '../core/metrics.ts';
import { advanceClock, evalSigma, START_CLOCK, stepDt } from '../core/schedules.ts';
import type { Clock, TimeMode } from '../core/schedules.ts';
import type { CachePolicy, TimeRule } from '../core/types.ts';
import { MAX_DT_SCALE } from '../core/types.ts';
import type { AffineStep } from '../cache/plan.ts';
import { fitAffine } from './fit.ts';
import { axpy, guideRows, sub } from './host-math.ts';
import type { Profile } from './profile.ts';
import { forecastHostInput } from './search.ts';
import type { SimSetup } from './search.ts';

export interface SimOutcome {
  final: Float32Array;
  /** Output-space affine fits at reused steps, when asked for (fitted closed loop, ertacache.md (c)). */
  fits: AffineStep[];
}

/**
 * Run a residual-level static policy over the batch with the sampler's arithmetic (sampler.ts,
 * sampler-steps.ts). `fit`: also run the blocks at reused steps, fit the output-space affine
 * rectification there, and advance with the rectified velocity.
 */
export async function simulatePolicy(setup: SimSetup, policy: CachePolicy, fit = false, cache?: PrefixCache): Promise<SimOutcome> {
  const { model, sigmas } = setup;
  const steps = sigmas.length - 1;
  const capacity = policy.history ?? 1;
  const signs = cache && !fit ? stepSignatures(policy, sigmas, setup.timeMode) : null;
  const run: RecordedRun | null = signs && { signs, states: [] };
  const resumed = run ? cache!.resume(run) : null;
  const start = resumed?.step ?? 0;
  policy.reset();
  let x = model.batch.noise;
  let clock = START_CLOCK;
  let residuals: Float32Array[] = [];
  if (resumed && resumed.state) {
    ({ x, clock } = resumed.state);
    residuals = [...resumed.state.residuals];
    // the policy's own state (the forecast's σ history) by replaying its decisions
    let c = START_CLOCK;
    for (let i = 0; i < start; i++) {
      const d = policy.decide({ i, steps, sigma: evalSigma(sigmas, i, c, setup.timeMode) });
      c = advanceClock(sigmas, i, c, stepDt(sigmas, i, c, policy.timeRule ?? 'proportional', d.kind === 'compute' ? null : d.dtScale));
    }
  }
  const fits: AffineStep[] = [];
  for (let i = start; i < steps; i++) {
    run?.states.push({ x, clock, residuals: [...residuals] });
    const sigma = evalSigma(sigmas, i, clock, setup.timeMode);
    const d = policy.decide({ i, steps, sigma });
    const e = await model.embed(x, sigma);
    let v: Float32Array;
    if (d.kind === 'compute') {
      const z = await model.blocks(e);
      residuals.unshift(sub(z, e.h));
      residuals.length = Math.min(residuals.length, capacity);
      v = guideRows(await model.head(z, e), model.batch, model.guidance);
    } else {
      const rect = policy.rectification(i);
      const input = rect?.space === 'hidden'
        ? axpy(e.h, rectifyAffineData(residuals[0]!, rect.a, rect.b, model.hiddenLayout), 1)
        : forecastHostInput(e.h, residuals, d.weights ?? [1]);
      v = guideRows(await model.head(input, e), model.batch, model.guidance);
      if (fit) {
        const vTrue = guideRows(await model.head(await model.blocks(e), e), model.batch, model.guidance);
        const f = fitAffine(v, sub(v, vTrue), model.outputLayout);
        fits.push({ step: i, a: Array.from(f.a), b: Array.from(f.b) });
        v = rectifyAffineData(v, f.a, f.b, model.outputLayout);
      } else if (rect !== null && rect.space === 'output') {
        v = rectifyAffineData(v, rect.a, rect.b, model.outputLayout);
      }
    }
    const dt = stepDt(sigmas, i, clock, policy.timeRule ?? 'proportional', d.kind === 'compute' ? null : d.dtScale);
    x = axpy(x, v, -dt);
    clock = advanceClock(sigmas, i, clock, dt);
  }
  if (run) cache!.add(run, x);
  return { final: x, fits };
}

/** The state before one step of a recorded run (arrays are never written in place: shared, not copied). */
interface RunState {
  x: Float32Array;
  clock: Clock;
  residuals: Float32Array[];
}

interface RecordedRun {
  /** Per step: what the policy did there, as a string (decision, σ, Δ, reuse weights). */
  signs: string[];
  states: RunState[];
  final?: Float32Array;
}

/**
 * What a static, unrectified policy does at every step, without running the model: two policies
 * with equal signatures up to step k are in the same state before step k.
 */
export function stepSignatures(policy: CachePolicy, sigmas: ArrayLike<number>, timeMode: TimeMode = 'actual'): string[] | null {
  const steps = sigmas.length - 1;
  policy.reset();
  let clock = START_CLOCK;
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const sigma = evalSigma(sigmas, i, clock, timeMode);
    const d = policy.decide({ i, steps, sigma });
    if (d.kind !== 'compute' && policy.rectification(i) !== null) return null; // fitted per step: not cached
    const dt = stepDt(sigmas, i, clock, policy.timeRule ?? 'proportional', d.kind === 'compute' ? null : d.dtScale);
    out.push(d.kind === 'compute' ? `c ${sigma} ${dt}` : `r ${sigma} ${dt} ${(d.weights ?? [1]).join(',')}`);
    clock = advanceClock(sigmas, i, clock, dt);
  }
  policy.reset();
  return out;
}

/**
 * The states of the last few simulated runs, so that a candidate that differs from one of them
 * only from step k on (a φ moved late, a reused step moved) resumes there instead of at step 0.
 * Exact: the resumed run does the same arithmetic on the same inputs (direct-search.test.ts).
 * Memory: one batch x and the policy's residual history per step and run.
 */
export class PrefixCache {
  private runs: RecordedRun[] = [];
  /** Steps simulated and steps skipped by resuming, for the log. */
  simulated = 0;
  skipped = 0;

  constructor(private readonly size = 3) {}

  /**
   * The longest shared prefix with a recorded run: copies its states before that step into `run`
   * and returns the step to start at with the state there (null: start from the noise).
   */
  resume(run: RecordedRun): { step: number; state: RunState | null } {
    let best: RecordedRun | null = null;
    let k = 0;
    for (const r of this.runs) {
      let j = 0;
      // at most up to the last step, so a run always simulates at least one step and ends with its x
      while (j < run.signs.length - 1 && j < r.states.length && r.signs[j] === run.signs[j]) j++;
      if (j > k) { k = j; best = r; }
    }
    if (best) run.states.push(...best.states.slice(0, k));
    this.skipped += k;
    this.simulated += run.signs.length - k;
    return { step: k, state: best?.states[k] ?? null };
  }

  add(run: RecordedRun, final: Float32Array): void {
    run.final = final;
    this.runs = [run, ...this.runs].slice(0, this.size);
  }
}

/**
 * Δ_i / Δnom_i of every step a static policy takes (its time warp: the same for every sample,
 * since Δ depends only on the decisions and the clock). max > 1 is a step that swallows time
 * other steps left; calibration and the bench report it so no lump goes unnoticed.
 */
export function stepRatios(policy: CachePolicy, sigmas: ArrayLike<number>, timeMode: TimeMode = 'actual'): number[] {
  const steps = sigmas.length - 1;
  policy.reset();
  let clock = START_CLOCK;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const d = policy.decide({ i, steps, sigma: evalSigma(sigmas, i, clock, timeMode) });
    const dt = stepDt(sigmas, i, clock, policy.timeRule ?? 'proportional', d.kind === 'compute' ? null : d.dtScale);
    out.push(dt / (sigmas[i]! - sigmas[i + 1]!));
    clock = advanceClock(sigmas, i, clock, dt);
  }
  policy.reset();
  return out;
}

/** Mean PSNR (dB, images mapped to [0, 1]) of the batch's final samples against full compute. */
export function batchPsnr(final: Float32Array, profile: Profile, samples: number, range: readonly [number, number]): number {
  const n = final.length / samples;
  let db = 0;
  for (let p = 0; p < samples; p++) {
    const a = toUnitRange(final.subarray(p * n, (p + 1) * n), range[0], range[1]);
    const b = toUnitRange(profile.final.subarray(p * n, (p + 1) * n), range[0], range[1]);
    db += Math.min(psnr(a, b), 100) / samples;
  }
  return db;
}

/** The knobs the search moves; `policy` turns them into a runnable policy. */
export interface StepAdjustment {
  timeRule: TimeRule;
  phi: number[]; // per step, 1 on computed steps
  gain: number | null;
}

export interface SearchSpace {
  steps: number;
  reuse: number[];
  policy: (a: StepAdjustment) => CachePolicy;
  score: (p: CachePolicy) => Promise<number>;
  log: (m: string) => void;
  label: string;
}

export interface SearchResult extends StepAdjustment {
  psnr: number;
  trials: number;
}

/**
 * One φ per plan on this grid. The write-up searched 0…1.5 in steps of .25 and found the optimum
 * at .25–.5 on every budget; the ends are left out to keep calibration affordable on a CPU.
 */
export const PHI_GRID: readonly number[] = [0.25, 0.5, 0.75, 1];
export const GAIN_GRID: readonly number[] = [0.75, 1, 1.25];
export const TIME_RULES: readonly TimeRule[] = ['proportional', 'carry'];

function phiVector(steps: number, reuse: readonly number[], value: (i: number) => number): number[] {
  const phi = new Array<number>(steps).fill(1);
  for (const i of reuse) phi[i] = value(i);
  return phi;
}

/** The end points of the φ ramps tried by the ramp stage (rampPhi). */
export const RAMP_GRID: readonly number[] = [0, 0.125, 0.25, 0.5, 0.75];

/**
 * φ along a straight line over the reused steps: `from` at the first reused step, `to` at the
 * last, linear in the reused step's rank; 1 on computed steps. Two numbers for the whole plan, so
 * it fits few calibration samples less than per-step φ does (measured on held-out seeds).
 */
export function rampPhi(steps: number, reuse: readonly number[], from: number, to: number): number[] {
  const n = reuse.length;
  return phiVector(steps, reuse, (i) => (n === 1 ? from : from + ((to - from) * reuse.indexOf(i)) / (n - 1)));
}

/** The reused steps in `groups` runs of consecutive indices (coordinate descent moves one at a time). */
export function reuseGroups(reuse: readonly number[], groups: number): number[][] {
  const out: number[][] = [];
  const g = Math.max(1, Math.min(groups, reuse.length));
  for (let k = 0; k < g; k++) {
    const part = reuse.slice(Math.round((k * reuse.length) / g), Math.round(((k + 1) * reuse.length) / g));
    if (part.length > 0) out.push(part);
  }
  return out;
}

/**
 * Direct search: (time rule × one φ) on PHI_GRID, then the gain (forecast only) on GAIN_GRID, then
 * `sweeps` coordinate-descent sweeps over `groups` runs of reused steps with a halving step; a
 * move is kept only when it gains more than `minGain` dB.
 */
export async function searchStepAdjustment(space: SearchSpace, opts: { gains: boolean; groups?: number; sweeps?: number;
  minGain?: number; start?: StepAdjustment & { psnr: number } }): Promise<SearchResult> {
  let trials = 0;
  const tryIt = async (a: StepAdjustment) => {
    trials++;
    return space.score(space.policy(a));
  };
  let best: SearchResult = opts.start ? { ...opts.start, trials: 0 }
    : { timeRule: 'proportional', phi: [], gain: opts.gains ? 1 : null, psnr: -Infinity, trials: 0 };
  // `start`: refine a known point (coordinate descent only), e.g. after the reuse set moved
  if (!opts.start) for (const timeRule of TIME_RULES) {
    for (const value of PHI_GRID) {
      const a: StepAdjustment = { timeRule, phi: phiVector(space.steps, space.reuse, () => value), gain: best.gain };
      const db = await tryIt(a);
      if (db > best.psnr) best = { ...a, psnr: db, trials };
    }
  }
  if (!opts.start) space.log(`${space.label}: grid → ${best.timeRule}, φ = ${best.phi[space.reuse[0] ?? 0]}, ${best.psnr.toFixed(2)} dB`);
  if (opts.gains && !opts.start) {
    for (const gain of GAIN_GRID) {
      if (gain === best.gain) continue;
      const a = { ...best, gain };
      const db = await tryIt(a);
      if (db > best.psnr) best = { ...a, psnr: db, trials };
    }
    space.log(`${space.label}: gain → ${best.gain}, ${best.psnr.toFixed(2)} dB`);
  }
  let delta = 0.25;
  for (let sweep = 0; sweep < (opts.sweeps ?? 2); sweep++, delta /= 2) {
    for (const group of reuseGroups(space.reuse, opts.groups ?? 4)) {
      for (const sign of [1, -1]) {
        const phi = best.phi.map((v, i) => (group.includes(i) ? Math.min(MAX_DT_SCALE, Math.max(0, v + sign * delta)) : v));
        const a = { ...best, phi };
        const db = await tryIt(a);
        if (db > best.psnr + (opts.minGain ?? 0.05)) {
          best = { ...a, psnr: db, trials };
          break;
        }
      }
    }
    space.log(`${space.label}: per-step sweep ${sweep + 1} (±${delta}) → ${best.psnr.toFixed(2)} dB`);
  }
  return { ...best, trials };
}

export interface ReuseSpace {
  steps: number;
  /** Mean PSNR of the plan with this reuse set (each step's φ travels with it: see moveReuse). */
  score: (reuse: number[], phi: number[]) => Promise<number>;
  log: (m: string) => void;
  label: string;
}

export interface ReuseResult {
  reuse: number[];
  phi: number[];
  psnr: number;
  trials: number;
}

/** The set with step `from` moved to `to`, sorted; its φ moves with it. Null when the move is not allowed. */
export function moveReuse(steps: number, reuse: readonly number[], phi: readonly number[], from: number, to: number):
  { reuse: number[]; phi: number[] } | null {
  // the first and last steps always compute (every policy's rule: the cache needs a residual,
  // and the final step lands on σ = 0 with a real velocity)
  if (to < 1 || to > steps - 2 || reuse.includes(to) || !reuse.includes(from)) return null;
  const next = reuse.map((i) => (i === from ? to : i)).sort((a, b) => a - b);
  const p = [...phi];
  p[to] = phi[from]!;
  p[from] = 1;
  return { reuse: next, phi: p };
}

/**
 * Local search over the reuse set at a fixed budget, by the plan's own objective: first the whole
 * set shifted by ±1, ±2 steps, then `passes` passes moving each reused step to a free neighbour
 * (±1); a move is kept when it gains more than `minGain` dB. The λ threshold picks a set by the
 * per-step residual error; this picks it by the final image, with the step adjustment in the loop.
 */
export async function searchReuseSet(space: ReuseSpace, start: { reuse: number[]; phi: number[]; psnr: number },
  opts: { passes?: number; minGain?: number } = {}): Promise<ReuseResult> {
  let best: ReuseResult = { ...start, reuse: [...start.reuse], phi: [...start.phi], trials: 0 };
  let trials = 0;
  const minGain = opts.minGain ?? 0.05;
  const tryIt = async (c: { reuse: number[]; phi: number[] }) => {
    trials++;
    const db = await space.score(c.reuse, c.phi);
    if (db > best.psnr + minGain) {
      best = { ...c, psnr: db, trials };
      return true;
    }
    return false;
  };
  for (const shift of [1, -1, 2, -2]) {
    let c: { reuse: number[]; phi: number[] } | null = { reuse: best.reuse, phi: best.phi };
    // shift the latest steps first when moving later (and the earliest first when moving earlier)
    const order = shift > 0 ? [...best.reuse].reverse() : [...best.reuse];
    for (const i of order) {
      c = c && moveReuse(space.steps, c.reuse, c.phi, i, i + shift);
      if (c === null) break;
    }
    if (c !== null) await tryIt(c);
  }
  space.log(`${space.label}: reuse set shifted → ${best.psnr.toFixed(2)} dB`);
  for (let pass = 0; pass < (opts.passes ?? 1); pass++) {
    let moved = false;
    for (const i of [...best.reuse]) {
      for (const to of [i - 1, i + 1]) {
        const c = moveReuse(space.steps, best.reuse, best.phi, i, to);
        if (c !== null && (await tryIt(c))) {
          moved = true;
          break;
        }
      }
    }
    space.log(`${space.label}: reuse-set pass ${pass + 1} → ${best.psnr.toFixed(2)} dB, S = [${best.reuse}]`);
    if (!moved) break;
  }
  return { ...best, trials };
}
