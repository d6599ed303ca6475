// The element's shadow DOM: a canvas, a progress bar, an optional control bar and a polite
// live region. Every styleable piece is a CSS part (erta-diffusion::part(canvas) { … }).

export const ELEMENT_CSS = `
:host { display: inline-block; width: 224px; font: 14px/1.4 system-ui, sans-serif; color: inherit;
  --erta-accent: #2563eb; --erta-bg: #0b0f19; --erta-radius: 10px; }
:host([hidden]) { display: none; }
.frame { position: relative; width: 100%; aspect-ratio: 1; background: var(--erta-bg);
  border-radius: var(--erta-radius); overflow: hidden; }
canvas { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
progress { position: absolute; left: 0; right: 0; bottom: 0; width: 100%; height: 4px;
  appearance: none; border: 0; background: transparent; }
progress::-webkit-progress-bar { background: transparent; }
progress::-webkit-progress-value { background: var(--erta-accent); }
progress[hidden] { display: none; }
.controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: end; margin-top: 8px; }
.controls[hidden] { display: none; }
label { display: flex; flex-direction: column; font-size: 12px; gap: 2px; }
select, input { font: inherit; padding: 3px 4px; border-radius: 6px; border: 1px solid #9ca3af; width: 5.5em; }
label.prompt { flex: 1 1 100%; }
label.prompt input { width: auto; }
label[hidden] { display: none; }
button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid var(--erta-accent);
  background: var(--erta-accent); color: #fff; cursor: pointer; }
button[data-role="cancel"] { background: transparent; color: var(--erta-accent); }
button:disabled { opacity: .45; cursor: default; }
:focus-visible { outline: 2px solid var(--erta-accent); outline-offset: 2px; }
.status { margin: 6px 0 0; font-size: 12px; min-height: 1.4em; opacity: .85; }
.status[data-state="error"] { color: #dc2626; opacity: 1; }
`;

/** The prompt box's character limit (the runtime accepts longer prompts from script). */
export const PROMPT_INPUT_MAX = 1000;

/** Up to this many classes the label is a picker; above, a number input (no per-class work). */
export const LABEL_PICKER_MAX = 100;

/** The prompt box's placeholder until a model names what an empty box draws (its first example prompt). */
export const PROMPT_PLACEHOLDER = 'Describe the image';

let sharedSheet: CSSStyleSheet | null = null;

/**
 * The element's CSS as a constructable stylesheet, shared by every instance: no inline <style>,
 * so a page whose Content-Security-Policy has style-src 'self' (no 'unsafe-inline') still sees
 * the element styled. Browsers without constructable stylesheets get a <style> element.
 */
function applyStyles(root: ShadowRoot): HTMLStyleElement | null {
  if (typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    if (sharedSheet === null) {
      sharedSheet = new CSSStyleSheet();
      sharedSheet.replaceSync(ELEMENT_CSS);
    }
    root.adoptedStyleSheets = [sharedSheet];
    return null;
  }
  return node('style', { textContent: ELEMENT_CSS });
}

export interface ShadowParts {
  canvas: HTMLCanvasElement;
  progress: HTMLProgressElement;
  controls: HTMLFormElement;
  /** The label picker (models with up to LABEL_PICKER_MAX classes)… */
  label: HTMLSelectElement;
  /** …or a number input for models with more (only one of the two is in the tree). */
  labelNumber: HTMLInputElement;
  /** Text models: what to draw (shown instead of the label once a text model is known). */
  prompt: HTMLInputElement;
  seed: HTMLInputElement;
  generate: HTMLButtonElement;
  cancel: HTMLButtonElement;
  status: HTMLElement;
}

function node<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {},
  attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const n = Object.assign(document.createElement(tag), props);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const l = node('label', {}, { part: 'field' });
  l.append(text, control);
  return l;
}

/** Build the shadow tree once (constructor); classes are the number of labels offered. */
export function buildShadow(root: ShadowRoot, classes = 10): ShadowParts {
  const style = applyStyles(root);
  const frame = node('div', { className: 'frame' }, { part: 'frame' });
  const canvas = node('canvas', { width: 28, height: 28 }, { part: 'canvas', role: 'img', 'aria-label': 'Generated image (none yet)' });
  const progress = node('progress', { max: 1, value: 0, hidden: true }, { part: 'progress', 'aria-label': 'Generation progress' });
  frame.append(canvas, progress);

  const label = node('select', { name: 'label' }, { part: 'input' });
  for (let k = 0; k < Math.min(classes, LABEL_PICKER_MAX); k++) label.append(node('option', { value: String(k), textContent: String(k) }));
  const labelNumber = node('input', { name: 'label-number', type: 'number', min: '0', step: '1', value: '0' }, { part: 'input' });
  const prompt = node('input', { name: 'prompt', type: 'text', placeholder: PROMPT_PLACEHOLDER, maxLength: PROMPT_INPUT_MAX },
    { part: 'input prompt', autocomplete: 'off' });
  const promptField = labelled('Prompt', prompt);
  promptField.classList.add('prompt');
  promptField.hidden = true;
  const seed = node('input', { name: 'seed', type: 'number', min: '0', step: '1', value: '0' }, { part: 'input' });
  const generate = node('button', { type: 'submit', textContent: 'Generate' }, { part: 'button generate', 'data-role': 'generate' });
  const cancel = node('button', { type: 'button', textContent: 'Cancel', disabled: true }, { part: 'button cancel', 'data-role': 'cancel' });
  const controls = node('form', { className: 'controls', hidden: true }, { part: 'controls', 'aria-label': 'Generation controls' });
  controls.append(promptField, labelled('Label', label), labelled('Seed', seed), generate, cancel);

  const status = node('p', { className: 'status' }, { part: 'status', role: 'status', 'aria-live': 'polite' });
  root.append(...(style ? [style] : []), frame, controls, status);
  return { canvas, progress, controls, label, labelNumber, prompt, seed, generate, cancel, status };
}
