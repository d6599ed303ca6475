// What the diffusion worker exposes over Comlink: the RuntimeApi, plus where ONNX Runtime's
// files are (the page's client knows: they sit beside the package's modules, or wherever the
// ortBaseUrl option says). Pages never call this directly; src/client does.

import type { OrtBuildRequest, OrtFiles } from '../backend/ort-files.ts';
import type { CalibrationApi, ModelStorageApi, RuntimeApi } from './api.ts';

export interface WorkerApi extends RuntimeApi, ModelStorageApi, CalibrationApi {
  /**
   * Where ORT's .wasm/.mjs are (null: where the worker looks by default), which build to run,
   * and how many WASM threads (undefined: min(4, cores)). Takes effect if called before the first load().
   */
  useOrtFiles(files: OrtFiles | null, build?: OrtBuildRequest, wasmThreads?: number): Promise<void>;
}
