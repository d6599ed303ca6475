// The model manifest (manifest.json beside the .onnx files), as written by tools/export.py and
// extended by `npm run calibrate` (the "plans" list). Pure types; validation is in validate.ts.

import type { ShardEntry } from './shards.ts';

import type { DdimConfig } from '../core/ddim.ts';

export const MANIFEST_FORMAT = 'erta-diffusion-manifest';
/** Version 1: a class-conditional DiT (graphs only). Version 2: components (pipelines.md). */
export const MANIFEST_VERSION = 1;
export const PIPELINE_MANIFEST_VERSION = 2;
export const MANIFEST_VERSIONS: readonly number[] = [MANIFEST_VERSION, PIPELINE_MANIFEST_VERSION];

/** Tensor element types a graph boundary may use. */
export type TensorDtype = 'float32' | 'int32' | 'int64';
/** Integer dtypes accepted for the class label input y (model.md: int32 or int64). */
export type LabelDtype = 'int32' | 'int64';

/** One input or output: a dimension is a number, or a symbol such as "B" (dynamic batch). */
export interface TensorSpec {
  dtype: TensorDtype;
  shape: (number | string)[];
}

/** Transformer graphs (embed | blocks | head, or model), the classifier, and a pipeline's other graphs. */
export type GraphName = 'embed' | 'blocks' | 'head' | 'model' | 'classifier' | PipelineGraphName;
export type PipelineGraphName = TextEncoderGraphName | 'context' | 'vaeDecoder';
/** The text encoders' graphs: the first, and the second / third of a multi-encoder pipeline (Flux: T5 + CLIP; SD3: CLIP-L, CLIP-G, T5). */
export type TextEncoderGraphName = 'textEncoder' | 'textEncoder2' | 'textEncoder3';
export const TEXT_ENCODER_GRAPHS: readonly TextEncoderGraphName[] = ['textEncoder', 'textEncoder2', 'textEncoder3'];

export interface GraphEntry {
  /** File name relative to the manifest's directory. */
  file: string;
  /** Lower-case hex sha256 of the file; checked before a session is created. */
  sha256: string;
  bytes: number;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
  flopsPerSample?: number;
  /** ONNX external data: the graph's weights in shards (< 2 GB each), see shards.ts. */
  externalData?: ShardEntry[];
  /** Bytes of the graph's largest weight tensor (one GPU buffer); checked against the adapter's limits. */
  largestTensorBytes?: number;
  /** 'float16': the weights and matmuls are fp16 (WebGPU needs shader-f16); absent means float32. */
  weightsDtype?: 'float32' | 'float16';
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

/** A class-conditional model: labels 0 … classes−1, nullLabel is the unconditional branch. */
export interface ClassConditioning {
  type: 'class';
  classes: number;
  nullLabel: number;
  labelDtype: LabelDtype;
}

/** A text-conditioned model: prompts → tokenizer → text encoder (→ context graph) → blocks. */
export interface TextConditioning {
  type: 'text';
  /** Tokens the encoder reads; longer prompts are truncated (with a warning event). */
  maxTokens: number;
  /** Width of one context token as the blocks read it. */
  contextDim: number;
  /**
   * Models whose time embedding also takes the pooled text embedding (SD3 / Flux `pooled_projections`):
   * its width P. It comes from the text encoder's output `components.textEncoder.io.pooled` [1, P].
   */
  pooledDim?: number;
  /** The unconditional branch of CFG when a request names no negative prompt (usually ""). */
  defaultNegativePrompt: string;
  /** Prompts the model does well, for a page to offer (the demo's example buttons); may be empty. */
  examplePrompts: string[];
}

export type Conditioning = ClassConditioning | TextConditioning;

/** A file the manifest lists that is not a graph (tokenizer.json). */
export interface FileEntry {
  file: string;
  sha256: string;
  bytes: number;
}

/** A tokenizer.json the manifest lists, with the length its encoder reads and the id it pads with. */
export type TokenizerEntry = FileEntry & { maxLength: number; padId: number };

/**
 * One text encoder with its own tokenizer. `io.inputIds` names the graph's one input [1, tokenizer.maxLength];
 * which outputs are read, and where they go, is the pipeline's `assembly`. (The single-encoder form of the
 * manifest also names them here: `hiddenStates`, `pooled`.)
 */
export interface TextEncoderSpec {
  graph: TextEncoderGraphName;
  tokenizer: TokenizerEntry;
  io: { inputIds: string; hiddenStates?: string; pooled?: string };
}

/** An output of one of the pipeline's text encoders: `encoder` indexes `encoders`, `output` is the graph's output name. */
export interface EncoderOutputRef { encoder: number; output: string }

/**
 * How the conditioning row is assembled from the encoders' outputs (data, not code):
 * - `context`: the segments concatenated along the sequence, in order; a segment is its outputs ([1, Lk, Wi], one
 *   token count) concatenated along the features and zero-padded to `padTo` (default: the sum of the widths).
 *   Flux: [[T5]]; SD3: [[CLIP-L, CLIP-G] padded to T5's width, [T5]].
 * - `pooled`: outputs [1, Pi] concatenated along the features (SD3: CLIP-L's and CLIP-G's text_embeds; Flux: CLIP's
 *   pooler_output); empty for a model without a pooled text input.
 */
export interface TextAssembly {
  /** `features` empty with `tokens`: that many zero tokens (SD3 without its T5: diffusers fills T5's tokens with zeros). */
  context: { features: EncoderOutputRef[]; padTo?: number; tokens?: number }[];
  pooled: EncoderOutputRef[];
}

/**
 * The components of a text-to-image pipeline beyond the transformer (manifest version 2,
 * shared/design/pipelines.md). Graph I/O names are data: each `io` maps the role the runtime
 * feeds or reads onto the graph's own input/output name.
 */
export interface TextPipeline {
  /** One or more (≤ 3) text encoders, each with its tokenizer; every prompt is encoded by all of them once. */
  encoders: TextEncoderSpec[];
  /** How the context rows and the pooled vector are made from the encoders' outputs. */
  assembly: TextAssembly;
  /** Optional per-prompt projection (PixArt's caption_projection) between encoder and blocks. */
  context: { graph: 'context'; io: { hiddenStates: string; context: string } } | null;
  /** Names of the transformer graphs' inputs and outputs, by role. */
  transformerIo: TransformerIo;
  vaeDecoder: {
    graph: 'vaeDecoder';
    io: { latent: string; image: string };
    /**
     * The decoder reads latent / scalingFactor + shiftFactor (diffusers' convention), then, when given, · latentsStd[c] +
     * latentsMean[c] per latent channel (Wan's VAE: latents_mean / latents_std, scalingFactor 1, shiftFactor 0).
     */
    scalingFactor: number;
    shiftFactor: number;
    latentsMean?: number[];
    latentsStd?: number[];
  };
  /** Cheap x̂₀ previews: RGB = Mᵀ·latent + bias per pixel (a C×3 matrix, as ComfyUI's previews). */
  preview: { type: 'linear'; matrix: number[][]; bias: number[] };
}

export interface TransformerIo {
  latent: string;
  sigma: string;
  hidden: string;
  temb: string;
  mod0: string;
  context: string;
  hiddenOut: string;
  velocity: string;
  /** Embed's and the single graph's pooled text embedding input [B, P] (with conditioning.pooledDim). */
  pooled?: string;
  /** Embed's and the single graph's guidance scale input [B] (guidance-distilled models, Flux dev; with scheduler.defaultEmbeddedGuidance). */
  guidance?: string;
}

/** A latent's (or the final image's) size; `frames` only for video models (planar [C, F, H, W]). */
export interface LatentSize {
  channels: number;
  height: number;
  width: number;
  frames?: number;
}

/** Per-sample dims: [C, H, W], or [C, F, H, W] for a video. */
export function latentDims(l: LatentSize): number[] {
  return l.frames === undefined ? [l.channels, l.height, l.width] : [l.channels, l.frames, l.height, l.width];
}

/** Elements of one sample (C·H·W, or C·F·H·W). */
export function latentSize(l: LatentSize): number {
  return l.channels * (l.frames ?? 1) * l.height * l.width;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  /** 1 (class DiT, graphs only) or 2 (components; pipelines.md). */
  version: number;
  name: string;
  /** sha256 over the graphs' sha256 values (export.py); plans are bound to it. */
  modelHash: string;
  architecture: Record<string, unknown>;
  /** `frames`: a video model (Wan style, version 2 text models only): latents [C, F, H, W]. */
  latent: LatentSize;
  /** The final image the model produces: the latent itself (version 1) or the VAE's output ([3, F, H', W'] for a video). */
  image: LatentSize;
  hidden: { tokens: number; dim: number };
  conditioning: Conditioning;
  /** Text models only: tokenizer, encoder, context, VAE decoder and preview map. */
  pipeline: TextPipeline | null;
  graphs: Partial<Record<GraphName, GraphEntry>>;
  scheduler: {
    /**
     * 'flow-match-euler': the graphs predict the flow velocity at σ. 'ddim': they predict ε at the
     * training timestep t (VP diffusion, DiT); the runtime samples it as Euler in flow variables
     * (src/core/ddim.ts), with `ddim` the training schedule.
     */
    type: 'flow-match-euler' | 'ddim';
    /** Timestep shift of flowMatchSigmas (1 = none; always 1 for 'ddim'). */
    shift: number;
    /** type 'ddim' only: the training noise schedule. */
    ddim?: DdimConfig;
    defaultSteps: number;
    defaultGuidance: number;
    /**
     * Models with a guidance input (transformer io `guidance`, Flux dev): the guidance scale fed to the model's
     * guidance embedding when a request names none (GenerateRequest.embeddedGuidance). Absent otherwise.
     */
    defaultEmbeddedGuidance?: number;
  };
  /** Model-space range `from` of the final image maps linearly onto pixel range `to`. */
  preview: { from: [number, number]; to: [number, number]; channels: number };
  plans: PlanEntry[];
  /** Text models: a manifest-relative JSON file of calibration prompts (never evaluation prompts). */
  calibrationPrompts?: string;
  /** Text models: a manifest-relative JSON file of evaluation prompts, refused by calibration. */
  evaluationPrompts?: string;
  /**
   * Opt-in: other http(s) origins model files may be loaded from (default: none, every file
   * lies inside the manifest's folder). See src/manifest/urls.ts.
   */
  fileOrigins?: string[];
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
