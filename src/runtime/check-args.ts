// Argument checks for every RuntimeApi entry point. A page may call the API with anything
// (plain JS, a typo, a string where an object belongs); each wrong argument is a BAD_INPUT (or
// UNKNOWN_POLICY) RuntimeError naming the argument and what it accepts, before any state changes.
// Model-dependent ranges (label < classes, plans) are checked in run-generation.ts.

import { POLICY_KINDS } from '../cache/policy.ts';
import { LIMITS } from '../manifest/limits.ts';
import { RuntimeError, type CalibrateRequest, type CalibrationPolicy, type GenerateRequest, type LoadOptions, type PolicyRequest } from './api.ts';

const bad = (message: string, hint: string) => new RuntimeError('BAD_INPUT', message, hint);

const shown = (v: unknown): string => {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A plain object with only the documented keys (a typo is an error, not a silent default). */
function record(what: string, v: unknown, keys: readonly string[], example: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw bad(`${what} must be an object, got ${shown(v)}`, `pass an object such as ${example}`);
  const unknown = Object.keys(v).filter((k) => !keys.includes(k));
  if (unknown.length > 0) {
    throw bad(`${what} has an unknown field "${unknown[0]}"`, `its fields are ${keys.join(', ')}`);
  }
  return v;
}

function oneOf<T extends string>(what: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw bad(`${what} is ${shown(v)}`, `use one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

function integer(what: string, v: unknown, min: number, max: number, hint: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  throw bad(`${what} is ${shown(v)}, not an integer in [${min}, ${max}]`, hint);
}

function number(what: string, v: unknown, min: number, max: number, hint: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
  throw bad(`${what} is ${shown(v)}, not a number in [${min}, ${max}]`, hint);
}

export function checkCallback(what: string, v: unknown): void {
  if (v !== undefined && v !== null && typeof v !== 'function') {
    throw bad(`${what} must be a function, got ${shown(v)}`, 'pass a callback (e) => { … }, or leave it out');
  }
}

/**
 * load(url): an http(s) URL or a path relative to the page, resolved against `base` (file: URLs
 * only when `base` is one: a runtime over Node's file backend).
 */
export function checkManifestUrl(url: unknown, base: string | undefined): string {
  const hint = 'pass the URL of a manifest.json: http(s)://… or a path relative to the page (e.g. "models/x/manifest.json")';
  if (typeof url !== 'string' || url.trim() === '') throw bad(`load() needs a manifest URL, got ${shown(url)}`, hint);
  if (url.length > 4096) throw bad(`the manifest URL is ${url.length} characters long`, hint);
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch {
    throw bad(`"${url.slice(0, 80)}" is not a URL`, hint);
  }
  // file: only where the runtime itself runs from files (Node's backend), never in a page.
  const local = resolved.protocol === 'file:' && base !== undefined && base.startsWith('file:');
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:' && !local) {
    throw bad(`manifest URL ${shown(url)} uses ${resolved.protocol}; only http(s) and page-relative URLs are loaded`, hint);
  }
  return resolved.href;
}

/** The client's wasmThreads option, checked where the page passes it (a BAD_INPUT, not a worker failure). */
export function checkWasmThreads(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 16) return v;
  throw bad(`wasmThreads is ${shown(v)}`, 'use an integer from 1 to 16, or leave it out for min(4, cores)');
}

export const LOAD_OPTION_KEYS = ['provider', 'graphs', 'cache', 'chunkBytes'] as const;

export function checkLoadOptions(options: unknown): LoadOptions {
  if (options === undefined || options === null) return {};
  const o = record('load() options', options, LOAD_OPTION_KEYS, "{ provider: 'auto', graphs: 'split' }");
  oneOf('options.provider', o.provider, ['auto', 'webgpu', 'wasm']);
  oneOf('options.graphs', o.graphs, ['split', 'single']);
  if (o.cache !== undefined && typeof o.cache !== 'boolean') {
    throw bad(`options.cache is ${shown(o.cache)}`, 'use true (keep model files in IndexedDB, default) or false');
  }
  const c = o.chunkBytes;
  if (c !== undefined && !(typeof c === 'number' && Number.isInteger(c) && c >= 2 ** 16 && c <= 2 ** 26)) {
    throw bad(`options.chunkBytes is ${shown(c)}`, 'use an integer number of bytes from 65536 (64 KiB) to 67108864 (64 MiB); default 8 MiB');
  }
  return o as LoadOptions;
}

export const REQUEST_KEYS = [
  'jobId', 'label', 'prompt', 'negativePrompt', 'seed', 'steps', 'guidance', 'embeddedGuidance', 'policy', 'previewEvery', 'timeMode',
] as const;
export const POLICY_KEYS = ['kind', 'budget', 'space', 'interval', 'delta'] as const;

function checkPolicy(v: unknown, steps: number | undefined): PolicyRequest | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    throw bad(`policy is the string ${shown(v)}; it must be an object`, `pass policy: { kind: ${shown(v)} }`);
  }
  const p = record('policy', v, POLICY_KEYS, "{ kind: 'ertacache', budget: 25 }");
  if (typeof p.kind !== 'string' || !(POLICY_KINDS as readonly string[]).includes(p.kind)) {
    throw new RuntimeError('UNKNOWN_POLICY', `unknown cache policy ${shown(p.kind)}`, `use one of: ${POLICY_KINDS.join(', ')}`);
  }
  const maxSteps = steps ?? LIMITS.steps;
  integer('policy.budget', p.budget, 1, maxSteps, 'the number of computed steps: at most the run\'s steps');
  oneOf('policy.space', p.space, ['output', 'hidden']);
  integer('policy.interval', p.interval, 1, LIMITS.steps, 'uniform: compute every N-th step, N ≥ 1 (default 3)');
  number('policy.delta', p.delta, 0, 1e6, 'teacache / magcache threshold δ ≥ 0 (higher = faster, worse)');
  return p as unknown as PolicyRequest;
}

/** generate(request): types and model-independent ranges of every field. */
export function checkGenerateRequest(request: unknown): GenerateRequest {
  const r = record('generate() request', request, REQUEST_KEYS, '{ label: 3, seed: 0 }');
  if (r.jobId !== undefined && (typeof r.jobId !== 'string' || r.jobId === '' || r.jobId.length > 200)) {
    throw bad(`jobId is ${shown(r.jobId)}`, 'use a non-empty string of at most 200 characters, or leave it out');
  }
  // Which of label / prompt the model needs is checked against it (conditioning.ts); types here.
  integer('label', r.label, 0, LIMITS.classes, 'use a class index 0 … classes − 1 (ModelInfo.classes)');
  for (const key of ['prompt', 'negativePrompt'] as const) {
    const v = r[key];
    if (v !== undefined && typeof v !== 'string') throw bad(`${key} is ${shown(v)}, not a string`, `pass ${key}: "a red circle"`);
  }
  if (r.seed === undefined) throw bad('generate() request has no seed', 'pass seed: an integer in [0, 4294967295]');
  integer('seed', r.seed, 0, 0xffffffff, 'use an integer in [0, 4294967295]');
  const steps = integer('steps', r.steps, 1, LIMITS.steps, `use 1–${LIMITS.steps} steps`);
  number('guidance', r.guidance, 0, LIMITS.guidance, 'use 1 for no guidance, ~3 for strong');
  number('embeddedGuidance', r.embeddedGuidance, 0, LIMITS.guidance, 'a guidance-distilled model\'s guidance scale (Flux dev: ~3.5), or leave it out');
  integer('previewEvery', r.previewEvery, 0, LIMITS.steps, 'use 0 for the final image only, k for a preview every k steps');
  oneOf('timeMode', r.timeMode, ['actual', 'nominal']);
  checkPolicy(r.policy, steps);
  return r as unknown as GenerateRequest;
}

/** cancel(jobId): a string id; undefined / null (no job named) is a documented no-op. */
export function checkJobId(jobId: unknown): string | null {
  if (jobId === undefined || jobId === null) return null;
  if (typeof jobId !== 'string') throw bad(`cancel() takes a job id string, got ${shown(jobId)}`, 'pass the jobId from generate()');
  return jobId;
}

export const CALIBRATE_KEYS = ['jobId', 'budget', 'steps', 'policy', 'space', 'seeds', 'labels', 'prompts', 'guidance', 'embeddedGuidance', 'forecast', 'evaluate',
  'store'] as const;
export const CALIBRATION_POLICIES: readonly CalibrationPolicy[] = ['ertacache', 'teacache', 'magcache', 'easycache'];

function intList(what: string, v: unknown, min: number, max: number, maxLength: number, hint: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0 || v.length > maxLength) {
    throw bad(`${what} is ${shown(v)}, not a list of 1–${maxLength} integers`, hint);
  }
  v.forEach((x, k) => integer(`${what}[${k}]`, x, min, max, hint));
}

/** calibrate(request): types and model-independent ranges (budget ≤ steps and labels < classes are checked against the model). */
export function checkCalibrateRequest(request: unknown): CalibrateRequest {
  const r = record('calibrate() request', request, CALIBRATE_KEYS, "{ budget: 25, steps: 50, policy: 'ertacache' }");
  if (r.jobId !== undefined && (typeof r.jobId !== 'string' || r.jobId === '' || r.jobId.length > 200)) {
    throw bad(`jobId is ${shown(r.jobId)}`, 'use a non-empty string of at most 200 characters, or leave it out');
  }
  const budgetHint = 'the plan\'s computed steps: an integer from 2 (first and last always compute) to the step count';
  if (r.budget === undefined) throw bad('calibrate() request has no budget', `pass budget: ${budgetHint}`);
  integer('budget', r.budget, 2, LIMITS.steps, budgetHint);
  integer('steps', r.steps, 2, LIMITS.steps, `use 2–${LIMITS.steps} steps (default: the model's defaultSteps)`);
  if (r.policy !== undefined) {
    if (typeof r.policy !== 'string' || !(POLICY_KINDS as readonly string[]).includes(r.policy)) {
      throw new RuntimeError('UNKNOWN_POLICY', `unknown cache policy ${shown(r.policy)}`, `calibrate one of: ${CALIBRATION_POLICIES.join(', ')}`);
    }
    if (!(CALIBRATION_POLICIES as readonly string[]).includes(r.policy)) {
      throw bad(`policy '${r.policy}' has no plan to calibrate`, `calibrate one of: ${CALIBRATION_POLICIES.join(', ')} (ertacache's variants use the ertacache plan)`);
    }
  }
  oneOf('space', r.space, ['output', 'hidden']);
  intList('seeds', r.seeds, 0, 0xffffffff, 64, 'pass a few uint32 noise seeds, e.g. [0, 1] (1000–1009 are the evaluation seeds, refused)');
  intList('labels', r.labels, 0, LIMITS.classes, 1000, 'pass class indices, e.g. [0, 1, 2] (default: every class)');
  if (r.prompts !== undefined) {
    if (!Array.isArray(r.prompts) || r.prompts.length === 0 || r.prompts.length > 256 || !r.prompts.every((p) => typeof p === 'string')) {
      throw bad(`prompts is ${shown(r.prompts)}, not a list of 1–256 strings`, 'pass prompts like the ones the model will see, e.g. ["a red apple", "a blue fish"]');
    }
  }
  number('guidance', r.guidance, 0, LIMITS.guidance, 'use the CFG weight you will generate with (default: the model\'s)');
  number('embeddedGuidance', r.embeddedGuidance, 0, LIMITS.guidance, 'a guidance-distilled model\'s guidance scale you will generate with, or leave it out');
  if (r.store !== undefined && typeof r.store !== 'boolean') {
    throw bad(`store is ${shown(r.store)}`, 'use true (keep the plan in IndexedDB, default) or false (this worker only)');
  }
  for (const key of ['forecast', 'evaluate'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'boolean') throw bad(`${key} is ${shown(r[key])}`, `use true (default) or false (faster)`);
  }
  return r as unknown as CalibrateRequest;
}
