// generate(): one sample() call over the loaded model, with the policy (and its plan) resolved
// at the boundary, previews read back only when asked for, and every tensor the run created
// disposed whatever happens (cancel, error), so a worker can run generations indefinitely.

import { BadInputError } from '../core/errors.ts';
import { gaussianNoise } from '../core/rng.ts';
import { sample } from '../core/sampler.ts';
import { samplerSigmas } from '../core/ddim.ts';
import type { CachePolicy } from '../core/types.ts';
import { createPolicy, type PolicyOptions } from '../cache/registry.ts';
import { uniformBudgetSteps } from '../cache/uniform.ts';
import { checkPlanFitsModel, findPlan, policyNeedsPlan, type PlanQuery } from '../manifest/plans.ts';
import { resolveModelFile } from '../manifest/validate.ts';
import type { RuntimeBackend } from '../backend/runtime-backend.ts';
import { RuntimeError, type Frame, type GenerateEvent, type GenerateRequest, type GenerateResult } from './api.ts';
import { firstNonFinite, toFrames } from './frames.ts';
import { latentDims, latentSize } from '../manifest/types.ts';
import { pacedByStep } from './pacing.ts';
import type { LoadedModel } from './load-model.ts';
import { checkConditioning, resolveConditioning } from './conditioning.ts';
import type { EmbeddingCache } from './prompts.ts';
import { mergePlanEntries } from './run-calibration.ts';
import type { StoredPlan } from '../storage/plan-store.ts';

export interface RunContext<T> {
  backend: RuntimeBackend<T>;
  model: LoadedModel<T>;
  jobId: string;
  isCancelled: () => boolean;
  emit: (e: GenerateEvent, transfer?: Transferable[]) => Promise<void>;
  /** Text models: context rows of recent prompts (model hash + prompt → rows), kept across runs. */
  prompts?: EmbeddingCache;
  /** Plans calibrated in the browser for this model: they take precedence over the manifest's (run-calibration.ts). */
  storedPlans?: readonly StoredPlan[];
}

interface Settings {
  steps: number;
  guidance: number;
  previewEvery: number;
}

function check(ok: boolean, message: string, hint: string): void {
  if (!ok) throw new BadInputError(message, hint);
}

function settingsFor(req: GenerateRequest, model: LoadedModel<unknown>): Settings {
  const m = model.manifest;
  const steps = req.steps ?? m.scheduler.defaultSteps;
  const guidance = req.guidance ?? m.scheduler.defaultGuidance;
  const previewEvery = req.previewEvery ?? 0;
  checkConditioning(req, m);
  check(Number.isInteger(req.seed) && req.seed >= 0 && req.seed <= 0xffffffff, `seed ${req.seed} is not a uint32`,
    'use an integer in [0, 4294967295]');
  check(Number.isInteger(steps) && steps >= 1 && steps <= 1000, `steps ${steps} is out of range`, 'use 1–1000 steps');
  check(Number.isFinite(guidance), `guidance ${guidance} is not a number`, 'use 1 for no guidance, ~3 for strong');
  check(Number.isInteger(previewEvery) && previewEvery >= 0, `previewEvery ${previewEvery} is invalid`,
    'use 0 for the final image only, k for a preview every k steps');
  return { steps, guidance, previewEvery };
}

/** A plan file of the manifest, fetched once per loaded model (LoadedModel.plans); policies get a copy. */
async function manifestPlan<T>(ctx: RunContext<T>, file: string): Promise<unknown> {
  const m = ctx.model.manifest;
  if (!ctx.model.plans.has(file)) {
    const { json } = await ctx.backend.loadJson(resolveModelFile(m.baseUrl, file, m.fileOrigins), 'plan', {});
    ctx.model.plans.set(file, json);
  }
  return ctx.model.plans.get(file);
}

async function policyFor<T>(ctx: RunContext<T>, req: GenerateRequest, steps: number) {
  const kind = req.policy?.kind ?? 'none';
  const m = ctx.model.manifest;
  let plan: unknown;
  let planId: string | null = null;
  if (policyNeedsPlan(kind)) {
    const query: PlanQuery = {};
    if (req.policy?.budget !== undefined) query.budget = req.policy.budget;
    if (req.policy?.space !== undefined) query.space = req.policy.space;
    const stored = ctx.storedPlans ?? [];
    const entry = findPlan(stored.length ? { ...m, plans: mergePlanEntries(m.plans, stored.map((p) => p.entry)) } : m, kind, steps, query);
    const browser = stored.find((p) => p.entry.file === entry.file);
    plan = structuredClone(browser ? browser.plan : await manifestPlan(ctx, entry.file));
    planId = entry.file;
  }
  if ((kind === 'uniform' || kind.startsWith('taylorseer')) && req.policy?.budget !== undefined) {
    uniformBudgetSteps(steps, req.policy.budget); // BAD_INPUT now, not at step 0
  }
  const options: PolicyOptions = { plan, steps, modelHash: m.modelHash };
  if (req.policy?.interval !== undefined) options.interval = req.policy.interval;
  if ((kind === 'uniform' || kind.startsWith('taylorseer')) && req.policy?.budget !== undefined) {
    options.uniformBudget = req.policy.budget;
  }
  if (req.policy?.delta !== undefined) options.delta = req.policy.delta;
  const policy: CachePolicy = createPolicy(kind, options);
  if (plan !== undefined) checkPlanFitsModel(plan, m);
  return { policy, planId };
}

export async function runGeneration<T>(ctx: RunContext<T>, req: GenerateRequest): Promise<GenerateResult> {
  const { manifest, open } = ctx.model;
  const { ops } = open;
  const s = settingsFor(req, ctx.model as LoadedModel<unknown>);
  const { policy, planId } = await policyFor(ctx, req, s.steps);
  const { channels, height, width, frames } = manifest.latent;
  const text = manifest.conditioning.type === 'text';
  const previewShape = { channels: text ? 3 : channels, height, width, ...(frames !== undefined ? { frames } : {}) };
  // a video ([C, F, H, W]) → its F frames; an image → one
  const framesOf = (data: Float32Array, shape = manifest.image): Frame[] => toFrames(data, shape, manifest.preview);
  const readbacks0 = ops.readbacks;
  let previews = 0;
  const deps = { manifest, open, tokenizer: ctx.model.tokenizer, ...(ctx.prompts ? { cache: ctx.prompts } : {}) };
  const cond = await resolveConditioning(deps, req, s.guidance, (d) => pacedByStep(d, ops.sync?.bind(ops)));
  for (const message of cond.warnings) await ctx.emit({ type: 'warning', jobId: ctx.jobId, message });

  const noise = ops.fromHost(gaussianNoise(req.seed, latentSize(manifest.latent)), [1, ...latentDims(manifest.latent)]);
  let x: T | null = null;
  try {
    const result = await sample({
      denoiser: cond.denoiser, ops, policy, noise, guidance: s.guidance, previewEvery: s.previewEvery, timeMode: req.timeMode ?? 'actual',
      sigmas: samplerSigmas(manifest.scheduler, s.steps),
      cond: cond.cond,
      isCancelled: ctx.isCancelled,
      onStep: (info) => void ctx.emit({ type: 'step', jobId: ctx.jobId, i: info.i, decision: info.decision, ms: info.ms }),
      onPreview: async (i, x0hat) => {
        const all = framesOf(await cond.preview(x0hat), previewShape);
        previews++;
        await ctx.emit({ type: 'preview', jobId: ctx.jobId, i, frame: all[0]!, ...(frames !== undefined ? { frames: all } : {}) },
          all.map((f) => f.pixels.buffer));
      },
    });
    x = result.x;
    const image = await cond.finish(x);
    const bad = firstNonFinite(image);
    const provider = open.provider.used;
    if (bad >= 0) {
      throw new RuntimeError('NON_FINITE', `the model produced ${image[bad]} at pixel ${bad} on the ${provider} provider`,
        'the weights or the GPU produced NaN/Inf (fp16 models overflow most often); try provider "wasm" to tell a GPU '
          + 'problem from a model problem, or use the model\'s fp32 export');
    }
    if (image.length > 1 && image.every((v) => v === image[0])) {
      // An all-black (or all-one-value) image is what fp16 overflow or a broken kernel leaves.
      await ctx.emit({ type: 'warning', jobId: ctx.jobId,
        message: `the ${provider} provider produced a uniform image (every value ${image[0]}): likely a numeric failure `
          + '(fp16 overflow, a broken GPU kernel); try provider "wasm" to compare' });
    }
    const stats = {
      ...result.stats, readbacks: ops.readbacks - readbacks0, previews, encodedPrompts: cond.encodedPrompts,
      provider: open.provider.used, policy: policy.kind, planId,
    };
    await ctx.emit({ type: 'done', jobId: ctx.jobId, stats });
    const all = framesOf(image);
    return { jobId: ctx.jobId, image, frame: all[0]!, ...(frames !== undefined ? { frames: all } : {}), stats };
  } finally {
    if (x !== null) ops.dispose(x);
    ops.dispose(noise);
  }
}
