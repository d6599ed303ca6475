// Calibration on prompts (issue 11): a text model is calibrated on a list of prompts — a file
// given by the caller, or the one its manifest ships (calibrationPrompts) — never on its
// evaluation prompts (evaluationPrompts), as calibration never uses the evaluation seeds.
// The prompts and the negative prompt are encoded once; the bound transformer then serves the
// calibration batch with labels 0 … k−1 (prompts) and k (the negative prompt, the "null class").

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiffusionError } from '../core/errors.ts';
import type { Denoiser } from '../core/types.ts';
import type { NodeModel, NodeTensor } from '../backend/node-model.ts';
import { textConditioning } from '../manifest/conditioning.ts';
import { encodePrompts } from '../runtime/prompts.ts';
import { OptionError } from './options.ts';

/** Prompts a text model must keep out of calibration (the evaluation set). */
export class CalibrationPromptError extends DiffusionError {
  constructor(prompts: string[]) {
    super('CALIBRATION_SEED', `calibration prompts ${prompts.map((p) => `"${p}"`).join(', ')} are evaluation prompts`,
      'calibrate on prompts outside the model\'s evaluationPrompts list, so evaluation stays held out');
  }
}

/** A prompt list file: a JSON array of strings, or plain text with one prompt per line. */
export async function readPromptList(path: string, option = 'prompts'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new OptionError(option, `cannot read ${path} (${(e as NodeJS.ErrnoException).code})`, 'pass a JSON array of prompts or a text file, one prompt a line');
  }
  const trimmed = text.trim();
  const list: unknown = trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string')) {
    throw new OptionError(option, `${path} holds no list of prompts`, 'pass a JSON array of strings, or one prompt a line');
  }
  return list as string[];
}

export interface PromptCalibration {
  denoiser: Denoiser<NodeTensor>;
  prompts: string[];
  labels: number[];
  nullLabel: number;
  warnings: string[];
}

/** The calibration prompts of a text model, encoded and bound: labels index them, nullLabel is the negative prompt. */
export async function bindCalibrationPrompts(model: NodeModel, dir: string, promptsFile?: string): Promise<PromptCalibration> {
  const m = model.manifest;
  const { conditioning } = textConditioning(m, 'calibration on prompts');
  const file = promptsFile ?? (m.calibrationPrompts ? join(dir, m.calibrationPrompts) : undefined);
  if (file === undefined) {
    throw new OptionError('prompts', `is required: ${m.name} ships no calibrationPrompts list`, 'pass prompts: a file of calibration prompts (--prompts FILE)');
  }
  const prompts = await readPromptList(file);
  if (m.evaluationPrompts) {
    const held = new Set(await readPromptList(join(dir, m.evaluationPrompts), 'evaluationPrompts'));
    const bad = prompts.filter((p) => held.has(p));
    if (bad.length > 0) throw new CalibrationPromptError(bad);
  }
  const enc = await encodePrompts({ tokenizer: model.tokenizer!, graphs: model.pipeline!, modelHash: m.modelHash },
    [...prompts, conditioning.defaultNegativePrompt]);
  return {
    denoiser: model.pipeline!.bind(enc.rows), prompts, labels: prompts.map((_, k) => k), nullLabel: prompts.length,
    warnings: enc.warnings,
  };
}
