// Errors only the browser backend can meet (network, storage, WebGPU). They carry a code and a
// hint like core's DiffusionError, whose ErrorCode union does not list them (yet); the runtime's
// RuntimeErrorCode (src/runtime/api.ts) is the union of both, and both cross Comlink intact.

export type WebBackendErrorCode =
  | 'MODEL_NOT_FOUND' // an HTTP error (404 …) for the manifest or a plan
  | 'NETWORK' // fetch itself failed: offline, blocked, CORS
  | 'WEBGPU_UNAVAILABLE' // WebGPU was forced and no usable adapter exists
  | 'BACKEND_INIT' // the execution provider failed to start or to create a session
  | 'ORT_FILES_NOT_FOUND' // ONNX Runtime's .wasm/.mjs are not where the runtime looked (ortBaseUrl)
  | 'WASM_BLOCKED' // the page's Content-Security-Policy forbids compiling WebAssembly
  | 'DEVICE_LOST' // the GPU device went away
  | 'STORAGE_QUOTA' // the origin's storage (or the disk under it) cannot hold the model's files (the message says how many bytes)
  | 'STORAGE_IO' // a stored model file could not be read or written for another reason (names the file and the browser's cause)
  | 'ADAPTER_LIMITS' // the WebGPU adapter's limits are below what the model needs (names the limit)
  | 'SHADER_F16_UNAVAILABLE'; // an fp16 model on a WebGPU adapter without shader-f16

export class WebBackendError extends Error {
  readonly code: WebBackendErrorCode;
  readonly hint: string;
  constructor(code: WebBackendErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebBackendError';
    this.code = code;
    this.hint = hint;
  }
}

/** A readable one-liner for any thrown value (for reasons and wrapped messages). */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
