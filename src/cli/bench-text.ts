// `bench` on a text-to-image model (issue 12: emoji-dit): every policy at matched budgets
// against full compute on the model's evaluation prompts × seeds from 1000, with
// onnxruntime-node. PSNR / SSIM on the decoded RGB image (what a visitor sees) and on the
// latent (the space calibration measures in); category / concept agreement with the
// full-compute image under the model's evaluation classifier (emoji-classifier: the category
// and concept heads), the speed of each against `none`. Writes bench/<model name>/ unless
// --out says otherwise, so it never overwrites the class model's committed report. A video model
// (latent [C, F, H, W]) is measured on the whole decoded clip: PSNR over every frame's pixels, SSIM
// the mean over every frame and channel.

import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiffusionError } from '../core/errors.ts';
import { flowMatchSigmas } from '../core/schedules.ts';
import { argmaxRows, psnr, ssim, toUnitRange } from '../core/metrics.ts';
import { createPolicy } from '../cache/registry.ts';
import { loadNodeModel, type NodeModel, type NodeTensor } from '../backend/node-model.ts';
import { sha256Hex } from '../backend/node-files.ts';
import { textConditioning } from '../manifest/conditioning.ts';
import { latentDims, latentSize as latentSizeOf } from '../manifest/types.ts';
import { encodePrompts } from '../runtime/prompts.ts';
import { evaluationCases, generateAll, type FidelityOptions, type PolicyUnderTest } from '../bench/fidelity.ts';
import type { SpeedRow } from '../bench/speed.ts';
import { speedJobs, timeRowsApart } from './bench-speed.ts';
import { headline, rowsMarkdown, speedVerdict, type BenchRow } from '../bench/report.ts';
import { qualitySpeedSvg } from '../bench/chart.ts';
import { readPromptList } from '../node/calibration-prompts.ts';
import { FULL_OUT, QUICK_OUT, type BenchArgs } from './bench-args.ts';
import { policiesAt, timedPolicies } from './bench.ts';

/** Text models are benchmarked at the steps the budgets 34 / 25 / 17 are of (evaluation.md). */
export const TEXT_BENCH_STEPS = 50;

/** One row with the text-model columns (latent PSNR, concept agreement) besides the common ones. */
export interface TextBenchRow extends BenchRow {
  /** PSNR of the final latent (range [−1, 1] as in calibration), dB. */
  latentPsnr: number;
  /** Share of samples whose argmax concept equals the full-compute image's. */
  conceptAgreement: number | null;
}

export interface TextBenchReport {
  kind: 'text';
  rows: TextBenchRow[];
  speed: SpeedRow[];
  date: string;
  command: string;
  model: string;
  modelHash: string;
  steps: number;
  guidance: number;
  prompts: number;
  seedsPerPrompt: number;
  cases: number;
  classifier: string | null;
  threads: number;
  /** The decoded image, e.g. '64×64', or a video's clip, e.g. '4×32×32' (frames × height × width). */
  image: string;
}

/** True when the model directory's manifest is text-conditioned (read without loading graphs). */
export async function isTextModel(dir: string): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { conditioning?: { type?: string } };
    return m.conditioning?.type === 'text';
  } catch {
    return false; // the class path reports the missing or bad manifest with its own error
  }
}

/** Where a text model's report goes: bench/<name>/ (or bench/<name>/quick) unless --out was given. */
export function textBenchOut(args: BenchArgs, name: string): string {
  if (args.out === FULL_OUT) return join(FULL_OUT, name);
  if (args.out === QUICK_OUT) return join(FULL_OUT, name, 'quick');
  // --steps n: bench/steps-<n> (or bench/quick/steps-<n>) → bench/<name>/steps-<n> (…/quick/steps-<n>)
  if (args.steps !== undefined && args.out === `${FULL_OUT}/steps-${args.steps}`) return join(FULL_OUT, name, `steps-${args.steps}`);
  if (args.steps !== undefined && args.out === `${QUICK_OUT}/steps-${args.steps}`) return join(FULL_OUT, name, 'quick', `steps-${args.steps}`);
  return args.out;
}

interface ImageClassifier {
  name: string;
  /** Values per input image (3·H·W). */
  imageSize: number;
  /** Images [n, 3, H, W] in [−1, 1] → argmax category and concept per image. */
  classify(images: Float32Array, n: number): Promise<{ category: Int32Array; concept: Int32Array | null }>;
  release(): Promise<void>;
}

interface ClassifierManifest {
  name: string;
  file: string;
  sha256: string;
  inputs: { image: { shape: (number | string)[] } };
  outputs: Record<string, { shape: (number | string)[] }>;
}

/** The text model's evaluation classifier (a category head, optionally a concept head), or null when absent. */
async function loadImageClassifier(dir: string): Promise<ImageClassifier | null> {
  let man: ClassifierManifest;
  try {
    man = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ClassifierManifest;
  } catch {
    return null;
  }
  if (!man.outputs['category']) {
    throw new DiffusionError('MANIFEST_FIELD_INVALID', `${dir}/manifest.json has no "category" output`,
      'pass --classifier with an image classifier of categories (public/models/emoji-classifier, tools/emoji/export.py)');
  }
  const bytes = new Uint8Array(await readFile(join(dir, man.file)));
  if (sha256Hex(bytes) !== man.sha256) {
    throw new DiffusionError('MODEL_FILE_HASH_MISMATCH', `${man.file} does not match its manifest`, 're-export the classifier with tools/emoji/export.py');
  }
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const dims = man.inputs.image.shape.slice(1).map(Number);
  const categories = Number(man.outputs['category'].shape[1]);
  const concepts = man.outputs['concept'] ? Number(man.outputs['concept'].shape[1]) : 0;
  return {
    name: man.name,
    imageSize: dims.reduce((p, d) => p * d, 1),
    async classify(images, n) {
      const out = await session.run({ image: new ort.Tensor('float32', images, [n, ...dims]) });
      return {
        category: argmaxRows(out['category']!.data as Float32Array, categories),
        concept: concepts ? argmaxRows(out['concept']!.data as Float32Array, concepts) : null,
      };
    },
    release: () => session.release(),
  };
}

const agreement = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let k = 0;
  for (let i = 0; i < a.length; i++) k += a[i] === b[i] ? 1 : 0;
  return a.length ? k / a.length : 0;
};

/** Decode every latent of a run to RGB [n, 3, H', W'] (a video: [n, 3, F, H', W']; the VAE decoder, one sample at a time). */
async function decodeAll(model: NodeModel, latents: Float32Array, n: number): Promise<Float32Array> {
  const per = latentSizeOf(model.manifest.latent);
  const parts: Float32Array[] = [];
  for (let k = 0; k < n; k++) {
    const x = model.ops.fromHost(latents.slice(k * per, (k + 1) * per), [1, ...latentDims(model.manifest.latent)]);
    try {
      parts.push(await model.pipeline!.decode(x));
    } finally {
      model.ops.dispose(x);
    }
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.forEach((p, k) => out.set(p, k * p.length));
  return out;
}

export async function runTextBench(args: BenchArgs, argv: readonly string[], log: (m: string) => void): Promise<TextBenchReport> {
  const model = await loadNodeModel(args.model);
  const classifierDir = args.classifier === 'public/models/mnist-classifier' ? 'public/models/emoji-classifier' : args.classifier;
  let clf = await loadImageClassifier(classifierDir);
  try {
    const m = model.manifest;
    const { conditioning } = textConditioning(m, 'the bench');
    if (!m.evaluationPrompts) {
      throw new DiffusionError('MANIFEST_FIELD_INVALID', `${m.name} lists no evaluationPrompts`,
        'add an evaluation prompt list to the manifest (evaluationPrompts: a JSON array file beside it)');
    }
    const prompts = await readPromptList(join(args.model, m.evaluationPrompts), 'evaluationPrompts');
    const steps = args.steps ?? TEXT_BENCH_STEPS;
    const enc = await encodePrompts({ tokenizer: model.tokenizer!, graphs: model.pipeline!, modelHash: m.modelHash },
      [...prompts, conditioning.defaultNegativePrompt]);
    const denoiser = model.pipeline!.bind(enc.rows);
    const policies: PolicyUnderTest[] = [];
    for (const b of args.budgets) policies.push(...(await policiesAt(model, steps, b, !args.quick, log)));
    const cases = evaluationCases(prompts.length, args.seedsPerClass);
    const xDims = [1, ...latentDims(m.latent)]; // [1, C, H, W], or a video's [1, C, F, H, W]
    const o: FidelityOptions<NodeTensor> = {
      denoiser, ops: model.ops, sigmas: flowMatchSigmas(steps, m.scheduler.shift), guidance: m.scheduler.defaultGuidance,
      nullLabel: prompts.length, xDims, cases, policies,
    };
    const n = cases.length;
    const latentSize = latentSizeOf(m.latent);
    // The decoded image [3, H, W], or a clip [3, F, H, W]: planar, so SSIM reads it as 3·F planes of H × W.
    const { height: imgH, width: imgW, frames } = m.image;
    const planes = 3 * (frames ?? 1);
    log(`bench: ${m.name}, ${prompts.length} evaluation prompts × ${args.seedsPerClass} seed(s), ${steps} steps: full compute`);
    const ref = await generateAll(o, () => createPolicy('none'));
    const refImages = await decodeAll(model, ref.images, n);
    const imageSize = refImages.length / n;
    if (imageSize !== planes * imgH * imgW) {
      throw new DiffusionError('GRAPH_SPEC_MISMATCH', `${m.name}'s VAE decoder gave ${imageSize} values per sample, its manifest says ${planes / 3 > 1 ? `${planes / 3}×` : ''}3×${imgH}×${imgW}`,
        'fix components.vaeDecoder.graph.outputs in manifest.json (or re-import the model)');
    }
    if (clf && clf.imageSize !== imageSize) {
      log(`bench: ${classifierDir} takes ${clf.imageSize} values per image, ${m.name} decodes ${imageSize}: no category agreement`);
      await clf.release();
      clf = null;
    }
    if (!clf) log(`bench: no evaluation classifier for ${m.name} (--classifier): category agreement not measured`);
    const refClass = clf ? await clf.classify(refImages, n) : null;
    const rows: TextBenchRow[] = [{
      policy: 'none', provider: 'onnxruntime-node', steps, budget: null, computedSteps: ref.computed, speedup: 1, idealSpeedup: 1,
      psnr: Infinity, ssim: 1, latentPsnr: Infinity, classAccuracy: clf ? 1 : null, conceptAgreement: refClass?.concept ? 1 : null, fd: null,
    }];
    for (const p of policies) {
      log(`fidelity: ${p.policy} budget ${p.budget}`);
      const run = await generateAll(o, p.create);
      const images = await decodeAll(model, run.images, n);
      let ps = 0;
      let ss = 0;
      let lp = 0;
      for (let k = 0; k < n; k++) {
        const a = toUnitRange(images.subarray(k * imageSize, (k + 1) * imageSize));
        const b = toUnitRange(refImages.subarray(k * imageSize, (k + 1) * imageSize));
        ps += Math.min(psnr(a, b), 100);
        ss += ssim(a, b, imgW, imgH, { channels: planes });
        lp += Math.min(psnr(toUnitRange(run.images.subarray(k * latentSize, (k + 1) * latentSize)),
          toUnitRange(ref.images.subarray(k * latentSize, (k + 1) * latentSize))), 100);
      }
      const cls = clf ? await clf.classify(images, n) : null;
      rows.push({
        policy: p.policy, provider: 'onnxruntime-node', steps, budget: p.budget, computedSteps: run.computed,
        speedup: null, idealSpeedup: null, psnr: ps / n, ssim: ss / n, latentPsnr: lp / n,
        classAccuracy: cls && refClass ? agreement(cls.category, refClass.category) : null,
        conceptAgreement: cls?.concept && refClass?.concept ? agreement(cls.concept, refClass.concept) : null, fd: null,
      });
    }
    // Timing on single-threaded sessions of their own, each row in a fresh process (as the class
    // bench, bench-speed.ts): the transformer loop (prompt encoding and VAE decoding are the same
    // for every policy and left out).
    const speed = await timeRowsApart(speedJobs(timedPolicies(policies, args),
      { model: args.model, steps, variants: !args.quick, threads: args.threads, repeats: args.repeats }), log);
    for (const r of rows) {
      const s = speed.find((x) => x.policy === r.policy && x.budget === r.budget);
      if (s) Object.assign(r, { speedup: s.speedup, idealSpeedup: s.idealSpeedup, ...(s.efficiencyCi ? { efficiencyCi: s.efficiencyCi } : {}) });
    }
    const report: TextBenchReport = {
      kind: 'text', rows, speed, date: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`.trim(),
      model: m.name, modelHash: m.modelHash, steps, guidance: m.scheduler.defaultGuidance, prompts: prompts.length,
      seedsPerPrompt: args.seedsPerClass, cases: n, classifier: clf?.name ?? null, threads: args.threads,
      image: `${frames !== undefined ? `${frames}×` : ''}${imgH}×${imgW}`,
    };
    const out = textBenchOut(args, m.name);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'results.json'), `${JSON.stringify(report, null, 1)}\n`);
    await writeFile(join(out, 'report.md'), textBenchMarkdown(report));
    await writeFile(join(out, 'chart.svg'), qualitySpeedSvg(rows, `${m.name}: PSNR (decoded image) vs speedup, ${steps} steps, onnxruntime-node (${report.date.slice(0, 10)})`));
    log(`bench: wrote ${out}/results.json, report.md, chart.svg`);
    return report;
  } finally {
    await clf?.release();
    await model.release();
  }
}

const fmt = (v: number | null, d: number) => (v === null ? '–' : Number.isFinite(v) ? v.toFixed(d) : '∞');
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(0)} %`);

/** The text model's report: the common tables (PSNR on the decoded image) and the latent/concept columns. */
export function textBenchMarkdown(r: TextBenchReport): string {
  const timed = r.speed.map((x) => ({ ...x, pairs: x.pairMs?.length }));
  const budgets = [...new Set(r.rows.filter((x) => x.budget !== null).map((x) => x.budget!))];
  const ref = r.rows.find((x) => x.budget === null)!;
  const extra = budgets.map((b) => [`### Budget ${b} of ${r.steps}: latent PSNR and concept agreement`, '',
    '| policy | computed steps | PSNR image (dB) | PSNR latent (dB) | SSIM | category agreement | concept agreement |', '|---|---|---|---|---|---|---|',
    ...[ref, ...r.rows.filter((x) => x.budget === b)].map((x) => `| ${x.policy} | ${fmt(x.computedSteps, 1)} / ${r.steps} | ${fmt(x.psnr, 2)} | `
      + `${fmt(x.latentPsnr, 2)} | ${fmt(x.ssim, 4)} | ${pct(x.classAccuracy)} | ${pct(x.conceptAgreement)} |`)].join('\n')).join('\n\n');
  return `# Benchmark: ${r.model}, every policy against full compute\n\n`
    + `Made by \`${r.command}\` on ${r.date.slice(0, 10)} (modelHash ${r.modelHash.slice(0, 12)}…): ${r.steps} steps, guidance ${r.guidance}, `
    + `${r.cases} samples (${r.prompts} evaluation prompts × ${r.seedsPerPrompt} seed(s) from 1000; never the calibration prompts). `
    + `PSNR/SSIM against the full-compute image of the same prompt and seed, **on the decoded ${r.image} RGB ${r.image.split('×').length > 2 ? 'clip (frames × height × width; every frame counts)' : 'image'}** (the latent PSNR, `
    + 'the space calibration measures in, is in the second table). "class acc." is here the share of samples whose category under '
    + `the evaluation classifier (${r.classifier ?? 'none'}) equals the full-compute image's; FD is not measured. `
    + 'Speedup: wall clock of `none` / the policy over the transformer loop (prompt encoding and VAE decoding, the same for every '
    + `policy, left out), interleaved A/B, median (onnxruntime-node, ${r.threads} intra-op thread${r.threads === 1 ? '' : 's'}).\n\n`
    + `${headline(r.rows)}\n\n![quality vs speedup](chart.svg)\n\n${rowsMarkdown(r.rows, r.steps)}\n\n${extra}\n`
    + (timed.length ? `\n## Speed against the ideal\n\n${speedVerdict(`onnxruntime-node, ${r.steps} steps`, timed)}\n` : '');
}
