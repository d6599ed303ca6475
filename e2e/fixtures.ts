// Shared e2e fixtures: the provider under test (one Playwright project per provider), the
// harness page (e2e/harness.html drives the real worker), the default model as it lies on disk,
// and the Node CLI as the reference the browser's images are compared with.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import type { Harness, Outcome } from './harness.ts';
import type { GenerateRequest, LoadOptions, ModelInfo, RunStats } from '../src/runtime/api.ts';
import { generate as nodeGenerate } from '../src/node/generate.ts';

export { expect };
export type Provider = 'webgpu' | 'wasm';

/** The model directory under public/ (default: the embedded model); ERTA_E2E_MODEL overrides it. */
export const MODEL_NAME = process.env.ERTA_E2E_MODEL ?? 'mnist-dit';
export const MODEL_DIR = join('public', 'models', MODEL_NAME);
export const MODEL_URL = `/models/${MODEL_NAME}/manifest.json`;

export interface DiskPlan { file: string; kind: string; steps: number; budget?: number; space?: string }
export interface DiskManifest {
  modelHash: string;
  graphs: Record<string, { file: string; sha256: string; bytes: number }>;
  plans: DiskPlan[];
}

export function readManifest(): DiskManifest {
  const path = join(MODEL_DIR, 'manifest.json');
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the e2e tests run on the embedded default model `
      + '(npm run model:train), or set ERTA_E2E_MODEL to another directory under public/models');
  }
  return JSON.parse(readFileSync(path, 'utf8')) as DiskManifest;
}

/** The ertacache (output-space) plan with the fewest steps, or null when none is shipped. */
export function smallestErtaPlan(): (DiskPlan & { reuse: number[]; forecastReuse: number[] | null }) | null {
  const plans = readManifest().plans.filter((p) => p.kind === 'ertacache' && (p.space ?? 'output') === 'output');
  plans.sort((a, b) => a.steps - b.steps || (a.budget ?? 0) - (b.budget ?? 0));
  const entry = plans[0];
  if (!entry) return null;
  const plan = JSON.parse(readFileSync(join(MODEL_DIR, entry.file), 'utf8')) as { reuse: number[]; forecast?: { reuse: number[] } | null };
  return { ...entry, reuse: plan.reuse, forecastReuse: plan.forecast?.reuse ?? null };
}

export interface GenerateValue { jobId: string; stats: RunStats; image: number[]; framePixels: number; frames?: number[] }

export const test = base.extend<{ provider: Provider; harness: Page }>({
  provider: ['wasm', { option: true }],
  harness: async ({ page }, use) => {
    readManifest(); // fail every test with the same clear message while the model is missing
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    await page.goto('/e2e/harness.html');
    await page.waitForFunction(() => 'harness' in globalThis);
    await use(page);
  },
});

type W = { harness: Harness };

export function load(page: Page, options: LoadOptions, url = MODEL_URL): Promise<Outcome<ModelInfo>> {
  return page.evaluate(([u, o]) => (globalThis as unknown as W).harness.load(u, o), [url, options] as const);
}

export function generate(page: Page, req: GenerateRequest): Promise<Outcome<GenerateValue>> {
  return page.evaluate((r) => (globalThis as unknown as W).harness.generate(r), req) as Promise<Outcome<GenerateValue>>;
}

/** Unwraps an outcome, failing the test with the runtime's code, message and hint. */
export function ok<V>(o: Outcome<V>): V {
  if (!o.ok) throw new Error(`expected success, got ${o.error.code}: ${o.error.message} (hint: ${o.error.hint})`);
  return o.value;
}

/** The same generation on onnxruntime-node (CPU), in this process: the reference image. It is what
 *  `npm run generate -- --raw` writes (src/cli/generate.ts writes this function's image; the CLI's
 *  own tests check its files), without a tsx process start per reference (seconds each in CI). */
export async function nodeReference(args: { label: number; seed: number; steps: number; guidance: number;
  policy: string; budget?: number }): Promise<Float32Array> {
  const r = await nodeGenerate({ model: MODEL_DIR, label: args.label, seed: args.seed, steps: args.steps,
    guidance: args.guidance, policy: args.policy, ...(args.budget !== undefined ? { budget: args.budget } : {}) });
  return r.image;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}
