// Typed errors for artifacts loaded at the boundary (manifests, plans, model files). The codes
// live in src/core/errors.ts with all others; this subclass lets callers tell "the model files
// are wrong" (fix the export) from other failures.

import { DiffusionError, type ErrorCode } from '../core/errors.ts';

export type ModelErrorCode = Extract<
  ErrorCode,
  | 'MANIFEST_FIELD_MISSING'
  | 'MANIFEST_FIELD_INVALID'
  | 'MANIFEST_FORMAT'
  | 'MANIFEST_VERSION'
  | 'GRAPH_MISSING'
  | 'GRAPH_IO_MISSING'
  | 'GRAPH_SPEC_MISMATCH'
  | 'LABEL_DTYPE_UNSUPPORTED'
  | 'MODEL_FILE_MISSING'
  | 'MODEL_FILE_HASH_MISMATCH'
  | 'MODEL_HASH_MISMATCH'
  | 'MODEL_FILE_URL'
  | 'MODEL_FILE_CORRUPT'
  | 'MANIFEST_TOO_LARGE'
  | 'SESSION_IO_MISMATCH'
  | 'PLAN_NOT_FOUND'
  | 'PLAN_MISMATCH'
>;

export class ModelError extends DiffusionError {
  declare readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
  }
}

export function manifestError(
  code: ModelErrorCode,
  message: string,
  hint: string,
  options?: { cause?: unknown },
): ModelError {
  return new ModelError(code, message, hint, options);
}
