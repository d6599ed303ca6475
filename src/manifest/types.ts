// The model manifest (manifest.json beside the .onnx files), as written by tools/export.py and
// extended by `npm run calibrate` (the "plans" list). Pure types; validation is in validate.ts.

export const MANIFEST_FORMAT = 'erta-diffusion-manifest';
export const MANIFEST_VERSION = 1;

/** Tensor element types a graph boundary may use. */
export type TensorDtype = 'float32' | 'int32' | 'int64';
/** Integer dtypes accepted for the class label input y (model.md: int32 or int64). */
export type LabelDtype = 'int32' | 'int64';

/** One input or output: a dimension is a number, or a symbol such as "B" (dynamic batch). */
export interface TensorSpec {
  dtype: TensorDtype;
  shape: (number | string)[];
}

export type GraphName = 'embed' | 'blocks' | 'head' | 'model' | 'classifier';

export interface GraphEntry {
  /** File name relative to the manifest's directory. */
  file: string;
  /** Lower-case hex sha256 of the file; checked before a session is created. */
  sha256: string;
  bytes: number;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
  flopsPerSample?: number;
}

/** A calibrated plan shipped with the model (plans/*.json), as listed in the manifest. */
export interface PlanEntry {
  file: string;
  /** Policy kind the plan is for: 'ertacache', 'teacache', 'magcache', ... */
  kind: string;
  steps: number;
  /** Computed-step budget the plan was searched for; absent for budget-free plans. */
  budget?: number;
  /** ERTACache only: where the rectification was fitted. Absent means 'output'. */
  space?: RectificationSpace;
  /** ERTACache only: how φ was fitted ('lsq' is an experiment, see src/calibrate/fit.ts). Absent means 'paper'. */
  phi?: 'paper' | 'lsq';
}

export type RectificationSpace = 'output' | 'hidden';

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  name: string;
  /** sha256 over the graphs' sha256 values (export.py); plans are bound to it. */
  modelHash: string;
  architecture: Record<string, unknown>;
  latent: { channels: number; height: number; width: number };
  hidden: { tokens: number; dim: number };
  conditioning: { type: 'class'; classes: number; nullLabel: number; labelDtype: LabelDtype };
  graphs: Partial<Record<GraphName, GraphEntry>>;
  scheduler: {
    type: 'flow-match-euler';
    /** Timestep shift of flowMatchSigmas (1 = none). */
    shift: number;
    defaultSteps: number;
    defaultGuidance: number;
  };
  /** Model-space range `from` maps linearly onto pixel range `to`. */
  preview: { from: [number, number]; to: [number, number]; channels: number };
  plans: PlanEntry[];
  /** Free-form provenance ("trained", "random (timing only)"). */
  weights?: string;
  /** Where the manifest was loaded from (a directory path or a URL); files resolve against it. */
  baseUrl: string;
}

/** Which graphs a generation runs: the split DiT (cacheable in hidden space) or model.onnx. */
export type GraphMode = 'split' | 'single';

export const GRAPHS_FOR_MODE: Record<GraphMode, readonly GraphName[]> = {
  split: ['embed', 'blocks', 'head'],
  single: ['model'],
};
