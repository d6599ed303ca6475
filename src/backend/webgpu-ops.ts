// TensorOps over GPU-resident onnxruntime-web tensors: WGSL (webgpu-kernels.ts) on ORT's own
// GPUDevice, so a step never leaves the GPU. Ordering needs no fences: ORT's WebGPU EP submits
// its work when session.run resolves, and one device queue executes submissions in order.
// Buffers come from a pool keyed by size: a generation allocates the same sizes every step, so
// after the first run nothing new is allocated (memory stays flat over many generations).

import type { Tensor } from 'onnxruntime-web';
import { BadInputError, UnsupportedError } from '../core/errors.ts';
import type { ChannelLayout, Dims, TensorOps } from '../core/types.ts';
import { KERNELS, packParams, WORKGROUP, type KernelName, type KernelParams } from './webgpu-kernels.ts';

export interface GpuOps extends TensorOps<Tensor> {
  /** Host read-backs performed: read() and relL1(). */
  readonly readbacks: number;
  /** Bytes held by the pool (live tensors and free buffers); for leak checks. */
  readonly pooledBytes: number;
  /** Resolves when all submitted GPU work (ORT's and ours) is done; no data moves. */
  sync(): Promise<void>;
  /** Destroys every pooled buffer. Tensors made by these ops must not be used afterwards. */
  release(): void;
}

/** What the ops need of the ORT namespace: making a tensor around a GPUBuffer. */
export interface GpuTensorFactory {
  Tensor: { fromGpuBuffer(buffer: GPUBuffer, options: { dataType: 'float32'; dims: readonly number[]; dispose?: () => void }): Tensor };
}

// WebGPU's GPUBufferUsage / GPUMapMode values, spelled out: the globals do not exist in browsers
// without WebGPU, and this module is imported there too (the WASM path never calls it).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40 | COPY_DST;
const STORAGE = 0x80 | COPY_SRC | COPY_DST;
const MAP_MODE_READ = 0x1;
/** ORT downloads copy whole 16-byte blocks, so every buffer is padded to a multiple of 16. */
const padded = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);

function createPool(device: GPUDevice) {
  const free = new Map<string, GPUBuffer[]>();
  const all = new Set<GPUBuffer>();
  return {
    acquire(bytes: number, usage: number): GPUBuffer {
      const size = padded(bytes);
      const reused = free.get(`${usage}:${size}`)?.pop();
      if (reused) return reused;
      const buf = device.createBuffer({ size, usage });
      all.add(buf);
      return buf;
    },
    // Safe right after a submit that uses `buf`: later writes reach the queue after that work.
    recycle(buf: GPUBuffer): void {
      if (!all.has(buf)) return;
      const key = `${buf.usage}:${buf.size}`;
      const list = free.get(key) ?? [];
      if (!list.includes(buf)) list.push(buf);
      free.set(key, list);
    },
    get bytes() { let s = 0; for (const b of all) s += b.size; return s; },
    destroy(): void { for (const b of all) b.destroy(); all.clear(); free.clear(); },
  };
}

const count = (dims: Dims) => dims.reduce((p, d) => p * d, 1);

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.dims.length !== b.dims.length || a.dims.some((d, k) => d !== b.dims[k])) {
    throw new BadInputError(`${op}: shapes [${a.dims}] and [${b.dims}] differ`, 'pass tensors of one shape');
  }
}

function bufferOf(t: Tensor): GPUBuffer {
  if (t.location !== 'gpu-buffer' || t.type !== 'float32') {
    throw new UnsupportedError(`WebGPU ops got a ${t.type} tensor on '${t.location}'`,
      "create sessions with preferredOutputLocation 'gpu-buffer' and inputs made by these ops");
  }
  return t.gpuBuffer as GPUBuffer;
}

export function createWebGpuOps(ort: GpuTensorFactory, device: GPUDevice): GpuOps {
  const pool = createPool(device);
  const pipelines = new Map<KernelName, GPUComputePipeline>();
  let readbacks = 0;

  const pipeline = (name: KernelName) => {
    let p = pipelines.get(name);
    if (!p) {
      const module = device.createShaderModule({ code: KERNELS[name], label: `erta-${name}` });
      p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      pipelines.set(name, p);
    }
    return p;
  };

  const wrap = (buf: GPUBuffer, dims: Dims): Tensor =>
    ort.Tensor.fromGpuBuffer(buf, { dataType: 'float32', dims: [...dims], dispose: () => pool.recycle(buf) });

  /** One dispatch, one submit; returns the output buffer (n floats). */
  const run = (name: KernelName, params: KernelParams, inputs: GPUBuffer[], outFloats: number, groups?: number) => {
    const uniform = pool.acquire(32, UNIFORM);
    device.queue.writeBuffer(uniform, 0, packParams(params));
    const out = pool.acquire(outFloats * 4, STORAGE);
    const pipe = pipeline(name);
    const entries = [uniform, ...inputs, out].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const bindGroup = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups ?? Math.ceil(params.n / WORKGROUP));
    pass.end();
    device.queue.submit([enc.finish()]);
    pool.recycle(uniform);
    return out;
  };

  const download = async (src: GPUBuffer, floats: number): Promise<Float32Array> => {
    readbacks++;
    const staging = device.createBuffer({ size: padded(floats * 4), usage: MAP_READ | COPY_DST });
    try {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, staging, 0, floats * 4);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_MODE_READ);
      return new Float32Array(staging.getMappedRange(0, floats * 4).slice(0));
    } finally {
      staging.destroy();
    }
  };

  const axpby = (a: Tensor, b: Tensor, alpha: number, beta: number, op: string): Tensor => {
    sameShape(a, b, op);
    const n = count(a.dims);
    return wrap(run('axpby', { n, alpha, beta }, [bufferOf(a), bufferOf(b)], n), a.dims);
  };

  return {
    get readbacks() { return readbacks; },
    get pooledBytes() { return pool.bytes; },
    fromHost(data, dims) {
      if (count(dims) !== data.length) {
        throw new BadInputError(`tensor data has ${data.length} elements but dims [${dims}] need ${count(dims)}`,
          'pass dims whose product equals the data length');
      }
      const buf = pool.acquire(data.byteLength, STORAGE);
      device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
      return wrap(buf, dims);
    },
    read: (t) => download(bufferOf(t), count(t.dims)),
    dims: (t) => t.dims,
    dispose: (t) => t.dispose(),
    tile(x, n) {
      if (x.dims[0] !== 1) throw new BadInputError(`tile needs batch 1, got [${x.dims}]`, 'tile a batch-1 tensor');
      const m = count(x.dims);
      return wrap(run('tile', { n: m * n, m }, [bufferOf(x)], m * n), [n, ...x.dims.slice(1)]);
    },
    add: (a, b) => axpby(a, b, 1, 1, 'add'),
    sub: (a, b) => axpby(a, b, 1, -1, 'sub'),
    axpy: (x, v, scale) => axpby(x, v, 1, scale, 'axpy'),
    guidance(v2, w) {
      if (v2.dims[0] !== 2) {
        throw new BadInputError(`guidance needs a batch of 2 [cond, uncond], got [${v2.dims}]`,
          'run the cond and uncond branches as one batch of 2');
      }
      const half = count(v2.dims) / 2;
      return wrap(run('guidance', { n: half, m: half, alpha: w }, [bufferOf(v2)], half), [1, ...v2.dims.slice(1)]);
    },
    rectifyAffine(t, a, b, layout: ChannelLayout) {
      const { channels, inner } = layout;
      const n = count(t.dims);
      if (a.length !== channels || b.length !== channels || n % (channels * inner) !== 0) {
        throw new BadInputError(
          `rectifyAffine: a/b have ${a.length}/${b.length} channels, layout ${channels}×${inner}, tensor [${t.dims}]`,
          'the rectification was fitted for another model; re-run calibration for this model');
      }
      const coef = pool.acquire(channels * 8, STORAGE);
      const host = new Float32Array(channels * 2);
      host.set(a, 0);
      host.set(b, channels);
      device.queue.writeBuffer(coef, 0, host);
      const out = run('rectify', { n, m: channels, inner }, [bufferOf(t), coef], n);
      pool.recycle(coef);
      return wrap(out, t.dims);
    },
    async relL1(a, b) {
      sameShape(a, b, 'relL1');
      const out = run('relL1', { n: count(a.dims) }, [bufferOf(a), bufferOf(b)], 2, 1);
      try {
        const [num, den] = await download(out, 2);
        return den! > 0 ? num! / den! : num! > 0 ? Infinity : 0;
      } finally {
        pool.recycle(out);
      }
    },
    sync: () => device.queue.onSubmittedWorkDone(),
    release: () => { pipelines.clear(); pool.destroy(); },
  };
}
