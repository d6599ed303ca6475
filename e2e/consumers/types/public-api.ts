// Compile-time tests of the package's public types, checked by tsc against the installed
// tarball (e2e/package.spec.ts): what a user may write compiles, and each @ts-expect-error line
// is a mistake the types must reject (tsc fails on an unused @ts-expect-error).

import {
  createRuntimeClient, ORT_ALL_FILES, ORT_FILE_NAMES, POLICY_KINDS, RuntimeError,
  type GenerateRequest, type GenerateResult, type ModelInfo, type RuntimeClient, type RuntimeErrorCode,
} from 'erta-diffusion';
import { ErtaDiffusionElement, TAG_NAME, type ErtaDoneDetail } from 'erta-diffusion/element';
import { calibrate, generate, OptionError, type NodeGenerateResult } from 'erta-diffusion/node';

// ── the page API ─────────────────────────────────────────────────────────────────────────────
const api: RuntimeClient = createRuntimeClient({ ortBaseUrl: '/static/ort/' });
createRuntimeClient({ ortBaseUrl: new URL('https://example.com/ort/') });
// @ts-expect-error ortBaseUrl is a URL or a string
createRuntimeClient({ ortBaseUrl: 42 });
// @ts-expect-error no such option
createRuntimeClient({ wasmPath: '/ort/' });

export async function page(): Promise<GenerateResult> {
  const info: ModelInfo = await api.load('models/mnist-dit/manifest.json', { provider: 'wasm', cache: false });
  // @ts-expect-error not a provider
  await api.load('m.json', { provider: 'cuda' });
  const request: GenerateRequest = { label: 7, seed: 3, steps: info.defaultSteps, policy: { kind: 'ertacache', budget: 25 } };
  // @ts-expect-error seed is required
  await api.generate({ label: 7 });
  // @ts-expect-error a prompt is text
  await api.generate({ prompt: 7, seed: 3 });
  const result = await api.generate(request, (e) => {
    if (e.type === 'step') { const d: 'compute' | 'reuse' = e.decision; void d; }
    // @ts-expect-error a step event has no frame
    if (e.type === 'step') void e.frame;
  });
  const pixels: Uint8ClampedArray = result.frame.pixels;
  const image: Float32Array = result.image;
  void pixels; void image;
  return result;
}

export function onError(e: unknown): RuntimeErrorCode | null {
  if (!(e instanceof RuntimeError)) return null;
  if (e.code === 'ORT_FILES_NOT_FOUND' || e.code === 'MODEL_NOT_FOUND' || e.code === 'CANCELLED') return e.code;
  // @ts-expect-error not an error code
  if (e.code === 'FILE_NOT_FOUND') return null;
  const hint: string = e.hint;
  void hint;
  return e.code;
}

const names: readonly string[] = [...POLICY_KINDS, ORT_FILE_NAMES.wasm, ORT_FILE_NAMES.mjs, ...ORT_ALL_FILES];
export const asyncifyClient = (): RuntimeClient => createRuntimeClient({ ortBuild: 'asyncify' });
// @ts-expect-error 'jspi' cannot be forced (it needs WebAssembly.Suspending): 'auto' or 'asyncify'
export const jspiClient = (): RuntimeClient => createRuntimeClient({ ortBuild: 'jspi' });
void names;

// ── the element ──────────────────────────────────────────────────────────────────────────────
export async function element(): Promise<void> {
  const el = document.createElement('erta-diffusion'); // typed through HTMLElementTagNameMap
  const same: ErtaDiffusionElement = el;
  el.label = 3;
  el.provider = 'wasm';
  // @ts-expect-error label is a number
  el.label = '3';
  // @ts-expect-error not a provider
  el.provider = 'cuda';
  el.addEventListener('erta-done', (e) => { // typed through HTMLElementEventMap
    const detail: ErtaDoneDetail = e.detail;
    const computed: number = detail.stats.computedSteps;
    void computed;
  });
  el.addEventListener('erta-step', (e) => {
    // @ts-expect-error a step's decision is 'compute' | 'reuse'
    const d: 'skip' = e.detail.decision;
    void d;
  });
  const r: GenerateResult = await same.generate();
  void r; void TAG_NAME;
}

// ── the Node API ─────────────────────────────────────────────────────────────────────────────
export async function node(): Promise<NodeGenerateResult> {
  const r = await generate({ label: 7, seed: 3, policy: 'ertacache', budget: 25 });
  const png: Uint8Array = r.png();
  const computed: number = r.report.computedSteps;
  void png; void computed;
  await generate({ model: './tiny-t2i', prompt: 'a red circle', negativePrompt: '' });
  // @ts-expect-error a prompt is text
  await generate({ prompt: 7 });
  // @ts-expect-error seed is a number
  await generate({ label: 7, seed: '3' });
  // @ts-expect-error not a graph mode
  await generate({ label: 7, graphs: 'both' });
  const plans = await calibrate({ model: './my-model', steps: 8, budgets: [5], onProgress: (line: string) => void line });
  void plans.plans[0]?.file;
  // @ts-expect-error budgets is required
  await calibrate({ steps: 8 });
  try {
    return await generate({ label: 12 });
  } catch (e) {
    if (e instanceof OptionError) { const o: string = e.option; void o; }
    throw e;
  }
}
