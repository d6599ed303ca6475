// `generate`: one image from a model directory with onnxruntime-node, through the same core
// sampler and policies as the browser. Noise is gaussianNoise(seed, C·H·W), so a seed gives the
// same image on every backend.

import { writeFile } from 'node:fs/promises';
import { createPolicy, type PolicyOptions } from '../cache/registry.ts';
import { UnsupportedError } from '../core/errors.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import type { SampleStats } from '../core/types.ts';
import { loadNodeModel, type NodeModel } from '../backend/node-model.ts';
import { policyNeedsPlan, type PlanQuery } from '../manifest/plans.ts';
import type { ModelManifest } from '../manifest/types.ts';
import { UsageError } from './args.ts';
import { GENERATE_USAGE, type GenerateArgs } from './generate-args.ts';
import { readPlanFor, type LoadedPlan } from './plan-files.ts';
import { encodeGrayPng, toGray8 } from './png.ts';

/** The --json line. Keys are a contract with bench scripts: add, never rename. */
export interface GenerateReport {
  policy: string;
  steps: number;
  computedSteps: number;
  reusedSteps: number;
  budget: number | null;
  plan: string | null;
  ms: number;
  provider: string;
  label: number;
  seed: number;
  guidance: number;
  graphs: string;
  timeMode: string;
  decisions: string; // one letter per step: C = compute, R = reuse
  readbacks: number;
  loadMs: number;
}

function planQuery(args: GenerateArgs): PlanQuery {
  const q: PlanQuery = {};
  if (args.budget !== undefined) q.budget = args.budget;
  if (args.space !== undefined) q.space = args.space;
  return q;
}

async function policyFor(args: GenerateArgs, m: ModelManifest, steps: number) {
  const loaded: LoadedPlan | null = policyNeedsPlan(args.policy)
    ? await readPlanFor(m, args.policy, steps, planQuery(args))
    : null;
  const options: PolicyOptions = { steps, modelHash: m.modelHash };
  if (loaded) options.plan = loaded.plan;
  if (args.interval !== undefined) options.interval = args.interval;
  if (args.delta !== undefined) options.delta = args.delta;
  return { policy: createPolicy(args.policy, options), loaded };
}

function checkArgsAgainstModel(args: GenerateArgs, m: ModelManifest): void {
  const classes = m.conditioning.classes;
  if (args.label >= classes) throw new UsageError(`--class must be below ${classes} for ${m.name}`, GENERATE_USAGE);
  if (m.latent.channels !== 1) {
    throw new UnsupportedError(`${m.name} has ${m.latent.channels} channels`, 'the CLI writes grayscale PNGs only; use --raw');
  }
}

/** Little-endian float32 bytes, whatever the host's byte order. */
export function float32LE(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, k) => view.setFloat32(4 * k, v, true));
  return out;
}

async function writeOutputs(args: GenerateArgs, m: ModelManifest, x: Float32Array): Promise<void> {
  if (args.out) {
    const pixels = toGray8(x, m.preview.from, m.preview.to);
    await writeFile(args.out, encodeGrayPng(pixels, m.latent.width, m.latent.height));
  }
  if (args.raw) await writeFile(args.raw, float32LE(x));
}

async function sampleOnce(model: NodeModel, args: GenerateArgs, steps: number, guidance: number) {
  const m = model.manifest;
  const { policy, loaded } = await policyFor(args, m, steps);
  const { channels, height, width } = m.latent;
  const noise = model.ops.fromHost(gaussianNoise(args.seed, channels * height * width), [1, channels, height, width]);
  const result = await sample({
    denoiser: model.denoiser,
    ops: model.ops,
    sigmas: flowMatchSigmas(steps, m.scheduler.shift),
    policy,
    noise,
    cond: { label: args.label, nullLabel: m.conditioning.nullLabel },
    guidance,
    timeMode: args.timeMode,
  });
  const x = await model.ops.read(result.x);
  model.ops.dispose(result.x);
  return { x, stats: result.stats, loaded };
}

function report(args: GenerateArgs, model: NodeModel, run: { stats: SampleStats; loaded: LoadedPlan | null }, guidance: number, loadMs: number): GenerateReport {
  const { stats, loaded } = run;
  return {
    policy: args.policy,
    steps: stats.steps,
    computedSteps: stats.computedSteps,
    reusedSteps: stats.reusedSteps,
    budget: loaded?.entry.budget ?? args.budget ?? null,
    plan: loaded?.entry.file ?? null,
    ms: Math.round(stats.totalMs * 10) / 10,
    provider: model.provider,
    label: args.label,
    seed: args.seed,
    guidance,
    graphs: model.mode,
    timeMode: args.timeMode,
    decisions: stats.decisions.map((d) => (d === 'compute' ? 'C' : 'R')).join(''),
    readbacks: stats.readbacks,
    loadMs: Math.round(loadMs),
  };
}

export async function runGenerate(args: GenerateArgs): Promise<GenerateReport> {
  const t0 = performance.now();
  const sessionOptions = args.threads === undefined ? undefined : { intraOpNumThreads: args.threads };
  const model = await loadNodeModel(args.model, { graphs: args.graphs, sessionOptions });
  try {
    const loadMs = performance.now() - t0;
    checkArgsAgainstModel(args, model.manifest);
    const steps = args.steps ?? model.manifest.scheduler.defaultSteps;
    const guidance = args.guidance ?? model.manifest.scheduler.defaultGuidance;
    const run = await sampleOnce(model, args, steps, guidance);
    await writeOutputs(args, model.manifest, run.x);
    return report(args, model, run, guidance, loadMs);
  } finally {
    await model.release();
  }
}

/** The human-readable summary printed without --json. */
export function describeRun(r: GenerateReport, args: GenerateArgs): string {
  const files = [args.out, args.raw].filter(Boolean).join(', ') || 'no file (use --out / --raw)';
  const plan = r.plan ? `, plan ${r.plan}` : '';
  return `${files}: class ${r.label}, seed ${r.seed}, ${r.policy}${plan}; ${r.steps} steps = ` +
    `${r.computedSteps} computed + ${r.reusedSteps} reused, ${r.ms} ms on ${r.provider} (${r.graphs} graphs)`;
}
