// The element's built-in UI behaviour: the control bar (which writes attributes, so the
// attributes stay the single source of truth), busy state, the status live region, keyboard.

import type { GenerateResult, ModelInfo } from '../runtime/api.ts';
import { LABEL_PICKER_MAX, type ShadowParts } from './template.ts';

/** What the view needs of the element (kept narrow so the view cannot reach into it). */
export interface ControlHost extends HTMLElement {
  generate(): Promise<unknown>;
  cancel(): Promise<void>;
  readonly running: boolean;
}

export function bindControls(host: ControlHost, parts: ShadowParts): void {
  parts.controls.addEventListener('submit', (e) => {
    e.preventDefault();
    host.generate().catch(() => undefined); // failures are reported as erta-error + status
  });
  parts.cancel.addEventListener('click', () => void host.cancel());
  // A label picked in the bar drops the prompt attribute and a prompt typed drops the label, so the
  // bar never leaves both set (a model takes one or the other: CONDITIONING_MISMATCH).
  const pickLabel = (v: string) => { host.removeAttribute('prompt'); host.setAttribute('label', v); };
  parts.label.addEventListener('change', () => pickLabel(parts.label.value));
  parts.labelNumber.addEventListener('change', () => {
    if (parts.labelNumber.validity.valid && parts.labelNumber.value !== '') pickLabel(parts.labelNumber.value);
  });
  // The prompt box writes the prompt attribute as the user types, so Generate (or Enter, which
  // submits the form) always runs what the box shows; an emptied box removes it (the model's
  // first example prompt, shown as the placeholder, is drawn then).
  parts.prompt.addEventListener('input', () => {
    const v = parts.prompt.value; // read first: each attribute change re-syncs the box from the attributes
    if (v === '') host.removeAttribute('prompt');
    else host.setAttribute('prompt', v);
    host.removeAttribute('label');
  });
  parts.seed.addEventListener('change', () => {
    if (parts.seed.validity.valid && parts.seed.value !== '') host.setAttribute('seed', parts.seed.value);
  });
  // Escape stops a run from anywhere inside the element (focus in the control bar).
  host.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && host.running) {
      e.preventDefault();
      void host.cancel();
    }
  });
}

/**
 * Offer exactly the model's classes: a picker for up to LABEL_PICKER_MAX (the digits model has
 * 10), a number input in [0, classes − 1] above that, so no model makes the UI build one node
 * per class (a manifest's class count is data from someone else's server).
 */
export function setClasses(parts: ShadowParts, classes: number, current: number): void {
  // A text model has no classes: its picker is hidden and the prompt box shown instead.
  const picker = classes <= LABEL_PICKER_MAX;
  const [shown, gone] = picker ? [parts.label, parts.labelNumber] : [parts.labelNumber, parts.label];
  if (!shown.isConnected) gone.replaceWith(shown);
  (shown.parentElement ?? shown).hidden = classes === 0;
  parts.prompt.parentElement!.hidden = classes !== 0;
  parts.labelNumber.max = String(Math.max(0, classes - 1));
  parts.labelNumber.value = String(current);
  if (!picker || parts.label.options.length === classes) return;
  parts.label.replaceChildren();
  for (let k = 0; k < classes; k++) parts.label.append(new Option(String(k), String(k)));
  parts.label.value = String(current);
}

/** Before a model is known: the prompt box (`prompt` true) or the label field. */
export function showPromptField(parts: ShadowParts, prompt: boolean): void {
  parts.prompt.parentElement!.hidden = !prompt;
  // whichever label control is in the control bar (not isConnected: the element, and so its
  // shadow tree, may not be in a document yet when an attribute is set)
  const field = parts.label.parentElement ?? parts.labelNumber.parentElement;
  if (field) field.hidden = prompt;
}

export function setBusy(parts: ShadowParts, busy: boolean): void {
  parts.progress.hidden = !busy;
  parts.generate.disabled = false; // a new run while one is going cancels it ("latest wins")
  parts.cancel.disabled = !busy;
  parts.canvas.setAttribute('aria-busy', String(busy));
  if (busy) parts.progress.value = 0;
}

/** Polite live region: announced on phase changes only, never once per step. */
export function setStatus(parts: ShadowParts, text: string, isError = false): void {
  parts.status.textContent = text;
  if (isError) parts.status.dataset.state = 'error';
  else delete parts.status.dataset.state;
}

export function describeResult(result: GenerateResult, model: ModelInfo): string {
  const s = result.stats;
  const secs = (s.totalMs / 1000).toFixed(s.totalMs < 10_000 ? 2 : 1);
  const reuse = s.reusedSteps > 0 ? `, ${s.reusedSteps} reused` : '';
  const p = model.provider;
  const notes = [s.provider as string];
  if (p.used === 'wasm' && p.requested === 'auto') notes.push('WebGPU unavailable');
  if (p.used === 'wasm' && p.threads === 1) notes.push('single-threaded');
  return `Done in ${secs} s: ${s.computedSteps} of ${s.steps} steps computed${reuse} (${notes.join(', ')}).`;
}
