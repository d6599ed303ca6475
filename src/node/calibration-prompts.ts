// Calibration on prompts (issue 11): a text model is calibrated on a list of prompts — a file
// given by the caller, or the one its manifest ships (calibrationPrompts) — never on its
// evaluation prompts (evaluationPrompts), as calibration never uses the evaluation seeds.
// The prompts and the negative prompt are encoded once; the bound transformer then serves the
// calibration batch with labels 0 … k−1 (prompts) and k (the negative prompt, the "null class").

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeModel, NodeTensor } from '../backend/node-model.ts';
import { textConditioning } from '../manifest/conditioning.ts';
import { bindPromptBatch, CalibrationPromptError, type BoundPrompts } from '../runtime/calibration.ts';
import { OptionError } from './options.ts';

export { CalibrationPromptError };

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

export type PromptCalibration = BoundPrompts<NodeTensor>;

/** The calibration prompts of a text model, encoded and bound: labels index them, nullLabel is the negative prompt. */
export async function bindCalibrationPrompts(model: NodeModel, dir: string, promptsFile?: string, embeddedGuidance?: number): Promise<PromptCalibration> {
  const m = model.manifest;
  textConditioning(m, 'calibration on prompts');
  const file = promptsFile ?? (m.calibrationPrompts ? join(dir, m.calibrationPrompts) : undefined);
  if (file === undefined) {
    throw new OptionError('prompts', `is required: ${m.name} ships no calibrationPrompts list`, 'pass prompts: a file of calibration prompts (--prompts FILE)');
  }
  const prompts = await readPromptList(file);
  const held = m.evaluationPrompts ? await readPromptList(join(dir, m.evaluationPrompts), 'evaluationPrompts') : null;
  return bindPromptBatch(m, model.tokenizer!, model.pipeline!, prompts, held, embeddedGuidance);
}
