// Calibration of a loaded model, shared by the Node API (src/node/calibrate.ts, `npm run
// calibrate`) and the browser runtime (run-calibration.ts, api.calibrate() in the worker): the
// manifest's scheduler and conditioning → calibrateModel's options, the calibration prompts of a
// text model encoded and bound as "labels", and the fit itself over the scheduler's denoiser.
// Both sides call exactly these functions, so the same model, seeds and budget give the same plan.

import { calibrateModel, type CalibrateOptions } from '../calibrate/calibrate.ts';
import type { CachePlan } from '../cache/plan.ts';
import { schedulerDenoiser } from '../core/ddim.ts';
import { DiffusionError } from '../core/errors.ts';
import type { TimeMode } from '../core/schedules.ts';
import type { Denoiser, TensorOps } from '../core/types.ts';
import type { PipelineGraphs } from '../backend/text-pipeline.ts';
import { classConditioning, textConditioning } from '../manifest/conditioning.ts';
import { latentDims, type ModelManifest, type RectificationSpace } from '../manifest/types.ts';
import { checkEmbeddedGuidance } from './conditioning.ts';
import { encodePrompts, type PromptTokenizer } from './prompts.ts';

/** Prompts a text model must keep out of calibration (the evaluation set). */
export class CalibrationPromptError extends DiffusionError {
  constructor(prompts: string[]) {
    super('CALIBRATION_SEED', `calibration prompts ${prompts.map((p) => `"${p}"`).join(', ')} are evaluation prompts`,
      'calibrate on prompts outside the model\'s evaluationPrompts list, so evaluation stays held out');
  }
}

/** What a calibration run asks for, on either side (defaults: calibrateModel's and the manifest's). */
export interface CalibrationSettings {
  steps: number;
  budgets: number[];
  seeds?: number[];
  labels?: number[];
  guidance?: number;
  spaces?: RectificationSpace[];
  timeMode?: TimeMode;
  phi?: 'search' | 'paper' | 'lsq';
  forecast?: boolean;
  evaluate?: boolean;
  /** Also fit TeaCache, MagCache and EasyCache (default true). */
  peers?: boolean;
  /** Fit the ERTACache plans (default true; false: only the peers'). */
  ertacache?: boolean;
  /** ERTACache's search knobs (calibrateModel's defaults: 1 sweep, 4 φ groups, 1 reuse-set pass). */
  sweeps?: number;
  phiGroups?: number;
  reusePasses?: number;
  phiRamps?: boolean;
  onProgress?: (line: string) => void;
}

/** A text model's calibration batch: prompt k is label k, the negative prompt is nullLabel. */
export interface BoundPrompts<T> {
  denoiser: Denoiser<T>;
  prompts: string[];
  labels: number[];
  nullLabel: number;
  warnings: string[];
}

/** calibrateModel's options for a model: σ grid, guidance, latent shape and pixel range from its manifest. */
export function calibrationOptionsFor(m: ModelManifest, s: CalibrationSettings, text: { labels: number[]; nullLabel: number } | null): CalibrateOptions {
  const c: CalibrateOptions = {
    modelHash: m.modelHash,
    steps: s.steps,
    shift: m.scheduler.shift,
    ...(m.scheduler.ddim ? { ddim: m.scheduler.ddim } : {}),
    guidance: s.guidance ?? m.scheduler.defaultGuidance,
    budgets: [...new Set(s.budgets)].sort((a, b) => b - a),
    xDims: [1, ...latentDims(m.latent)],
    nullLabel: text ? text.nullLabel : classConditioning(m, 'calibration on labels').nullLabel,
    timeMode: s.timeMode ?? 'actual',
    evaluate: s.evaluate ?? true,
    pixelRange: m.preview.from,
    onProgress: s.onProgress ?? (() => {}),
  };
  if (s.seeds) c.seeds = s.seeds;
  if (s.labels) c.labels = s.labels;
  if (text) c.labels = text.labels;
  if (s.spaces) c.spaces = s.spaces;
  if (s.phi !== undefined && s.phi !== 'search') c.phiMode = s.phi;
  if (s.forecast === false) c.forecast = false;
  if (s.peers === false) c.peers = false;
  if (s.ertacache === false) c.ertacache = false;
  if (s.sweeps !== undefined) c.sweeps = s.sweeps;
  if (s.phiGroups !== undefined) c.phiGroups = s.phiGroups;
  if (s.reusePasses !== undefined) c.reusePasses = s.reusePasses;
  if (s.phiRamps === true) c.phiRamps = true;
  return c;
}

/**
 * Encodes the calibration prompts and the model's negative prompt once and binds the
 * transformer to them (labels 0 … k−1, nullLabel k). Prompts of the evaluation set are refused.
 */
export async function bindPromptBatch<T>(m: ModelManifest, tokenizer: PromptTokenizer, graphs: PipelineGraphs<T>,
  prompts: string[], evaluationPrompts: readonly string[] | null, embeddedGuidance?: number): Promise<BoundPrompts<T>> {
  const { conditioning } = textConditioning(m, 'calibration on prompts');
  checkEmbeddedGuidance(embeddedGuidance, m); // guidance-distilled models: the scale the plan is fitted at (default the manifest's)
  if (evaluationPrompts) {
    const held = new Set(evaluationPrompts);
    const bad = prompts.filter((p) => held.has(p));
    if (bad.length > 0) throw new CalibrationPromptError(bad);
  }
  const enc = await encodePrompts({ tokenizer, graphs, modelHash: m.modelHash }, [...prompts, conditioning.defaultNegativePrompt]);
  return { denoiser: graphs.bind(enc.rows, embeddedGuidance !== undefined ? { embeddedGuidance } : {}), prompts, labels: prompts.map((_, k) => k), nullLabel: prompts.length, warnings: enc.warnings };
}

/**
 * The denoiser with a stop check before every graph call: calibration is many transformer
 * passes (profiling, then the searches' simulations), so a cancel takes effect within one.
 */
export function cancellable<T>(den: Denoiser<T>, isCancelled: () => boolean, onPass?: () => void): Denoiser<T> {
  let passes = 0;
  const check = () => {
    if (isCancelled()) throw calibrationCancelled(`calibration cancelled after ${passes} transformer passes; nothing was stored`);
  };
  if (den.kind === 'single') {
    return { kind: 'single', outputLayout: den.outputLayout, forward: async (...a) => { check(); passes++; onPass?.(); return den.forward(...a); } };
  }
  return {
    kind: 'split', hiddenLayout: den.hiddenLayout, outputLayout: den.outputLayout,
    embed: async (...a) => { check(); return den.embed(...a); },
    blocks: async (...a) => { check(); passes++; onPass?.(); return den.blocks(...a); },
    head: async (...a) => { check(); return den.head(...a); },
  };
}

export function calibrationCancelled(message: string): DiffusionError {
  return new DiffusionError('CANCELLED', message, 'nothing to fix; calibrate again when you want the plan');
}

/** Every plan calibrateModel fits, over the manifest scheduler's denoiser (ε models run as velocity). */
export async function fitModelPlans<T>(m: ModelManifest, denoiser: Denoiser<T>, ops: TensorOps<T>, options: CalibrateOptions): Promise<CachePlan[]> {
  const r = await calibrateModel(schedulerDenoiser(denoiser, ops, m.scheduler), ops, options);
  return [...r.ertacache, ...r.teacache, ...r.magcache, ...r.easycache];
}
