// The settings form: populates the pickers, reads them into one typed value, and keeps the
// budget picker in step with the model's calibrated plans for the chosen policy and steps.

import { POLICY_KINDS } from '../cache/policy.ts';
import { availableBudgets, defaultBudget } from '../element/request.ts';
import { LABEL_PICKER_MAX } from '../element/template.ts';
import type { ModelInfo, PolicyRequest, ProviderRequest } from '../runtime/api.ts';
import { byId } from './page.ts';

export interface DemoSettings {
  /** Class models: the digit. */
  label: number;
  /** Text models: the prompt, and the negative prompt ('' = the model's default). */
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  provider: ProviderRequest;
  policy: PolicyRequest;
  compare: boolean;
}

const POLICY_NAMES: Record<string, string> = {
  none: 'none — compute every step',
  uniform: 'uniform — reuse on a fixed stride',
  teacache: 'TeaCache — input-change threshold',
  magcache: 'MagCache — magnitude-ratio threshold',
  easycache: 'EasyCache — output transformation vector',
  taylorseer: 'TaylorSeer — order-1 forecast, even spread',
  'taylorseer-2': 'TaylorSeer — order-2 forecast',
  'ertacache-schedule': 'ERTACache: schedule only',
  'ertacache-paper': "ERTACache: schedule + the paper's φ",
  'ertacache-schedule+dt': 'ERTACache: schedule + calibrated φ',
  ertacache: 'ERTACache',
  'ertacache-forecast': 'ERTACache + residual forecast',
  'ertacache-forecast+rect': 'ERTACache + forecast + rectification',
};

/** uniform has no plan: its "budget" is a stride (compute every N-th step). */
const UNIFORM_INTERVALS = [2, 3, 4];

export class SettingsForm {
  readonly form = byId<HTMLFormElement>('settings');
  readonly seed = byId<HTMLInputElement>('seed');
  readonly steps = byId<HTMLInputElement>('steps');
  readonly guidance = byId<HTMLInputElement>('guidance');
  readonly provider = byId<HTMLSelectElement>('provider');
  readonly policy = byId<HTMLSelectElement>('policy');
  readonly budget = byId<HTMLSelectElement>('budget');
  readonly compare = byId<HTMLInputElement>('compare');
  readonly model = byId<HTMLSelectElement>('model');
  readonly prompt = byId<HTMLInputElement>('prompt');
  readonly negativePrompt = byId<HTMLInputElement>('negative-prompt');
  readonly #digits = byId<HTMLElement>('digit-options');
  readonly #budgetNote = byId<HTMLElement>('budget-note');
  #model: ModelInfo | null = null;

  constructor(initialPolicy = 'ertacache') {
    this.setClasses(10);
    for (const kind of POLICY_KINDS) this.policy.append(new Option(POLICY_NAMES[kind] ?? kind, kind));
    this.policy.value = initialPolicy;
    byId('random-seed').addEventListener('click', () => {
      this.seed.value = String(Math.floor(Math.random() * 100_000));
    });
    for (const input of [this.steps, this.guidance]) input.addEventListener('change', () => this.choose(input, input.value));
    this.policy.addEventListener('change', () => this.refreshBudgets());
    this.budget.addEventListener('change', () => { this.budget.dataset.wanted = this.budget.value; });
    this.steps.addEventListener('change', () => this.refreshBudgets());
    this.refreshBudgets();
  }

  /** Set a field as if the visitor had chosen it (model defaults no longer override it). */
  choose(input: HTMLInputElement | HTMLSelectElement, value: string): void {
    input.value = value;
    input.dataset.chosen = '';
    if (input === this.budget) this.budget.dataset.wanted = value;
    if (input === this.steps || input === this.policy) this.refreshBudgets();
  }

  /**
   * Radio buttons 0 … n−1 (a segmented control; arrow keys move between them natively). A model
   * with more than LABEL_PICKER_MAX classes gets a number input instead, so a manifest's class
   * count never makes the page build one node per class.
   */
  setClasses(n: number): void {
    const current = this.#digits.querySelector<HTMLInputElement>('input:checked, input[type=number]')?.value ?? '7';
    this.#digits.replaceChildren();
    if (n > LABEL_PICKER_MAX) {
      const input = Object.assign(document.createElement('input'), {
        type: 'number', name: 'digit', id: 'digit-number', min: '0', max: String(n - 1), step: '1',
        value: Number(current) < n ? current : '0',
      });
      input.setAttribute('aria-label', `Class (0–${n - 1})`);
      this.#digits.append(input);
      return;
    }
    for (let k = 0; k < n; k++) {
      const id = `digit-${k}`;
      const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'digit', id, value: String(k) });
      input.checked = String(k) === current || (k === 0 && Number(current) >= n);
      const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: String(k) });
      this.#digits.append(input, label);
    }
  }

  /** Adopt the loaded model's defaults and plans. */
  setModel(model: ModelInfo): void {
    const first = this.#model === null;
    this.#model = model;
    const text = model.conditioning === 'text';
    byId('digit-fields').hidden = text; // a text model is asked with a prompt, a class model with a digit
    byId('prompt-fields').hidden = !text;
    this.prompt.required = text;
    this.setClasses(model.classes);
    this.#setExamples(model.examplePrompts);
    // The model's defaults, unless the visitor (or the page's query) already chose a value.
    if (first && this.steps.dataset.chosen === undefined) this.steps.value = String(model.defaultSteps);
    if (first && this.guidance.dataset.chosen === undefined) this.guidance.value = String(model.defaultGuidance);
    this.refreshBudgets();
  }

  /** The manifest's example prompts as buttons that put their text in the prompt box. */
  #setExamples(prompts: readonly string[]): void {
    const box = byId('example-prompts');
    box.replaceChildren(...prompts.map((p) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', className: 'chip', textContent: p });
      b.addEventListener('click', () => {
        this.prompt.value = p;
        this.prompt.dispatchEvent(new Event('input', { bubbles: true }));
      });
      return b;
    }));
    box.hidden = prompts.length === 0;
  }

  refreshBudgets(): void {
    const kind = this.policy.value;
    const steps = Number(this.steps.value);
    const previous = this.budget.dataset.wanted ?? this.budget.value; // the visitor's pick survives
    this.budget.replaceChildren();
    let note = '';
    if (kind === 'none') {
      this.budget.append(new Option(`all ${steps} steps`, ''));
    } else if (kind === 'uniform') {
      for (const n of UNIFORM_INTERVALS) this.budget.append(new Option(`compute 1 step in ${n} (≈${Math.ceil(steps / n)})`, `i${n}`));
    } else {
      // TaylorSeer needs no plan: it is offered at the budgets ERTACache is calibrated for, to compare
      const planKind = kind.startsWith('taylorseer') ? 'ertacache' : kind;
      const budgets = this.#model ? availableBudgets(this.#model, planKind, steps) : [];
      for (const b of budgets) this.budget.append(new Option(`${b} of ${steps} (${(steps / b).toFixed(1)}×)`, String(b)));
      if (budgets.length === 0) {
        this.budget.append(new Option('no calibrated plan', ''));
        note = this.#model ? `The model ships no ${kind} plan for ${steps} steps: try ${this.#model.defaultSteps} steps, or run npm run calibrate.` : '';
      } else {
        this.budget.value = String(defaultBudget(budgets, steps));
      }
    }
    if ([...this.budget.options].some((o) => o.value === previous)) this.budget.value = previous;
    this.budget.disabled = kind === 'none' || this.budget.options.length < 2;
    this.#budgetNote.textContent = note;
  }

  read(): DemoSettings {
    const digit = this.#digits.querySelector<HTMLInputElement>('input:checked, input[type=number]');
    const b = this.budget.value;
    const policy: PolicyRequest = { kind: this.policy.value };
    if (b.startsWith('i')) policy.interval = Number(b.slice(1));
    else if (b !== '') policy.budget = Number(b);
    return {
      label: Number(digit?.value ?? 0),
      prompt: this.prompt.value,
      negativePrompt: this.negativePrompt.value,
      seed: Number(this.seed.value),
      steps: Number(this.steps.value),
      guidance: Number(this.guidance.value),
      provider: this.provider.value as ProviderRequest,
      policy,
      compare: this.compare.checked,
    };
  }
}
