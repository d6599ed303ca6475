// The runtime-overhead measurement on any shipped model directory (class or text), with
// onnxruntime-node sessions of their own (single-threaded by default, as the speed table).

import { loadNodeModel } from '../backend/node-model.ts';
import { classFeeds, measureOverhead, textFeeds, type OverheadResult } from '../bench/overhead.ts';
import { encodePrompts } from '../runtime/prompts.ts';

/** The prompt a text model's overhead runs use (the encoding is outside the timed loops). */
export const OVERHEAD_PROMPT = 'a small red circle';

export async function nodeOverhead(dir: string, repeats: number, threads: number): Promise<OverheadResult> {
  const model = await loadNodeModel(dir, { sessionOptions: { intraOpNumThreads: threads } });
  try {
    const m = model.manifest;
    const steps = m.scheduler.defaultSteps;
    const guidance = m.scheduler.defaultGuidance === 1 ? 2 : m.scheduler.defaultGuidance; // the CFG batch of 2 on both sides
    const base = { manifest: m, ort: model.ort, sessions: model.sessions, ops: model.ops, steps, guidance };
    if (m.conditioning.type === 'class') {
      const feeds = classFeeds(model.ort, m, 0);
      try {
        return await measureOverhead({ ...base, denoiser: model.denoiser, cond: { label: 0, nullLabel: m.conditioning.nullLabel }, feeds }, repeats);
      } finally {
        feeds.release();
      }
    }
    const enc = await encodePrompts({ tokenizer: model.tokenizer!, graphs: model.pipeline!, modelHash: m.modelHash },
      [OVERHEAD_PROMPT, m.conditioning.defaultNegativePrompt]);
    const feeds = textFeeds(model.ort, m, enc.rows);
    try {
      return await measureOverhead({ ...base, denoiser: model.pipeline!.bind(enc.rows), cond: { label: 0, nullLabel: 1 }, feeds }, repeats);
    } finally {
      feeds.release();
    }
  } finally {
    await model.release();
  }
}
