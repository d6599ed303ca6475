// erta-diffusion/node: generate and calibrate on onnxruntime-node, the same core the browser
// runs and the one the CLI (src/cli) adapts to flags. onnxruntime-node is a peer dependency.

/**
 * Generation and calibration in Node on onnxruntime-node (a peer dependency): {@link generate}
 * and {@link calibrate}, the same core the browser runs and the CLI adapts to flags.
 *
 * @module erta-diffusion/node
 */

export { generate } from './generate.ts';
export type { ClipPngOptions, GenerateReport, NodeGenerateOptions, NodeGenerateResult } from './generate.ts';
export { calibrate } from './calibrate.ts';
export type { CalibrateReport, NodeCalibrateOptions, PlanSummary } from './calibrate.ts';
export { OptionError, PACKAGED_MODEL_DIR } from './options.ts';
export { BadInputError, DiffusionError, isDiffusionError, UnsupportedError } from '../core/errors.ts';
export type { ErrorCode } from '../core/errors.ts';
export { POLICY_KINDS, type PolicyKind } from '../cache/policy.ts';
export type { VariantError } from '../cache/plan.ts';
export type { TimeMode } from '../core/schedules.ts';
export type { GraphMode, RectificationSpace } from '../manifest/types.ts';
