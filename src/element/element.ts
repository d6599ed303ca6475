// <erta-diffusion>: attributes → runtime calls, a canvas, events, CSS parts. No diffusion logic
// and no side effect here (define.ts registers the tag), so the class can be imported, extended
// or registered under another name.

import { RuntimeError, type CalibrateResult, type GenerateEvent, type GenerateResult, type LoadEvent, type ModelInfo, type PreviewEvent } from '../runtime/api.ts';
import { emit, toErrorDetail } from './events.ts';
import { AttributeError, DEFAULT_OPTIONS, OBSERVED_ATTRIBUTES, formatAttribute, readOptions } from './options.ts';
import type { ElementOptions, ObservedAttribute, ProviderChoice } from './options.ts';
import { FramePlayer } from './player.ts';
import { RuntimeSession } from './session.ts';
import type { RuntimeConnection, SessionHooks } from './session.ts';
import { buildShadow, PROMPT_PLACEHOLDER } from './template.ts';
import type { ShadowParts } from './template.ts';
import { bindControls, describeResult, setBusy, setClasses, setStatus, showPromptField } from './view.ts';
import { createDiffusionWorker, createRuntimeClient } from '../client/runtime-client.ts';
import { defaultPrompt, requestPrompt, toCalibrateRequest, toRequest, type ElementCalibrateOptions } from './request.ts';

/** The model attribute as an absolute http(s) URL (no data:, javascript:, blob: …), or AttributeError. */
function modelUrlOf(model: string, base: string): string {
  const hint = 'use the URL of a manifest.json: a path relative to the page, or an http(s) URL';
  let url: URL;
  try {
    url = new URL(model, base);
  } catch {
    throw new AttributeError('model', model, hint);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AttributeError('model', model, hint);
  return url.href;
}

export class ErtaDiffusionElement extends HTMLElement {
  static readonly observedAttributes = OBSERVED_ATTRIBUTES;

  readonly #parts: ShadowParts;
  readonly #session = new RuntimeSession(() => this.createConnection());
  #model: ModelInfo | null = null;
  #result: GenerateResult | null = null;
  readonly #player: FramePlayer;

  constructor() {
    super();
    this.#parts = buildShadow(this.attachShadow({ mode: 'open' }));
    this.#player = new FramePlayer(this.#parts.canvas);
    bindControls(this, this.#parts);
  }

  /**
   * The worker connection; override to inject a runtime (tests, a shared worker). Termination is
   * immediate (worker.terminate), not the client's dispose-then-terminate: a removed element
   * must not keep a busy worker alive until its current step finishes.
   */
  protected createConnection(): RuntimeConnection {
    let worker: Worker;
    try {
      worker = createDiffusionWorker();
    } catch (e) {
      throw new RuntimeError('WORKER_BLOCKED', `the diffusion worker could not start: ${e instanceof Error ? e.message : String(e)}`,
        "allow the element's worker script: add 'self' (or the script's origin) to worker-src in the page's "
          + 'Content-Security-Policy (README, "Content Security Policy")');
    }
    // ort-base-url: where ONNX Runtime's .wasm/.mjs are (read when the worker starts).
    const ortBaseUrl = this.getAttribute('ort-base-url') ?? undefined;
    return { api: createRuntimeClient({ worker, ...(ortBaseUrl ? { ortBaseUrl } : {}) }), terminate: () => worker.terminate() };
  }

  connectedCallback(): void {
    this.#syncControls();
  }

  disconnectedCallback(): void {
    // A move within the document disconnects and reconnects in one task: keep the worker then.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#session.close(); // a running generate() rejects with CANCELLED
      this.#model = null;
      this.#player.stop();
    });
  }

  attributeChangedCallback(name: ObservedAttribute): void {
    if (name === 'controls' || name === 'label' || name === 'seed' || name === 'prompt') this.#syncControls();
    if (name === 'fps') this.#player.setFps(this.fps);
  }

  // ── properties (each reflects its attribute) ───────────────────────────────────────────
  get model(): string { return this.getAttribute('model') ?? DEFAULT_OPTIONS.model; }
  set model(v: string) { this.#set('model', v); }
  get label(): number { return this.#int('label') ?? 0; }
  set label(v: number) { this.#set('label', v); }
  /** Text models: what to draw (reflects the prompt attribute; null removes it). */
  get prompt(): string | null { return this.getAttribute('prompt'); }
  set prompt(v: string | null) { this.#set('prompt', v); }
  /** Text models: the negative prompt (reflects negative-prompt; null = the model's default). */
  get negativePrompt(): string | null { return this.getAttribute('negative-prompt'); }
  set negativePrompt(v: string | null) { this.#set('negative-prompt', v); }
  get seed(): number { return this.#int('seed') ?? DEFAULT_OPTIONS.seed; }
  set seed(v: number) { this.#set('seed', v); }
  get steps(): number | null { return this.#int('steps'); }
  set steps(v: number | null) { this.#set('steps', v); }
  get policy(): string { return this.getAttribute('policy') ?? DEFAULT_OPTIONS.policy; }
  set policy(v: string) { this.#set('policy', v); }
  get budget(): number | null { return this.#int('budget'); }
  set budget(v: number | null) { this.#set('budget', v); }
  get guidance(): number | null { return this.#num('guidance'); }
  set guidance(v: number | null) { this.#set('guidance', v); }
  /** `embedded-guidance`: guidance-distilled models' guidance scale (GenerateRequest.embeddedGuidance). */
  get embeddedGuidance(): number | null { return this.#num('embedded-guidance'); }
  set embeddedGuidance(v: number | null) { this.#set('embedded-guidance', v); }
  get provider(): ProviderChoice { return (this.getAttribute('provider') as ProviderChoice | null) ?? DEFAULT_OPTIONS.provider; }
  set provider(v: ProviderChoice) { this.#set('provider', v); }
  get previewEvery(): number { return this.#int('preview-every') ?? DEFAULT_OPTIONS.previewEvery; }
  set previewEvery(v: number) { this.#set('preview-every', v); }
  get controls(): boolean { return this.hasAttribute('controls'); }
  set controls(v: boolean) { this.toggleAttribute('controls', v); }
  /** Video models: frames per second of the clip's loop (reflects fps; 0 stays on the first frame; default 8). */
  get fps(): number {
    const v = this.#num('fps');
    return v !== null && v >= 0 && v <= 120 ? v : DEFAULT_OPTIONS.fps;
  }
  set fps(v: number) { this.#set('fps', v); }
  /** Index of the clip's frame on the canvas (a video model's loop advances it; 0 for an image, −1 before any). */
  get frameIndex(): number { return this.#player.index; }

  /** Info about the loaded model (null before the first load). */
  get modelInfo(): ModelInfo | null { return this.#model; }
  /** The last finished generation (null before the first). */
  get result(): GenerateResult | null { return this.#result; }
  /** True while a generation (or the model load before it) is in progress. */
  get running(): boolean { return this.#session.runningJobId !== null; }
  /** True once the lazily created worker exists. */
  get workerStarted(): boolean { return this.#session.connected; }

  /** Generate with the current attributes. Resolves with the result; rejects with a typed error. */
  async generate(): Promise<GenerateResult> {
    const { o, modelUrl } = this.#begin();
    try {
      const { result, model } = await this.#session.generate(modelUrl, o.provider, (m) => toRequest(o, m), this.#hooks(o));
      this.#model = model;
      this.#result = result;
      this.#player.show(result.frames ?? [result.frame], this.fps);
      const prompt = requestPrompt(o, model);
      const what = prompt !== null ? `"${prompt}"` : `class ${o.label ?? 0}`;
      const kind = result.frames ? `${result.frames.length}-frame clip` : 'image';
      this.#parts.canvas.setAttribute('aria-label', `Generated ${kind} of ${what}, seed ${o.seed}`);
      emit(this, 'erta-frame', { jobId: result.jobId, i: result.stats.steps - 1, final: true, frame: result.frame,
        ...(result.frames ? { frames: result.frames } : {}) });
      emit(this, 'erta-done', { jobId: result.jobId, result, stats: result.stats, model, provider: model.provider });
      setStatus(this.#parts, describeResult(result, model));
      return result;
    } catch (e) {
      throw this.#fail(e);
    } finally {
      setBusy(this.#parts, this.running);
    }
  }

  /**
   * Fit a plan for the element's model in its worker (api.calibrate): by default for its steps,
   * its policy's plan kind and its budget (half the steps when none is set); `options` overrides
   * any of them and may carry an AbortSignal. Emits erta-calibration (progress) and
   * erta-calibrated; the plan is kept in IndexedDB and the next generate() with that policy,
   * steps and budget uses it. Like generate(), a newer generate()/calibrate() cancels it.
   */
  async calibrate(options: ElementCalibrateOptions = {}): Promise<CalibrateResult> {
    const { o, modelUrl } = this.#begin();
    const hooks = this.#hooks(o);
    try {
      const { result, model } = await this.#session.calibrate(modelUrl, o.provider, (m) => toCalibrateRequest(o, m, options), {
        onLoad: hooks.onLoad,
        onModel: (info) => { hooks.onModel?.(info); setStatus(this.#parts, 'Calibrating…'); },
        onCalibration: (e) => {
          const { type: _type, ...detail } = e;
          this.#parts.progress.value = Math.min(1, e.passes / Math.max(1, e.profileSteps));
          emit(this, 'erta-calibration', detail);
        },
      }, options.signal);
      // The worker lists the new plan first (ModelInfo.plans); keep this copy of the info in step.
      const e = result.entry;
      model.plans = [e, ...model.plans.filter((p) => p.file !== e.file && !(p.kind === e.kind && p.steps === e.steps
        && p.budget === e.budget && (p.space ?? 'output') === (e.space ?? 'output')))];
      this.#model = model;
      emit(this, 'erta-calibrated', { jobId: result.jobId, result, model });
      setStatus(this.#parts, `Calibrated ${result.entry.kind}: ${result.computedSteps} of ${result.entry.steps} steps computed`
        + `${result.reuse ? `, reuse [${result.reuse.join(', ')}]` : ''} (${(result.ms / 1000).toFixed(1)} s${result.stored ? ', stored' : ''}).`);
      return result;
    } catch (e) {
      throw this.#fail(e);
    } finally {
      setBusy(this.#parts, this.running);
    }
  }

  /** Stop the running generation; its generate() promise rejects with code CANCELLED. */
  async cancel(): Promise<void> {
    await this.#session.cancel();
  }

  /** The attributes read and checked (an attribute error fails like a run), then the busy state. */
  #begin(): { o: ElementOptions; modelUrl: string } {
    let o: ElementOptions;
    let modelUrl: string;
    try {
      o = readOptions((n) => this.getAttribute(n));
      modelUrl = modelUrlOf(o.model, document.baseURI);
    } catch (e) {
      throw this.#fail(e instanceof AttributeError ? { code: e.code, message: e.message, hint: e.hint } : e);
    }
    setBusy(this.#parts, true);
    setStatus(this.#parts, 'Loading model…');
    return { o, modelUrl };
  }

  #hooks(o: ElementOptions): SessionHooks {
    let steps = o.steps ?? 0;
    let pending: PreviewEvent | null = null;
    const files = new Map<string, { loaded: number; total: number }>();
    const totals = () => [...files.values()].reduce((a, f) => ({ loaded: a.loaded + f.loaded, total: a.total + f.total }),
      { loaded: 0, total: 0 });
    return {
      onLoad: (e: LoadEvent) => {
        if (e.type !== 'download') return;
        files.set(e.file, { loaded: e.loaded, total: e.total });
        const t = totals();
        this.#parts.progress.value = t.total > 0 ? t.loaded / t.total : 0;
        emit(this, 'erta-progress', { phase: 'download', file: e.file, ...t, fromCache: e.fromCache });
      },
      onModel: (info: ModelInfo) => {
        const fresh = this.#model !== info;
        this.#model = info;
        if (steps === 0) steps = info.defaultSteps;
        setClasses(this.#parts, info.classes, o.label ?? 0);
        this.#parts.prompt.placeholder = defaultPrompt(info) ?? PROMPT_PLACEHOLDER; // what an empty box draws
        if (fresh) emit(this, 'erta-progress', { phase: 'ready', file: null, ...totals(), fromCache: info.downloadedBytes === 0 });
        this.#parts.progress.value = 0;
        setStatus(this.#parts, 'Generating…');
      },
      // The runtime sends step i's preview before its step event; the element re-orders them
      // so listeners always see erta-step i, then erta-frame i.
      onEvent: (e: GenerateEvent) => {
        if (e.type === 'preview') {
          pending = e;
        } else if (e.type === 'step') {
          this.#parts.progress.value = steps > 0 ? (e.i + 1) / steps : 0;
          emit(this, 'erta-step', { jobId: e.jobId, i: e.i, steps, decision: e.decision, ms: e.ms });
          if (pending !== null && pending.i <= e.i) {
            this.#player.show(pending.frames ?? [pending.frame], this.fps);
            emit(this, 'erta-frame', { jobId: pending.jobId, i: pending.i, final: false, frame: pending.frame,
              ...(pending.frames ? { frames: pending.frames } : {}) });
            pending = null;
          }
        }
      },
    };
  }

  #fail(e: unknown): unknown {
    const detail = toErrorDetail(e);
    emit(this, 'erta-error', detail);
    setStatus(this.#parts, detail.code === 'CANCELLED' ? 'Cancelled.' : `Error: ${detail.message}`, detail.code !== 'CANCELLED');
    return e;
  }

  #syncControls(): void {
    this.#parts.controls.hidden = !this.controls;
    this.#parts.label.value = String(this.label);
    this.#parts.labelNumber.value = String(this.label);
    this.#parts.seed.value = String(this.seed);
    const prompt = this.prompt ?? '';
    if (this.#parts.prompt.value !== prompt) this.#parts.prompt.value = prompt; // keep the caret while typing
    // Until a model says what it conditions on, the attributes decide which field shows: the prompt
    // box for a prompt, or for no model attribute (the default model is a text model) without a label.
    if (this.#model === null) {
      showPromptField(this.#parts, this.prompt !== null || (!this.hasAttribute('label') && !this.hasAttribute('model')));
    }
  }

  #set(name: ObservedAttribute, v: string | number | null | undefined): void {
    const text = formatAttribute(v);
    if (text === null) this.removeAttribute(name);
    else this.setAttribute(name, text);
  }

  #int(name: ObservedAttribute): number | null {
    const v = this.#num(name);
    return v !== null && Number.isInteger(v) ? v : null;
  }

  #num(name: ObservedAttribute): number | null {
    const raw = this.getAttribute(name);
    const v = raw === null || raw.trim() === '' ? NaN : Number(raw);
    return Number.isFinite(v) ? v : null;
  }
}
