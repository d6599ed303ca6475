// The element's attribute model: every attribute is the source of truth for one property,
// parsed here once so the element class only deals in typed values. Pure: no DOM access.

import { POLICY_KINDS } from '../cache/policy.ts';

export type ProviderChoice = 'auto' | 'webgpu' | 'wasm';
export const PROVIDERS: readonly ProviderChoice[] = ['auto', 'webgpu', 'wasm'];

/** Attributes the element observes (attributeChangedCallback). */
export const OBSERVED_ATTRIBUTES = [
  'model', 'label', 'prompt', 'negative-prompt', 'seed', 'steps', 'policy', 'budget', 'guidance', 'embedded-guidance', 'provider',
  'preview-every', 'controls', 'fps',
] as const;
export type ObservedAttribute = (typeof OBSERVED_ATTRIBUTES)[number];

/** The embedded default model, resolved against the page's base URL (works under a sub-path). */
export const DEFAULT_MODEL = 'models/emoji-dit/manifest.json';

/** Parsed, typed view of the attributes. `null` = "use the model's default". */
export interface ElementOptions {
  /** Manifest URL. Default: the text-to-emoji DiT shipped beside the element (DEFAULT_MODEL). */
  model: string;
  /** Class models: the class to draw (0–9 for the digits model). null (absent): class 0; a text model rejects it. */
  label: number | null;
  /** Text models: what to draw; null (absent): the manifest's first example prompt. A class model rejects it. */
  prompt: string | null;
  /** Text models: the unconditional branch of CFG. Default: the manifest's (usually the empty prompt). */
  negativePrompt: string | null;
  /** Noise seed: same seed + same settings → same image. Default 0. */
  seed: number;
  /** Sampling steps. More = slower, closer to the model's best. Default: manifest's (50). */
  steps: number | null;
  /** Cache policy kind ('none' = compute every step, slowest and exact). Default 'ertacache'. */
  policy: string;
  /** Computed-step budget for plan-based policies: lower = faster, less faithful. Default: plan's. */
  budget: number | null;
  /** Classifier-free guidance weight; 1 = no guidance (half the compute). Default: manifest's. */
  guidance: number | null;
  /** Guidance-distilled models (Flux dev style): the scale fed to the model's guidance embedding. Default: manifest's; other models reject it. */
  embeddedGuidance: number | null;
  /** Execution provider. 'auto' tries WebGPU, then WASM. Default 'auto'. */
  provider: ProviderChoice;
  /** A preview frame every k steps; 0 = final image only (fewest read-backs). Default 1. */
  previewEvery: number;
  /** Video models: frames per second the clip loops at; 0 = stay on the first frame. Default 8. */
  fps: number;
}

export const DEFAULT_OPTIONS: Readonly<ElementOptions> = {
  model: DEFAULT_MODEL, label: null, prompt: null, negativePrompt: null, seed: 0, steps: null, policy: 'ertacache', budget: null,
  guidance: null, embeddedGuidance: null, provider: 'auto', previewEvery: 1, fps: 8,
};

/**
 * An attribute value that does not parse; reported as an erta-error with its code: BAD_INPUT,
 * or UNKNOWN_POLICY for a policy the runtime does not have.
 */
export class AttributeError extends Error {
  readonly attribute: string;
  readonly hint: string;
  readonly code: 'BAD_INPUT' | 'UNKNOWN_POLICY';
  constructor(attribute: string, value: string, hint: string, code: 'BAD_INPUT' | 'UNKNOWN_POLICY' = 'BAD_INPUT') {
    super(`<erta-diffusion> attribute ${attribute}="${value.slice(0, 80)}" is invalid`);
    this.name = 'AttributeError';
    this.attribute = attribute;
    this.hint = hint;
    this.code = code;
  }
}

function parseInteger(name: string, raw: string, min: number): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isInteger(v) || v < min) {
    throw new AttributeError(name, raw, `use a whole number ≥ ${min}`);
  }
  return v;
}

function parseNumber(name: string, raw: string): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v)) throw new AttributeError(name, raw, 'use a number, e.g. 4');
  return v;
}

function parsePolicy(raw: string): string {
  const v = raw.trim();
  if ((POLICY_KINDS as readonly string[]).includes(v)) return v;
  throw new AttributeError('policy', raw, `use one of ${POLICY_KINDS.join(', ')}`, 'UNKNOWN_POLICY');
}

function parseProvider(raw: string): ProviderChoice {
  const v = raw.trim().toLowerCase();
  if ((PROVIDERS as readonly string[]).includes(v)) return v as ProviderChoice;
  throw new AttributeError('provider', raw, `use one of ${PROVIDERS.join(', ')}`);
}

function parseFps(raw: string | null): number {
  if (raw === null) return DEFAULT_OPTIONS.fps;
  const v = Number(raw.trim());
  if (!Number.isFinite(v) || v < 0 || v > 120) throw new AttributeError('fps', raw, 'use frames per second in [0, 120] (0 stops on the first frame), e.g. 8');
  return v;
}

/** Read all options from an attribute getter; throws AttributeError on the first bad value. */
export function readOptions(get: (name: ObservedAttribute) => string | null): ElementOptions {
  const opt = (name: ObservedAttribute) => {
    const v = get(name);
    return v === null || v.trim() === '' ? null : v;
  };
  const int = (name: ObservedAttribute, min: number) => {
    const v = opt(name);
    return v === null ? null : parseInteger(name, v, min);
  };
  const guidance = opt('guidance');
  const embeddedGuidance = opt('embedded-guidance');
  const provider = opt('provider');
  const policy = opt('policy');
  return {
    model: opt('model') ?? DEFAULT_OPTIONS.model,
    label: int('label', 0),
    // Prompts are text: kept as written (an empty prompt="" is a prompt, the absent attribute is not).
    prompt: get('prompt'),
    negativePrompt: get('negative-prompt'),
    seed: int('seed', 0) ?? DEFAULT_OPTIONS.seed,
    steps: int('steps', 1),
    policy: policy === null ? DEFAULT_OPTIONS.policy : parsePolicy(policy),
    budget: int('budget', 1),
    guidance: guidance === null ? null : parseNumber('guidance', guidance),
    embeddedGuidance: embeddedGuidance === null ? null : parseNumber('embedded-guidance', embeddedGuidance),
    provider: provider === null ? DEFAULT_OPTIONS.provider : parseProvider(provider),
    previewEvery: int('preview-every', 0) ?? DEFAULT_OPTIONS.previewEvery,
    fps: parseFps(opt('fps')),
  };
}

/** Property value → attribute text (null removes the attribute). */
export function formatAttribute(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}
