// Typed errors shared by the whole project. Every error a user can meet carries a stable
// `code` (for programs: the runtime maps it onto its API) and a `hint` (for people: what to do).

/** Known error codes. Add new codes here rather than inventing strings at throw sites. */
export type ErrorCode =
  | 'CANCELLED' // the caller asked to stop; not a failure
  | 'INTERNAL' // a broken invariant inside the project: a bug to report
  | 'UNSUPPORTED' // a valid request this model/backend combination cannot serve
  | 'BAD_INPUT' // an argument outside its documented domain
  | 'UNKNOWN_POLICY' // cache policy kind not in the registry
  | 'PLAN_INVALID' // a plan file that does not match the plan schema
  | 'PLAN_MISMATCH' // a valid plan fitted for another model / step count
  | 'CALIBRATION_SEED' // calibration asked to use evaluation seeds
  | 'CONDITIONING_MISMATCH' // a prompt for a class model, or a label for a text model
  // model artifacts (src/manifest, src/backend)
  | 'MANIFEST_FIELD_MISSING' // manifest.json lacks a required field
  | 'MANIFEST_FIELD_INVALID' // a manifest field has the wrong type or range
  | 'MANIFEST_FORMAT' // not an erta-diffusion manifest
  | 'MANIFEST_VERSION' // manifest version this runtime cannot read
  | 'GRAPH_MISSING' // a graph the chosen mode needs is not listed
  | 'GRAPH_IO_MISSING' // a graph lacks an input/output name of the contract (model.md)
  | 'GRAPH_SPEC_MISMATCH' // a graph input/output has the wrong dtype or shape
  | 'LABEL_DTYPE_UNSUPPORTED' // conditioning.labelDtype is not int32/int64
  | 'MODEL_FILE_MISSING' // a file the manifest lists cannot be read
  | 'MODEL_FILE_HASH_MISMATCH' // a model file's sha256/size differs from the manifest
  | 'MODEL_HASH_MISMATCH' // modelHash is not the hash of the graph files the manifest lists
  | 'MODEL_FILE_URL' // a file reference leaves the model folder, or uses a forbidden scheme
  | 'MODEL_FILE_CORRUPT' // a model file matches its hash but ONNX Runtime cannot parse it
  | 'MANIFEST_TOO_LARGE' // a manifest or plan file larger than any real one
  | 'SESSION_IO_MISMATCH' // an ONNX session's input/output names differ from the manifest
  | 'PLAN_NOT_FOUND' // the manifest lists no plan for this policy/steps/budget
  // the model importer (src/import)
  | 'IMPORT_NOT_ONNX' // the file is not an ONNX model
  | 'IMPORT_NO_STACK' // no block stack found by name: pass --blocks-input / --blocks-output
  | 'IMPORT_NOT_A_DIT' // the graph's inputs are not those of a diffusion transformer
  | 'IMPORT_TENSOR_UNKNOWN' // a --blocks-* flag names no tensor, or no path between them
  | 'IMPORT_UNSUPPORTED' // a DiT the importer cannot split yet (says which tensor and why)
  | 'IMPORT_PARITY' // the split graphs do not reproduce the single graph
  | 'IMPORT_EXTERNAL_DATA'; // a weight's external data file is missing, outside the graph's folder or too short

export class DiffusionError extends Error {
  readonly code: ErrorCode;
  /** What the user (or the calling code) should do about it. */
  readonly hint: string;

  constructor(code: ErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** Thrown by the sampler when isCancelled() returns true before a step. */
export class CancelledError extends DiffusionError {
  constructor(step: number) {
    super('CANCELLED', `generation cancelled before step ${step}`, 'nothing to fix; start a new run');
  }
}

/** A state the code should make impossible: always a bug, never the user's input. */
export class InternalError extends DiffusionError {
  constructor(message: string) {
    super('INTERNAL', message, 'this is a bug in erta-diffusion; please report it with the message');
  }
}

export class UnsupportedError extends DiffusionError {
  constructor(message: string, hint: string) {
    super('UNSUPPORTED', message, hint);
  }
}

export class BadInputError extends DiffusionError {
  constructor(message: string, hint: string) {
    super('BAD_INPUT', message, hint);
  }
}

/** A request's conditioning does not fit the model's (a prompt for a class model, a label for a text model). */
export class ConditioningError extends DiffusionError {
  constructor(message: string, hint: string) {
    super('CONDITIONING_MISMATCH', message, hint);
  }
}

export function isDiffusionError(e: unknown): e is DiffusionError {
  return e instanceof DiffusionError;
}
