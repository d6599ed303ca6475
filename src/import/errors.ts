// Typed errors of the model importer (`npm run import-model`): each says what was wrong with the
// ONNX file or the flags and what to pass or change.

import { DiffusionError, type ErrorCode } from '../core/errors.ts';

export type ImportErrorCode = Extract<ErrorCode,
  | 'IMPORT_NOT_ONNX' | 'IMPORT_NO_STACK' | 'IMPORT_NOT_A_DIT' | 'IMPORT_TENSOR_UNKNOWN'
  | 'IMPORT_UNSUPPORTED' | 'IMPORT_PARITY' | 'IMPORT_EXTERNAL_DATA'>;

export class ImportError extends DiffusionError {
  declare readonly code: ImportErrorCode;
  /** For IMPORT_NO_STACK: tensors that could be the stack's input and output, with shapes. */
  readonly candidates: string[];
  constructor(code: ImportErrorCode, message: string, hint: string, candidates: string[] = [], options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.candidates = candidates;
  }
}
