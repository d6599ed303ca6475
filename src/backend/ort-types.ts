// The minimal structural shape of an onnxruntime namespace. The backend is written against this,
// never against a concrete package, so the same code runs on onnxruntime-node (CLI, tests) and
// onnxruntime-web (worker): the caller injects `import * as ort from 'onnxruntime-…'`.
// Both packages' namespaces are assignable to OrtNamespace<ort.Tensor> (ort-types.test.ts).

/** Element types the backend creates or reads. */
export type OrtDtype = 'float32' | 'int32' | 'int64';

/** What the backend needs of a tensor. `data` is only valid for CPU tensors (location 'cpu'). */
export interface OrtTensorLike {
  readonly dims: readonly number[];
  readonly type: string;
  readonly location: string;
  readonly data: unknown;
  getData(releaseData?: boolean): Promise<unknown>;
  dispose(): void;
}

/** Session options pass through untouched (executionProviders, preferredOutputLocation, …). */
export type OrtSessionOptions = object;

export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  /** Tensors only: element type and shape (numbers, or symbols for dynamic dimensions). */
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface OrtSession<T> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** What the graph declares for each input/output (onnxruntime ≥ 1.22); absent in fakes. */
  readonly inputMetadata?: readonly OrtValueMetadata[];
  readonly outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, T>): Promise<Record<string, T>>;
  release(): Promise<void>;
}

export interface OrtNamespace<T extends OrtTensorLike> {
  InferenceSession: {
    /** A model's bytes, or (graphs with external-data shards in Node) its file path. */
    create(model: Uint8Array | string, options?: OrtSessionOptions): Promise<OrtSession<T>>;
  };
  Tensor: new (
    type: OrtDtype,
    data: Float32Array | Int32Array | BigInt64Array,
    dims: readonly number[],
  ) => T;
}
