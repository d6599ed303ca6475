// The attribute model: defaults, parsing, and errors that name the attribute and the fix.
// The request builder: model defaults fill what the attributes leave open, and a default budget
// is chosen among the shipped plans rather than failing on "several budgets".

import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../runtime/api.ts';
import { AttributeError, DEFAULT_OPTIONS, readOptions } from './options.ts';
import type { ObservedAttribute } from './options.ts';
import { availableBudgets, defaultBudget, defaultPrompt, toRequest } from './request.ts';

const from = (attrs: Partial<Record<ObservedAttribute, string>>) => (n: ObservedAttribute) => attrs[n] ?? null;

describe('readOptions', () => {
  it('gives the documented defaults for an element without attributes', () => {
    expect(readOptions(from({}))).toEqual(DEFAULT_OPTIONS);
  });

  it('parses every attribute into its typed value', () => {
    const o = readOptions(from({
      model: 'm.json', label: '7', seed: '42', steps: '20', policy: 'uniform', budget: '10', guidance: '2.5',
      'embedded-guidance': '3.5', provider: 'WASM', 'preview-every': '0', fps: '12.5',
    }));
    expect(o).toEqual({ model: 'm.json', label: 7, prompt: null, negativePrompt: null, seed: 42, steps: 20, policy: 'uniform',
      budget: 10, guidance: 2.5, embeddedGuidance: 3.5, provider: 'wasm', previewEvery: 0, fps: 12.5 });
  });

  it('keeps prompts as written (an empty prompt is a prompt; the absent attribute is null)', () => {
    expect(readOptions(from({ prompt: ' a red apple ', 'negative-prompt': '' })))
      .toMatchObject({ prompt: ' a red apple ', negativePrompt: '', label: null });
  });

  it('treats empty attributes as absent', () => {
    expect(readOptions(from({ steps: '', guidance: ' ' }))).toMatchObject({ steps: null, guidance: null });
  });

  it.each([
    ['steps', '0'], ['steps', '2.5'], ['seed', '-1'], ['label', 'x'], ['guidance', 'NaN'], ['embedded-guidance', 'high'], ['provider', 'cuda'],
    ['preview-every', '-2'], ['fps', '-1'], ['fps', '500'], ['fps', 'fast'],
  ] as [ObservedAttribute, string][])('rejects %s="%s" with an AttributeError naming it', (name, value) => {
    let error: unknown;
    try {
      readOptions(from({ [name]: value }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttributeError);
    expect((error as AttributeError).attribute).toBe(name);
    expect((error as AttributeError).message).toContain(`${name}="${value}"`);
    expect((error as AttributeError).hint.length).toBeGreaterThan(0);
  });
});

function model(plans: ModelInfo['plans']): ModelInfo {
  return { defaultSteps: 50, defaultGuidance: 4, plans, conditioning: 'class' } as ModelInfo;
}

describe('toRequest', () => {
  const plans = [
    { file: 'a', kind: 'ertacache', steps: 50, budget: 17 },
    { file: 'b', kind: 'ertacache', steps: 50, budget: 25 },
    { file: 'c', kind: 'ertacache', steps: 50, budget: 34 },
    { file: 'd', kind: 'ertacache', steps: 20, budget: 10 },
    { file: 'e', kind: 'teacache', steps: 50 },
  ];

  it('fills steps and guidance from the model and picks the budget nearest half the steps', () => {
    const r = toRequest({ ...DEFAULT_OPTIONS, policy: 'ertacache' }, model(plans));
    expect(r).toMatchObject({ steps: 50, guidance: 4, policy: { kind: 'ertacache', budget: 25 } });
    expect('embeddedGuidance' in r).toBe(false); // absent: the runtime's default (or none for models without it)
    expect(toRequest({ ...DEFAULT_OPTIONS, embeddedGuidance: 4 }, model(plans)).embeddedGuidance).toBe(4);
  });

  it('lets ablation variants read the ertacache plans and keeps an explicit budget', () => {
    expect(availableBudgets(model(plans), 'ertacache-schedule+dt', 50)).toEqual([17, 25, 34]);
    const r = toRequest({ ...DEFAULT_OPTIONS, policy: 'ertacache-schedule', budget: 34, steps: 50 }, model(plans));
    expect(r.policy).toEqual({ kind: 'ertacache-schedule', budget: 34 });
  });

  it('sends no budget where no plan has one (budget-free plans, plan-free policies)', () => {
    expect(toRequest({ ...DEFAULT_OPTIONS, policy: 'teacache' }, model(plans)).policy).toEqual({ kind: 'teacache' });
    expect(toRequest({ ...DEFAULT_OPTIONS, policy: 'none' }, model(plans)).policy).toEqual({ kind: 'none' });
    expect(defaultBudget([], 50)).toBeUndefined();
  });

  it('sends label 0 by default to a class model, and conditioning as set otherwise (the runtime checks it)', () => {
    expect(toRequest({ ...DEFAULT_OPTIONS }, model([]))).toMatchObject({ label: 0 });
    expect(toRequest({ ...DEFAULT_OPTIONS }, model([]))).not.toHaveProperty('prompt');
    const text = { ...model([]), conditioning: 'text' as const };
    const r = toRequest({ ...DEFAULT_OPTIONS, prompt: 'a cat', negativePrompt: 'blurry' }, text);
    expect(r).toMatchObject({ prompt: 'a cat', negativePrompt: 'blurry' });
    expect(r).not.toHaveProperty('label');
    expect(toRequest({ ...DEFAULT_OPTIONS, label: 3 }, text)).toMatchObject({ label: 3 }); // → CONDITIONING_MISMATCH
    expect(toRequest({ ...DEFAULT_OPTIONS, label: 3 }, text)).not.toHaveProperty('prompt');
  });

  it('sends a text model its first example prompt when no prompt is set (none: no prompt, the runtime says what to do)', () => {
    const text = { ...model([]), conditioning: 'text' as const, examplePrompts: ['red apple', 'blue heart'] };
    expect(toRequest({ ...DEFAULT_OPTIONS }, text)).toMatchObject({ prompt: 'red apple' });
    expect(toRequest({ ...DEFAULT_OPTIONS, prompt: 'sun' }, text)).toMatchObject({ prompt: 'sun' });
    expect(toRequest({ ...DEFAULT_OPTIONS }, { ...text, examplePrompts: [] })).not.toHaveProperty('prompt');
    expect(defaultPrompt(model([]))).toBeNull();
  });
});
