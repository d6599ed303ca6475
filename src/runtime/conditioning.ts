// What a request conditions on, resolved against the loaded model: a class label (the class
// DiT as it always ran) or a prompt (tokenize → encode once, from the embedding LRU when
// possible → the transformer bound to [prompt, negative] → the VAE decoder at the end). The
// sampler sees only latents, a denoiser and the opaque rows 0/1 of the conditioning bundle.

import { schedulerDenoiser } from '../core/ddim.ts';
import { BadInputError, ConditioningError, UnsupportedError } from '../core/errors.ts';
import { LIMITS } from '../manifest/limits.ts';
import type { Conditioning, Denoiser, TensorOps } from '../core/types.ts';
import type { OpenModel } from '../backend/runtime-backend.ts';
import type { ModelManifest } from '../manifest/types.ts';
import type { GenerateRequest } from './api.ts';
import { checkPrompt, encodePrompts, type EmbeddingCache, type PromptTokenizer } from './prompts.ts';

export interface ResolvedConditioning<T> {
  denoiser: Denoiser<T>;
  cond: Conditioning;
  /** The final latent → the image in model space (host), with the run's one image read-back. */
  finish(x: T): Promise<Float32Array>;
  /** x̂₀ → a preview image on the host ([C, H, W] of the latent, or RGB for a text model). */
  preview(x0hat: T): Promise<Float32Array>;
  /** Prompts encoded in this run (0 for class models and cache hits). */
  encodedPrompts: number;
  warnings: string[];
}

export type ConditioningRequest = Pick<GenerateRequest, 'label' | 'prompt' | 'negativePrompt' | 'embeddedGuidance'>;

export interface ConditioningDeps<T> {
  manifest: ModelManifest;
  open: Pick<OpenModel<T>, 'denoiser' | 'pipeline'> & { ops: TensorOps<T> };
  tokenizer: PromptTokenizer | null;
  cache?: EmbeddingCache;
}

/** CONDITIONING_MISMATCH unless the request names exactly what the model conditions on. */
export function checkConditioning(req: ConditioningRequest, m: ModelManifest): void {
  checkEmbeddedGuidance(req.embeddedGuidance, m);
  const c = m.conditioning;
  if (c.type === 'class') {
    if (req.prompt !== undefined || req.negativePrompt !== undefined) {
      throw new ConditioningError(`${m.name} is class-conditional: it takes a label, not a prompt`,
        `pass label (0–${c.classes - 1}) and no prompt, or load a text-to-image model`);
    }
    const label = req.label;
    if (!(typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < c.classes)) {
      throw new BadInputError(`label ${label} is not a class`, `use an integer in [0, ${c.classes - 1}]`);
    }
    return;
  }
  if (req.label !== undefined) {
    throw new ConditioningError(`${m.name} is text-conditioned: it takes a prompt, not a label`,
      'pass prompt (and optionally negativePrompt) instead of label, or load a class-conditional model');
  }
  if (req.prompt === undefined) {
    throw new ConditioningError(`${m.name} is text-conditioned and the request has no prompt`, 'pass prompt: "…"');
  }
  checkPrompt(req.prompt, 'prompt');
  if (req.negativePrompt !== undefined) checkPrompt(req.negativePrompt, 'negativePrompt');
}

/**
 * A guidance scale for the model's guidance embedding (guidance-distilled models, Flux dev): UNSUPPORTED for a model
 * without a guidance input, BAD_INPUT unless a finite number in [0, LIMITS.guidance].
 */
export function checkEmbeddedGuidance(value: unknown, m: ModelManifest): void {
  if (value === undefined) return;
  if (!m.pipeline?.transformerIo.guidance) {
    throw new UnsupportedError(`${m.name} has no guidance embedding: embeddedGuidance applies to guidance-distilled models (Flux dev style)`,
      'leave embeddedGuidance out (use guidance, the CFG weight, for this model)');
  }
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= LIMITS.guidance)) {
    throw new BadInputError(`embeddedGuidance ${String(value)} is not a guidance scale`,
      `use a number in [0, ${LIMITS.guidance}] (default ${m.scheduler.defaultEmbeddedGuidance}; Flux dev is usually run at 2–5)`);
  }
}

export async function resolveConditioning<T>(d: ConditioningDeps<T>, req: ConditioningRequest, guidance: number,
  pace: (den: Denoiser<T>) => Denoiser<T>): Promise<ResolvedConditioning<T>> {
  const { manifest: m, open } = d;
  const { ops } = open;
  const c = m.conditioning;
  if (c.type === 'class') {
    return {
      denoiser: pace(schedulerDenoiser(open.denoiser, ops, m.scheduler)), cond: { label: req.label!, nullLabel: c.nullLabel },
      finish: (x) => ops.read(x), preview: (x) => ops.read(x), encodedPrompts: 0, warnings: [],
    };
  }
  const graphs = open.pipeline;
  if (!graphs || !d.tokenizer) throw new BadInputError(`${m.name}: the text pipeline is not loaded`, 'load() the model again');
  const negative = req.negativePrompt ?? c.defaultNegativePrompt;
  // w = 1 runs the prompt alone: the negative prompt would never be read, so it is not encoded.
  const prompts = guidance === 1 ? [req.prompt!] : [req.prompt!, negative];
  const ctx = { tokenizer: d.tokenizer, graphs, modelHash: m.modelHash, ...(d.cache ? { cache: d.cache } : {}) };
  const enc = await encodePrompts(ctx, prompts);
  return {
    denoiser: pace(schedulerDenoiser(graphs.bind(enc.rows, req.embeddedGuidance !== undefined ? { embeddedGuidance: req.embeddedGuidance } : {}),
      ops, m.scheduler)), cond: { label: 0, nullLabel: 1 },
    finish: (x) => graphs.decode(x), preview: (x) => graphs.preview(x),
    encodedPrompts: enc.encoded, warnings: enc.warnings,
  };
}
