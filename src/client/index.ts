// erta-diffusion: the page API. A RuntimeApi in its own worker (createRuntimeClient), its
// request, result and event types, and its typed errors. No side effect: the element is in
// erta-diffusion/element.

/**
 * The page API: `createRuntimeClient()` runs the diffusion runtime in its own Web Worker
 * (onnxruntime-web, WebGPU or WASM) and returns its {@link RuntimeApi}: `load`, `generate`,
 * `cancel`, `dispose`, and `calibrate` (a plan fitted in the browser, kept in IndexedDB). Errors are {@link RuntimeError}s with a `code` and a `hint`. No side effect.
 *
 * @module erta-diffusion
 */

export { createDiffusionWorker, createRuntimeClient } from './runtime-client.ts';
export type { RuntimeClient, RuntimeClientOptions } from './runtime-client.ts';
export { RuntimeError } from '../runtime/api.ts';
export type {
  DoneEvent, DownloadEvent, Frame, GenerateEvent, GenerateRequest, GenerateResult, LoadEvent, LoadOptions, ModelInfo,
  PolicyRequest, PreviewEvent, ProviderName, ProviderReport, ProviderRequest, RunStats, RuntimeApi, RuntimeErrorCode,
  RuntimeEvent, StepEvent, WarningEvent, CachedModel, ModelStorageApi,
  CalibrateRequest, CalibrateResult, CalibrationApi, CalibrationEvent, CalibrationPolicy,
} from '../runtime/api.ts';
export { POLICY_KINDS, type PolicyKind } from '../cache/policy.ts';
export { ORT_ALL_FILES, ORT_FILE_NAMES, type OrtFiles } from '../backend/ort-files.ts';
export type { PlanEntry } from '../manifest/types.ts';
