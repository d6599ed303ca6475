// Child process of bench-speed.ts: times one speed row (a policy at a budget against `none`,
// measureSpeed's interleaved pairs) on a model loaded here alone, and sends the row to the parent.
// A class model (mnist-dit) is timed as bench.ts did in-process, a text model as bench-text.ts.

import { join } from 'node:path';
import { loadNodeModel, type NodeModel } from '../backend/node-model.ts';
import { createPolicy } from '../cache/registry.ts';
import { measureSpeed } from '../bench/speed.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { classConditioning, textConditioning } from '../manifest/conditioning.ts';
import { latentDims } from '../manifest/types.ts';
import { readPromptList } from '../node/calibration-prompts.ts';
import { encodePrompts } from '../runtime/prompts.ts';
import { policiesAt } from './bench.ts';
import { serveApart } from '../node/apart.ts';
import type { SpeedJob } from './bench-speed.ts';
import type { SpeedRow } from '../bench/speed.ts';

/**
 * A text model's transformer loop as bench-text.ts times it: the evaluation prompts encoded once,
 * the timed sample's label k picking prompt k mod 10, the empty prompt as the unconditional row.
 */
async function textSetup(dir: string, model: NodeModel) {
  const m = model.manifest;
  const { conditioning } = textConditioning(m, 'the bench');
  if (!m.evaluationPrompts) throw new Error(`${m.name} lists no evaluationPrompts: its speed cannot be timed as bench-text does`);
  const prompts = await readPromptList(join(dir, m.evaluationPrompts), 'evaluationPrompts');
  const enc = await encodePrompts({ tokenizer: model.tokenizer!, graphs: model.pipeline!, modelHash: m.modelHash },
    [...prompts, conditioning.defaultNegativePrompt]);
  return { denoiser: model.pipeline!.bind(enc.rows), nullLabel: prompts.length, xDims: [1, ...latentDims(m.latent)] };
}

async function timeRow(job: SpeedJob, log: (m: string) => void): Promise<SpeedRow> {
  const model = await loadNodeModel(job.model, { sessionOptions: { intraOpNumThreads: job.threads } });
  try {
    const m = model.manifest;
    const cases = (await policiesAt(model, job.steps, job.budget, job.variants, () => {})).filter((p) => p.policy === job.policy);
    if (cases.length === 0) throw new Error(`no policy '${job.policy}' at budget ${job.budget} of ${job.steps} steps for ${job.model}`);
    const common = { ops: model.ops, sigmas: flowMatchSigmas(job.steps, m.scheduler.shift), guidance: m.scheduler.defaultGuidance };
    const setup = model.pipeline && model.tokenizer ? { ...common, ...(await textSetup(job.model, model)) } : {
      ...common, denoiser: model.denoiser, nullLabel: classConditioning(m, 'the bench').nullLabel,
      xDims: [1, m.latent.channels, m.latent.height, m.latent.width],
    };
    const [row] = await measureSpeed(setup, () => createPolicy('none'), cases, job.repeats, log);
    return row!;
  } finally {
    await model.release();
  }
}

serveApart('bench-speed-child.ts', timeRow);
