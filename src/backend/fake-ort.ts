// A fake onnxruntime namespace for unit tests of the backend: sessions that compute known
// functions, tensors that can pose as GPU-resident (reading .data throws, as it does in ORT for
// a gpu-buffer tensor), and a session that fails like onnxruntime-web when runs overlap.

import type { OrtDtype, OrtNamespace, OrtSession, OrtTensorLike } from './ort-types.ts';

export class FakeTensor implements OrtTensorLike {
  disposed = false;
  constructor(
    readonly type: string,
    private readonly values: unknown,
    readonly dims: readonly number[],
    readonly location: 'cpu' | 'gpu-buffer' = 'cpu',
  ) {}
  get data(): unknown {
    if (this.location !== 'cpu') throw new Error('The data is not on CPU. Use `getData()` to download');
    return this.values;
  }
  async getData(): Promise<unknown> {
    return this.values;
  }
  dispose(): void {
    this.disposed = true;
  }
}

export type FakeGraph = (feeds: Record<string, FakeTensor>) => Record<string, FakeTensor>;

export interface FakeSession extends OrtSession<FakeTensor> {
  readonly feeds: Record<string, FakeTensor>[];
}

/** A session over a function; it rejects a run while another is in flight ("Session already started"). */
export function fakeSession(inputNames: string[], outputNames: string[], graph: FakeGraph): FakeSession {
  let busy = false;
  const feeds: Record<string, FakeTensor>[] = [];
  return {
    inputNames,
    outputNames,
    feeds,
    async run(f) {
      if (busy) throw new Error('Session already started');
      busy = true;
      feeds.push(f);
      await new Promise((r) => setTimeout(r, 1));
      busy = false;
      return graph(f);
    },
    release: async () => {},
  };
}

export function fakeOrt(): OrtNamespace<FakeTensor> & { created: Uint8Array[] } {
  const created: Uint8Array[] = [];
  return {
    created,
    InferenceSession: {
      async create(model: Uint8Array) {
        created.push(model);
        return fakeSession([], [], () => ({}));
      },
    },
    Tensor: class extends FakeTensor {
      constructor(type: OrtDtype, data: Float32Array | Int32Array | BigInt64Array, dims: readonly number[]) {
        super(type, data, dims);
      }
    },
  };
}

/** A GPU-resident stand-in: any attempt to read it on the host throws. */
export function gpuTensor(dims: number[]): FakeTensor {
  return new FakeTensor('float32', null, dims, 'gpu-buffer');
}
