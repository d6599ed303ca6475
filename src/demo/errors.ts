// In-page messages for typed runtime errors: a title a visitor understands, the runtime's own
// message, and its hint (what to do). TITLES is typed over every RuntimeErrorCode, so a code
// added to the runtime without a title here fails the typecheck. Unknown codes (a newer worker)
// still show message + hint.

import type { RuntimeErrorCode } from '../runtime/api.ts';

/** The shape every typed error has once it crosses the worker boundary. */
export interface TypedErrorLike {
  code: string;
  message: string;
  hint?: string;
}

const TITLES: Record<RuntimeErrorCode, string> = {
  CANCELLED: 'Generation cancelled',
  INTERNAL: 'Something broke inside erta-diffusion',
  UNSUPPORTED: 'This combination is not supported',
  BAD_INPUT: 'A setting is out of range',
  UNKNOWN_POLICY: 'Unknown cache policy',
  PLAN_INVALID: 'The calibrated plan file is broken',
  PLAN_MISMATCH: 'The plan was fitted for another model or step count',
  PLAN_NOT_FOUND: 'No calibrated plan for these settings',
  CALIBRATION_SEED: 'Calibration used evaluation seeds',
  CONDITIONING_MISMATCH: 'This model takes a prompt, not a class (or the other way round)',
  MANIFEST_FIELD_MISSING: 'The model manifest is incomplete',
  MANIFEST_FIELD_INVALID: 'The model manifest has a bad value',
  MANIFEST_FORMAT: 'That URL is not an erta-diffusion model manifest',
  MANIFEST_VERSION: 'The model manifest is from another version',
  GRAPH_MISSING: 'The model lacks a graph this mode needs',
  GRAPH_IO_MISSING: 'A model graph does not follow the contract',
  GRAPH_SPEC_MISMATCH: 'A model graph has unexpected shapes or types',
  LABEL_DTYPE_UNSUPPORTED: 'The model uses an unsupported label type',
  MODEL_FILE_MISSING: 'A model file could not be downloaded',
  MODEL_FILE_HASH_MISMATCH: 'A model file is corrupt or out of date',
  MODEL_HASH_MISMATCH: 'The model manifest names other weights than it lists',
  MODEL_FILE_URL: 'The model manifest points outside its folder',
  MODEL_FILE_CORRUPT: 'A model file is not a valid ONNX graph',
  MANIFEST_TOO_LARGE: 'The model manifest or plan is implausibly large',
  SESSION_IO_MISMATCH: 'The model graph and its manifest disagree',
  MODEL_NOT_FOUND: 'The model was not found at that address',
  NETWORK: 'The model could not be downloaded',
  WEBGPU_UNAVAILABLE: 'WebGPU is not available here',
  BACKEND_INIT: 'The inference engine could not start',
  ORT_FILES_NOT_FOUND: 'The inference engine\'s files were not found',
  WASM_BLOCKED: 'This page\'s security policy blocks WebAssembly',
  NOT_LOADED: 'The model is not loaded yet',
  BUSY: 'A generation is already running',
  DEVICE_LOST: 'The GPU was lost',
  NON_FINITE: 'The model produced invalid numbers (NaN)',
  WORKER_BLOCKED: 'This page\'s security policy blocks the worker',
  IMPORT_NOT_ONNX: 'That file is not an ONNX model',
  IMPORT_NO_STACK: 'No transformer block stack was found in the model',
  IMPORT_NOT_A_DIT: 'That model is not a diffusion transformer',
  IMPORT_TENSOR_UNKNOWN: 'The named tensor is not in the model',
  IMPORT_UNSUPPORTED: 'This model cannot be imported yet',
  IMPORT_PARITY: 'The split model does not match the original',
  IMPORT_EXTERNAL_DATA: 'The model\'s weight files are missing or damaged',
  STORAGE_QUOTA: 'Not enough storage for this model',
  STORAGE_IO: 'The stored model could not be read or written',
  ADAPTER_LIMITS: 'This GPU cannot hold the model (adapter limits)',
  SHADER_F16_UNAVAILABLE: 'This GPU cannot run fp16 models (no shader-f16)',
};

export function errorTitle(code: string): string {
  return (TITLES as Record<string, string>)[code] ?? 'Generation failed';
}

/** Normalise anything thrown (typed error, plain Error, string) into code + message + hint. */
export function toTypedError(e: unknown): TypedErrorLike {
  if (typeof e === 'object' && e !== null) {
    const r = e as Record<string, unknown>;
    const message = typeof r.message === 'string' ? r.message : String(e);
    const hint = typeof r.hint === 'string' ? r.hint : undefined;
    return { code: typeof r.code === 'string' ? r.code : 'INTERNAL', message, ...(hint ? { hint } : {}) };
  }
  return { code: 'INTERNAL', message: String(e) };
}

/** A dismissible alert box for the page (role=alert so screen readers announce it). */
export function renderError(e: TypedErrorLike): HTMLElement {
  const box = document.createElement('div');
  box.className = e.code === 'CANCELLED' ? 'notice' : 'error';
  box.setAttribute('role', e.code === 'CANCELLED' ? 'status' : 'alert');
  box.dataset.code = e.code;
  const title = document.createElement('strong');
  title.textContent = errorTitle(e.code);
  const code = document.createElement('code');
  code.textContent = e.code;
  const msg = document.createElement('p');
  msg.textContent = e.message;
  box.append(title, ' ', code, msg);
  if (e.hint) {
    const hint = document.createElement('p');
    hint.className = 'hint';
    hint.textContent = `What to do: ${e.hint}`;
    box.append(hint);
  }
  box.append(dismissButton(box, 'Dismiss message'));
  return box;
}

/** The × that removes a message box from the page. */
export function dismissButton(box: HTMLElement, label: string): HTMLButtonElement {
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'dismiss';
  close.setAttribute('aria-label', label);
  close.textContent = '×';
  close.addEventListener('click', () => box.remove());
  return close;
}
