// Small page helpers shared by the demo modules: element lookup, notices, run summaries.

import type { GenerateResult } from '../runtime/api.ts';
import { dismissButton } from './errors.ts';

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`demo page lacks #${id}`);
  return el as T;
}

/**
 * An informational notice (not an error), shown once per distinct text: reloading the model
 * must not stack the same WASM note twice.
 */
export function showNotice(container: HTMLElement, text: string, kind: string): void {
  for (const n of container.querySelectorAll<HTMLElement>('.info')) if (n.dataset.text === text) return;
  const box = document.createElement('div');
  box.className = 'info';
  box.dataset.kind = kind;
  box.dataset.text = text;
  box.setAttribute('role', 'note');
  const p = document.createElement('p');
  p.textContent = text;
  box.append(p, dismissButton(box, 'Dismiss note'));
  container.append(box);
}

/** One line for the live region after a run. */
export function summarizeRun(r: GenerateResult): string {
  const s = r.stats;
  const plan = s.planId ? `, plan ${s.planId}` : '';
  return `${s.policy} on ${s.provider}: ${s.computedSteps} of ${s.steps} steps computed, `
    + `${s.reusedSteps} reused, ${s.totalMs.toFixed(0)} ms, ${s.readbacks} read-backs${plan}.`;
}
