// The demo page: type a prompt (or pick a digit for a class model) and settings, watch frames form, see which steps were computed
// and which reused, and compare against the uncached run. Plain DOM; the runtime does the work.

// Registers <erta-diffusion> for the "Use it in your page" example.
import '../element/define.ts';
import { downloadBlob, frameToPng } from '../element/pixels.ts';
import { DEFAULT_FPS } from '../element/player.ts';
import { assembleApng } from '../core/apng.ts';
import { DEFAULT_MODEL } from '../element/options.ts';
import type { GenerateResult, ModelInfo } from '../runtime/api.ts';
import { loadBenchResults } from './bench-data.ts';
import { renderBenchChart, renderBenchPending } from './chart.ts';
import { compareResults, renderComparison } from './compare.ts';
import { renderError, toTypedError } from './errors.ts';
import { heatLegendGradient } from './heatmap.ts';
import { byId, showNotice, summarizeRun } from './page.ts';
import { fillModelPicker } from './models.ts';
import { DemoRunner, describeProvider } from './runner.ts';
import { renderStoredModels } from './stored-models.ts';
import { SettingsForm } from './settings.ts';
import type { DemoSettings } from './settings.ts';
import { createTimeline } from './timeline.ts';
import type { Timeline } from './timeline.ts';

const query = new URLSearchParams(location.search);
/** ?model= points the page at another manifest (relative to the page, so it works under a sub-path). */
let modelUrl = new URL(query.get('model') ?? DEFAULT_MODEL, location.href).href;
/** ?preview=k: a frame every k steps (each one a read-back on WebGPU); 0 = final image only. */
const PREVIEW_EVERY = Math.max(0, Number(query.get('preview') ?? 1) || 0);

const form = new SettingsForm(query.get('policy') ?? 'ertacache');
fillModelPicker(form.model, modelUrl, location.href);
const runner = new DemoRunner();
const messages = byId('messages');
const el = {
  generate: byId<HTMLButtonElement>('generate'), cancel: byId<HTMLButtonElement>('cancel'),
  download: byId<HTMLButtonElement>('download'), calibrate: byId<HTMLButtonElement>('calibrate'), modelStatus: byId('model-status'),
  loadProgress: byId<HTMLProgressElement>('load-progress'), runStatus: byId('run-status'),
  mainCanvas: byId<HTMLCanvasElement>('main-canvas'), mainCaption: byId('main-caption'),
  refFigure: byId('ref-figure'), refCanvas: byId<HTMLCanvasElement>('ref-canvas'),
  diffFigure: byId('diff-figure'), diffCanvas: byId<HTMLCanvasElement>('diff-canvas'),
  table: byId<HTMLTableElement>('compare-table'), timelines: byId('timelines'),
  details: byId<HTMLDetailsElement>('run-details'), stats: byId('run-stats'),
};
let model: ModelInfo | null = null;
let last: GenerateResult | null = null;

function applyQuery(): void {
  for (const key of ['seed', 'steps', 'guidance', 'provider'] as const) {
    const v = query.get(key);
    if (v !== null) form.choose(form[key], v);
  }
  if (query.get('compare') === '1') form.compare.checked = true;
  const budget = query.get('budget');
  if (budget !== null) form.choose(form.budget, budget);
  const prompt = query.get('prompt');
  if (prompt !== null) form.prompt.value = prompt;
  const digit = query.get('digit');
  if (digit !== null) document.querySelector<HTMLInputElement>(`#digit-${CSS.escape(digit)}`)?.click();
}

function labelledTimeline(title: string): Timeline {
  const t = createTimeline();
  const h = document.createElement('h3');
  h.textContent = title;
  t.element.prepend(h);
  return t;
}

/** The chart is the loaded model's committed bench results; null while none is loaded. */
function showBench(modelName: string | null): void {
  byId('bench-chart').replaceChildren(modelName === null ? renderBenchPending() : renderBenchChart(loadBenchResults(modelName)));
}

async function loadModel(): Promise<ModelInfo | null> {
  const provider = form.read().provider;
  el.generate.disabled = true;
  el.loadProgress.hidden = false;
  el.modelStatus.textContent = `Loading model (${provider})…`;
  showBench(null);
  try {
    const info = await runner.load(modelUrl, provider, (loaded, total) => {
      el.loadProgress.value = total > 0 ? loaded / total : 0;
      el.modelStatus.textContent = `Downloading model: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
    });
    model = info;
    form.setModel(info);
    showBench(info.name);
    const embed = document.getElementById('embed');
    embed?.setAttribute('model', modelUrl); // the embed example uses the same model and provider
    if (info.conditioning === 'text') {
      embed?.removeAttribute('label');
      embed?.setAttribute('prompt', form.prompt.value);
    } else {
      embed?.removeAttribute('prompt');
    }
    embed?.setAttribute('provider', provider);
    const p = describeProvider(info);
    el.modelStatus.textContent = p.text;
    el.modelStatus.dataset.provider = info.provider.used;
    if (p.wasmNote) showNotice(messages, p.wasmNote, 'wasm-fallback');
    for (const note of [...info.provider.notes, ...info.warnings]) showNotice(messages, note, 'runtime-note');
    void refreshStored();
    return info;
  } catch (e) {
    model = null;
    showBench(null);
    el.modelStatus.textContent = 'The model could not be loaded (see the message above).';
    messages.append(renderError(toTypedError(e)));
    return null;
  } finally {
    el.loadProgress.hidden = true;
    el.generate.disabled = false;
    el.calibrate.disabled = false;
  }
}

async function generate(s: DemoSettings): Promise<void> {
  if (model === null && (await loadModel()) === null) return;
  // a video's clip [3, F, H, W] is compared as one image F·H high (its frames stacked)
  const { width } = model!.image;
  const height = model!.image.height * (model!.image.frames ?? 1);
  const text = model!.conditioning === 'text';
  const what = text ? `"${s.prompt}"` : `digit ${s.label}`;
  const conditioning = text
    ? { prompt: s.prompt, ...(s.negativePrompt !== '' ? { negativePrompt: s.negativePrompt } : {}) }
    : { label: s.label };
  const request = { ...conditioning, seed: s.seed, steps: s.steps, guidance: s.guidance, previewEvery: PREVIEW_EVERY };
  const cachedTimeline = labelledTimeline(s.compare ? `${s.policy.kind}` : `${s.policy.kind}, ${what}, seed ${s.seed}`);
  const refTimeline = labelledTimeline('none (reference)');
  el.timelines.replaceChildren(cachedTimeline.element, ...(s.compare ? [refTimeline.element] : []));
  el.refFigure.hidden = !s.compare;
  el.diffFigure.hidden = true;
  el.table.hidden = true;
  el.mainCaption.textContent = s.policy.kind;
  el.runStatus.textContent = `Generating ${what} (seed ${s.seed})…`;
  // The cached run goes first: any first-run warm-up then counts against caching, never for it.
  const cached = await runner.run({ ...request, policy: s.policy }, { canvas: el.mainCanvas, timeline: cachedTimeline });
  last = cached;
  el.download.disabled = false;
  el.mainCanvas.setAttribute('aria-label', `Generated ${what}, seed ${s.seed}, policy ${s.policy.kind}`);
  const runs: Record<string, unknown> = { cached: cached.stats };
  if (s.compare) {
    el.runStatus.textContent = 'Now the uncached reference, same seed…';
    const ref = await runner.run({ ...request, policy: { kind: 'none' } }, { canvas: el.refCanvas, timeline: refTimeline });
    const c = compareResults(ref, cached, width, height, el.diffCanvas);
    el.diffFigure.hidden = false;
    renderComparison(el.table, c, s.policy.kind);
    runs.reference = ref.stats;
  }
  el.runStatus.textContent = summarizeRun(cached);
  el.stats.textContent = JSON.stringify(runs, null, 2);
  el.details.hidden = false;
}

form.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (runner.running || !form.form.reportValidity()) return;
  for (const box of messages.querySelectorAll('.error, .notice')) box.remove();
  el.generate.disabled = true;
  el.cancel.disabled = false;
  form.provider.disabled = true; // a reload while a run is going would be refused (BUSY)
  form.model.disabled = true;
  generate(form.read())
    .catch((err: unknown) => {
      const typed = toTypedError(err);
      if (typed.code === 'DEVICE_LOST' || typed.code === 'NOT_LOADED') {
        model = null;
        runner.forget();
      }
      el.runStatus.textContent = typed.code === 'CANCELLED' ? 'Cancelled.' : 'Generation failed (see the message above).';
      messages.append(renderError(typed));
    })
    .finally(() => {
      el.generate.disabled = false;
      el.cancel.disabled = true;
      form.provider.disabled = false;
      form.model.disabled = false;
    });
});
/**
 * Calibrate: a quick plan for the chosen steps, policy (ertacache when it needs no plan) and
 * budget (half the steps when none is listed), fitted in the worker on 1 seed × 4 classes (or
 * the model's calibration prompts), no forecast; kept in IndexedDB and offered in the budget list.
 */
async function calibrate(s: DemoSettings): Promise<void> {
  if (model === null && (await loadModel()) === null) return;
  const m = model!;
  const planKinds = ['ertacache', 'teacache', 'magcache', 'easycache'] as const;
  const policy = planKinds.find((k) => s.policy.kind === k || s.policy.kind.startsWith(`${k}-`)) ?? 'ertacache';
  const budget = s.policy.budget ?? Math.max(2, Math.round(s.steps / 2));
  el.runStatus.textContent = `Calibrating ${policy} for ${s.steps} steps, ${budget} computed…`;
  const r = await runner.calibrate({
    steps: s.steps, budget, policy, guidance: s.guidance, seeds: [0], forecast: false, evaluate: false,
    ...(m.conditioning === 'class' ? { labels: Array.from({ length: Math.min(4, m.classes) }, (_, k) => k) } : {}),
  }, (e) => {
    el.runStatus.textContent = e.phase === 'profile'
      ? `Calibrating: profiling, transformer pass ${e.passes} of ${e.profileSteps}…`
      : e.phase === 'store' ? `Calibrating: storing the plan (${e.passes} transformer passes)…`
        : `Calibrating: searching (${e.passes} transformer passes)…`;
  });
  // The worker lists the new plan first; this page's copy of the model info follows.
  m.plans = [r.entry, ...m.plans.filter((p) => p.file !== r.entry.file)];
  form.setModel(m);
  form.choose(form.budget, String(budget));
  el.runStatus.textContent = `Calibrated ${policy}: ${r.computedSteps} of ${s.steps} steps computed`
    + `${r.reuse ? `, reusing steps ${r.reuse.join(', ')}` : ''} (${(r.ms / 1000).toFixed(1)} s, ${r.passes} passes${r.stored ? ', stored in this browser' : ''}).`;
}

el.calibrate.addEventListener('click', () => {
  if (runner.running || !form.form.reportValidity()) return;
  for (const box of messages.querySelectorAll('.error, .notice')) box.remove();
  el.generate.disabled = true;
  el.calibrate.disabled = true;
  el.cancel.disabled = false;
  calibrate(form.read())
    .catch((err: unknown) => {
      const typed = toTypedError(err);
      el.runStatus.textContent = typed.code === 'CANCELLED' ? 'Calibration cancelled: nothing was stored.' : 'Calibration failed (see the message above).';
      if (typed.code !== 'CANCELLED') messages.append(renderError(typed));
    })
    .finally(() => {
      el.generate.disabled = false;
      el.calibrate.disabled = false;
      el.cancel.disabled = true;
    });
});
el.cancel.addEventListener('click', () => void runner.cancel());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && runner.running) void runner.cancel();
});
form.provider.addEventListener('change', () => {
  model = null;
  void loadModel();
});
form.model.addEventListener('change', () => {
  if (runner.running) return;
  modelUrl = form.model.value;
  model = null;
  void loadModel();
});
el.download.addEventListener('click', () => {
  if (last === null) return;
  const s = form.read();
  const name = model?.conditioning === 'text' ? 'prompt' : `digit${s.label}`;
  const file = `erta-${name}-seed${s.seed}-${last.stats.policy}.png`;
  const frames = last.frames;
  if (!frames || frames.length < 2) {
    void frameToPng(last.frame).then((png) => downloadBlob(png, file));
    return;
  }
  // a video model's clip: every frame, as one looping animated PNG at the player's rate (the CLI's APNG assembler)
  void Promise.all(frames.map(async (f) => new Uint8Array(await (await frameToPng(f)).arrayBuffer())))
    .then((pngs) => downloadBlob(new Blob([assembleApng(pngs, DEFAULT_FPS)], { type: 'image/png' }), file));
});

/** The "Stored models" list; deleting the loaded model makes the next load download it again. */
const stored = byId<HTMLDetailsElement>('stored-models');
const refreshStored = () => renderStoredModels(byId('stored-list'), {
  cachedModels: () => runner.cachedModels(),
  deleteCachedModel: async (url) => {
    const n = await runner.deleteCachedModel(url);
    if (url === modelUrl) runner.forget();
    return n;
  },
});
stored.addEventListener('toggle', () => { if (stored.open) void refreshStored(); });

byId('heat-legend').style.background = heatLegendGradient();
showBench(null);
applyQuery();
void loadModel();
