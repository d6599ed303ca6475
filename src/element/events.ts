// The element's events: typed CustomEvents that bubble and cross shadow boundaries (composed),
// so a page can listen on the element or on any ancestor.

import type { CalibrateResult, CalibrationEvent, Frame, GenerateResult, ModelInfo, ProviderReport, RunStats } from '../runtime/api.ts';

/** Model download / load progress. `loaded`/`total` are bytes over all files of the model. */
export interface ErtaProgressDetail {
  phase: 'download' | 'ready';
  file: string | null;
  loaded: number;
  total: number;
  fromCache: boolean;
}

export interface ErtaStepDetail {
  jobId: string;
  i: number;
  steps: number;
  decision: 'compute' | 'reuse';
  ms: number;
}

export interface ErtaFrameDetail {
  jobId: string;
  /** Step index the preview was taken after; `final` marks the finished image. */
  i: number;
  final: boolean;
  /** The image (a video model: the clip's first frame). */
  frame: Frame;
  /** Video models only: every frame of the clip (the element loops them on its canvas). */
  frames?: Frame[];
}

export interface ErtaDoneDetail {
  jobId: string;
  result: GenerateResult;
  stats: RunStats;
  model: ModelInfo;
  provider: ProviderReport;
}

/** calibrate() progress: the runtime's CalibrationEvent (phase, message, transformer passes). */
export type ErtaCalibrationDetail = Omit<CalibrationEvent, 'type'>;

/** calibrate() finished: the plan is stored and the next generate() with its policy, steps and budget uses it. */
export interface ErtaCalibratedDetail {
  jobId: string;
  result: CalibrateResult;
  model: ModelInfo;
}

export interface ErtaErrorDetail {
  /** A RuntimeErrorCode, or BAD_INPUT for an attribute that does not parse. */
  code: string;
  message: string;
  hint: string;
}

export interface ErtaEventMap {
  'erta-progress': CustomEvent<ErtaProgressDetail>;
  'erta-step': CustomEvent<ErtaStepDetail>;
  'erta-frame': CustomEvent<ErtaFrameDetail>;
  'erta-done': CustomEvent<ErtaDoneDetail>;
  'erta-error': CustomEvent<ErtaErrorDetail>;
  'erta-calibration': CustomEvent<ErtaCalibrationDetail>;
  'erta-calibrated': CustomEvent<ErtaCalibratedDetail>;
}

export type ErtaEventName = keyof ErtaEventMap;
type DetailOf<K extends ErtaEventName> = ErtaEventMap[K] extends CustomEvent<infer D> ? D : never;

/** Dispatch a bubbling, composed event; returns what dispatchEvent returns. */
export function emit<K extends ErtaEventName>(target: EventTarget, name: K, detail: DetailOf<K>): boolean {
  return target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
}

/** Anything thrown → the error detail (typed runtime errors keep their code and hint). */
export function toErrorDetail(e: unknown): ErtaErrorDetail {
  const r = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; message?: unknown; hint?: unknown };
  return {
    code: typeof r.code === 'string' ? r.code : 'INTERNAL',
    message: typeof r.message === 'string' ? r.message : String(e),
    hint: typeof r.hint === 'string' ? r.hint : 'see the browser console for details',
  };
}

declare global {
  // Typed listeners: el.addEventListener('erta-step', (e) => e.detail.decision).
  interface HTMLElementEventMap extends ErtaEventMap {}
}
