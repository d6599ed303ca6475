// generate(): one image from a model directory with onnxruntime-node, through the same core
// sampler and policies as the browser. Noise is gaussianNoise(seed, C·H·W), so a seed gives the
// same image on every backend. `npm run generate` (src/cli/generate.ts) is a thin adapter over it.

import { encode as encodePng } from 'fast-png';
import { createPolicy, type PolicyOptions } from '../cache/registry.ts';
import { UnsupportedError } from '../core/errors.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import type { TimeMode } from '../core/schedules.ts';
import { samplerSigmas } from '../core/ddim.ts';
import type { SampleStats } from '../core/types.ts';
import { loadNodeModel, type NodeModel } from '../backend/node-model.ts';
import { policyNeedsPlan, type PlanQuery } from '../manifest/plans.ts';
import { latentDims, latentSize, type GraphMode, type ModelManifest } from '../manifest/types.ts';
import { readPlanFor, type LoadedPlan } from '../cli/plan-files.ts';
import { assembleApng } from '../core/apng.ts';
import { encodeGrayPng, toGray8 } from '../cli/png.ts';
import { checkInt, checkNumber, checkOneOf, OptionError, PACKAGED_MODEL_DIR } from './options.ts';
import { classConditioning } from '../manifest/conditioning.ts';
import { checkConditioning, resolveConditioning } from '../runtime/conditioning.ts';
import { toFrame, toFrames } from '../runtime/frames.ts';

/** What to generate: a `label` (class models) or a `prompt` (text models); other defaults come from the manifest. */
export interface NodeGenerateOptions {
  /** Model directory holding manifest.json. Default: the model shipped in the package (mnist-dit). */
  model?: string;
  /** Class models: the class to draw, 0 … classes − 1. */
  label?: number;
  /** Text models: what to draw. */
  prompt?: string;
  /** Text models: the unconditional branch of CFG (default: the manifest's, usually the empty prompt). */
  negativePrompt?: string;
  /** Noise seed, a uint32 (default 0). The same seed gives the same image on every backend. */
  seed?: number;
  /** Sampling steps (default: the manifest's scheduler.defaultSteps). */
  steps?: number;
  /** Classifier-free guidance weight (default: the manifest's; 1 = off, half the compute). */
  guidance?: number;
  /** Guidance-distilled models (a guidance input, Flux dev style): the scale fed to the guidance embedding (default: the manifest's). */
  embeddedGuidance?: number;
  /** Cache policy kind: 'none' (default), 'uniform', 'teacache', 'magcache', 'ertacache', … */
  policy?: string;
  /** Computed-step budget: picks the manifest's plan for it (uniform, taylorseer: exactly this many steps). */
  budget?: number;
  /** ertacache: which plan's rectification space (default 'output'). */
  space?: 'output' | 'hidden';
  /** uniform: compute every n-th step (default 3). */
  interval?: number;
  /** teacache / magcache / easycache: override the plan's threshold δ (higher = faster, worse). */
  delta?: number;
  /** σ the model sees after a shortened step (default 'actual'). */
  timeMode?: TimeMode;
  /** 'split' (default: embed | blocks | head) or 'single' (model.onnx, output-level caching only). */
  graphs?: GraphMode;
  /** onnxruntime-node intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

/** A run's numbers. Keys are a contract with scripts (the CLI's --json line): add, never rename. */
export interface GenerateReport {
  policy: string;
  steps: number;
  computedSteps: number;
  reusedSteps: number;
  budget: number | null;
  plan: string | null;
  ms: number;
  provider: string;
  /** The class drawn, or null for a text model. */
  label: number | null;
  /** The prompt drawn, or null for a class model. */
  prompt: string | null;
  seed: number;
  guidance: number;
  /** Guidance-distilled models: the guidance scale fed to the model (the option, or the manifest's default); null for others. */
  embeddedGuidance: number | null;
  graphs: string;
  timeMode: string;
  /** One letter per step: C = compute, R = reuse. */
  decisions: string;
  readbacks: number;
  loadMs: number;
  /** E.g. a prompt truncated to the text encoder's length. */
  warnings: string[];
}

/** How png() writes a video model's clip. */
export interface ClipPngOptions {
  /** Frames per second of the animated PNG (default 8). */
  fps?: number;
  /** true: one still PNG with the frames side by side (a frame strip) instead of an animation. */
  strip?: boolean;
}

/** The generated sample and the run's report. */
export interface NodeGenerateResult {
  /**
   * The final image in model space, planar channels × height × width float32 values (a text model: the VAE's RGB;
   * a video model: its clip, planar channels × frames × height × width).
   */
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  /** Video models only: frames in the clip. */
  frames?: number;
  report: GenerateReport;
  /**
   * The image as an 8-bit PNG (the manifest's preview range → 0…255): grayscale for 1 channel, RGB for 3.
   * A video model's clip: an animated PNG (APNG, looping; viewers without APNG show the first frame), or with
   * `{ strip: true }` the frames side by side in one PNG.
   */
  png(options?: ClipPngOptions): Uint8Array;
}

function checkOptions(o: NodeGenerateOptions): void {
  checkInt('label', o.label, 0);
  if (o.prompt !== undefined && typeof o.prompt !== 'string') throw new OptionError('prompt', 'must be a string');
  checkInt('seed', o.seed, 0, 2 ** 32 - 1);
  checkInt('steps', o.steps, 1, 10_000);
  checkNumber('guidance', o.guidance);
  checkNumber('embeddedGuidance', o.embeddedGuidance);
  checkInt('budget', o.budget, 1);
  checkOneOf('space', o.space, ['output', 'hidden']);
  checkInt('interval', o.interval, 1);
  checkNumber('delta', o.delta);
  checkOneOf('timeMode', o.timeMode, ['actual', 'nominal']);
  checkOneOf('graphs', o.graphs, ['split', 'single']);
  checkInt('threads', o.threads, 1, 1024);
}

function planQuery(o: NodeGenerateOptions): PlanQuery {
  const q: PlanQuery = {};
  if (o.budget !== undefined) q.budget = o.budget;
  if (o.space !== undefined) q.space = o.space;
  return q;
}

async function policyFor(o: NodeGenerateOptions, kind: string, m: ModelManifest, steps: number) {
  const loaded: LoadedPlan | null = policyNeedsPlan(kind) ? await readPlanFor(m, kind, steps, planQuery(o)) : null;
  const options: PolicyOptions = { steps, modelHash: m.modelHash };
  if (loaded) options.plan = loaded.plan;
  if (o.interval !== undefined) options.interval = o.interval;
  if ((kind === 'uniform' || kind.startsWith('taylorseer')) && o.budget !== undefined && (o.budget < 2 || o.budget > steps)) {
    // Named before any step (the policy itself would only fail at step 0).
    throw new OptionError('budget', `must be in [2, ${steps}] for ${kind} over ${steps} steps, got ${o.budget}`,
      'the first and last steps always compute, so an evenly spread budget is at least 2 and at most the steps');
  }
  if (o.delta !== undefined) options.delta = o.delta;
  // uniform and taylorseer spread exactly `budget` computed steps (matched-budget comparisons)
  if ((kind === 'uniform' || kind.startsWith('taylorseer')) && o.budget !== undefined) options.uniformBudget = o.budget;
  return { policy: createPolicy(kind, options), loaded };
}

interface Run {
  label: number | undefined;
  prompt: string | undefined;
  negativePrompt: string | undefined;
  seed: number;
  policy: string;
  steps: number;
  guidance: number;
  timeMode: TimeMode;
}

async function sampleOnce(model: NodeModel, o: NodeGenerateOptions, run: Run) {
  const m = model.manifest;
  const { policy, loaded } = await policyFor(o, run.policy, m, run.steps);
  const request = { ...(run.label !== undefined ? { label: run.label } : {}), ...(run.prompt !== undefined ? { prompt: run.prompt } : {}),
    ...(run.negativePrompt !== undefined ? { negativePrompt: run.negativePrompt } : {}),
    ...(o.embeddedGuidance !== undefined ? { embeddedGuidance: o.embeddedGuidance } : {}) };
  const cond = await resolveConditioning({ manifest: m, open: model, tokenizer: model.tokenizer }, request, run.guidance, (d) => d);
  const noise = model.ops.fromHost(gaussianNoise(run.seed, latentSize(m.latent)), [1, ...latentDims(m.latent)]);
  const result = await sample({
    denoiser: cond.denoiser,
    ops: model.ops,
    sigmas: samplerSigmas(m.scheduler, run.steps),
    policy,
    noise,
    cond: cond.cond,
    guidance: run.guidance,
    timeMode: run.timeMode,
  });
  model.ops.dispose(noise);
  try {
    const x = await cond.finish(result.x);
    const bad = x.findIndex((v) => !Number.isFinite(v));
    // NaN/Inf (fp16 overflow, a broken export) is reported with the provider that produced it.
    const warnings = bad < 0 ? cond.warnings
      : [...cond.warnings, `non-finite output: ${x[bad]} at pixel ${bad} on the ${model.provider} provider (fp16 overflow or broken weights)`];
    return { x, stats: result.stats, loaded, warnings };
  } finally {
    model.ops.dispose(result.x);
  }
}

function report(o: NodeGenerateOptions, model: NodeModel, run: Run, sampled: { stats: SampleStats; loaded: LoadedPlan | null; warnings: string[] },
  loadMs: number): GenerateReport {
  const { stats, loaded } = sampled;
  return {
    policy: run.policy,
    steps: stats.steps,
    computedSteps: stats.computedSteps,
    reusedSteps: stats.reusedSteps,
    budget: loaded?.entry.budget ?? o.budget ?? null,
    plan: loaded?.entry.file ?? null,
    ms: Math.round(stats.totalMs * 10) / 10,
    provider: model.provider,
    label: run.label ?? null,
    prompt: run.prompt ?? null,
    seed: run.seed,
    guidance: run.guidance,
    embeddedGuidance: model.manifest.pipeline?.transformerIo.guidance ? o.embeddedGuidance ?? model.manifest.scheduler.defaultEmbeddedGuidance ?? null : null,
    graphs: model.mode,
    timeMode: run.timeMode,
    decisions: stats.decisions.map((d) => (d === 'compute' ? 'C' : 'R')).join(''),
    readbacks: stats.readbacks,
    loadMs: Math.round(loadMs),
    warnings: sampled.warnings,
  };
}

/** RGBA → packed RGB bytes. */
function rgbOf(rgba: Uint8ClampedArray): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0; p < rgba.length / 4; p++) rgb.set(rgba.subarray(4 * p, 4 * p + 3), 3 * p);
  return rgb;
}

/** A clip [3, F, H, W] → an APNG, or a strip of the F frames side by side (F·W wide). */
function clipPng(m: ModelManifest, x: Float32Array, o: ClipPngOptions): Uint8Array {
  const { width, height } = m.image;
  const frames = toFrames(x, m.image, m.preview).map((f) => rgbOf(f.pixels));
  if (o.strip) {
    const F = frames.length;
    const strip = new Uint8Array(F * width * height * 3);
    frames.forEach((f, k) => {
      for (let y = 0; y < height; y++) strip.set(f.subarray(y * width * 3, (y + 1) * width * 3), (y * F * width + k * width) * 3);
    });
    return encodePng({ width: F * width, height, data: strip, channels: 3, depth: 8 });
  }
  const fps = o.fps ?? 8;
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 1000)) throw new OptionError('fps', `must be in (0, 1000], got ${fps}`);
  return assembleApng(frames.map((data) => encodePng({ width, height, data, channels: 3, depth: 8 })), fps);
}

function pngOf(m: ModelManifest, x: Float32Array): (o?: ClipPngOptions) => Uint8Array {
  return (o = {}) => {
    if (m.image.frames !== undefined) return clipPng(m, x, o);
    const { channels, width, height } = m.image;
    if (channels === 1) return encodeGrayPng(toGray8(x, m.preview.from, m.preview.to), width, height);
    if (channels < 3) {
      throw new UnsupportedError(`${m.name} has ${channels} channels`, 'png() writes grayscale or RGB images only; use image (float32)');
    }
    // A latent of more than 3 channels with no VAE (an imported class DiT): its first three, as RGB.
    const rgba = toFrame(channels > 3 ? x.subarray(0, 3 * width * height) : x, { ...m.image, channels: 3 }, m.preview).pixels;
    return encodePng({ width, height, data: rgbOf(rgba), channels: 3, depth: 8 });
  };
}

/**
 * Generates one sample with onnxruntime-node (a peer dependency: install it beside this package).
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { generate } from 'erta-diffusion/node';
 * const r = await generate({ label: 7, seed: 3, policy: 'ertacache', budget: 25 });
 * await writeFile('seven.png', r.png());
 * ```
 * @throws a DiffusionError (code BAD_INPUT, PLAN_NOT_FOUND, MODEL_FILE_MISSING, …) with a hint.
 */
export async function generate(options: NodeGenerateOptions): Promise<NodeGenerateResult> {
  checkOptions(options);
  const t0 = performance.now();
  const sessionOptions = options.threads === undefined ? undefined : { intraOpNumThreads: options.threads };
  const model = await loadNodeModel(options.model ?? PACKAGED_MODEL_DIR, { graphs: options.graphs ?? 'split', sessionOptions });
  try {
    const loadMs = performance.now() - t0;
    const m = model.manifest;
    const classes = m.conditioning.type === 'class' ? classConditioning(m).classes : 0;
    if (options.label !== undefined && classes > 0 && options.label >= classes) throw new OptionError('label', `must be below ${classes} for ${m.name}`);
    checkConditioning(options, m);
    const run: Run = {
      label: options.label,
      prompt: options.prompt,
      negativePrompt: options.negativePrompt,
      seed: options.seed ?? 0,
      policy: options.policy ?? 'none',
      steps: options.steps ?? m.scheduler.defaultSteps,
      guidance: options.guidance ?? m.scheduler.defaultGuidance,
      timeMode: options.timeMode ?? 'actual',
    };
    const sampled = await sampleOnce(model, options, run);
    const { channels, height, width, frames } = m.image;
    return { image: sampled.x, channels, height, width, ...(frames !== undefined ? { frames } : {}),
      report: report(options, model, run, sampled, loadMs), png: pngOf(m, sampled.x) };
  } finally {
    await model.release();
  }
}
