// The linear latent → RGB preview map as one WGSL dispatch on ORT's device, so a text model's
// preview frame costs the read-back of 3 planes and nothing else (the latent never leaves the GPU).
// Its own tiny pipeline rather than a TensorOps method: only pipelines with a preview map need it.

import type { Tensor } from 'onnxruntime-web';
import { packParams, WORKGROUP } from './webgpu-kernels.ts';
import type { GpuTensorFactory } from './webgpu-ops.ts';
import type { DevicePreviewMap } from './text-pipeline.ts';

const UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST
const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST

// out[o·plane + p] = bias[o] + Σ_c M[c][o] · x[c·plane + p]; coef = [M row-major (C×3), bias (3)].
const PREVIEW_WGSL = /* wgsl */ `
struct Params { n: u32, m: u32, inner: u32, pad: u32, alpha: f32, beta: f32, pad1: f32, pad2: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= p.n) { return; }
  let plane = p.inner;
  let o = k / plane;
  let px = k % plane;
  var acc = coef[p.m * 3u + o];
  for (var c = 0u; c < p.m; c++) {
    acc += coef[c * 3u + o] * x[c * plane + px];
  }
  out[k] = acc;
}`;

export function createWebGpuPreview(ort: GpuTensorFactory, device: GPUDevice): DevicePreviewMap<Tensor> {
  let pipe: GPUComputePipeline | null = null;
  return (x, matrix, bias) => {
    pipe ??= device.createComputePipeline({
      layout: 'auto', compute: { module: device.createShaderModule({ code: PREVIEW_WGSL, label: 'erta-preview' }), entryPoint: 'main' },
    });
    // [1, C, H, W], or a video's [1, C, F, H, W]: one plane per channel either way
    const channels = x.dims[1]!;
    const plane = x.dims.slice(2).reduce((a, d) => a * d, 1);
    const n = 3 * plane;
    const uniform = device.createBuffer({ size: 32, usage: UNIFORM });
    device.queue.writeBuffer(uniform, 0, packParams({ n, m: channels, inner: plane }));
    const coef = new Float32Array(matrix.length + 3);
    coef.set(matrix);
    coef.set(bias, matrix.length);
    const coefBuf = device.createBuffer({ size: Math.ceil(coef.byteLength / 16) * 16, usage: STORAGE });
    device.queue.writeBuffer(coefBuf, 0, coef);
    const out = device.createBuffer({ size: Math.ceil((n * 4) / 16) * 16, usage: STORAGE });
    const entries = [uniform, x.gpuBuffer as GPUBuffer, coefBuf, out].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
    pass.end();
    device.queue.submit([enc.finish()]);
    uniform.destroy(); // destroy after submit: the queued work keeps what it needs
    coefBuf.destroy();
    return ort.Tensor.fromGpuBuffer(out, { dataType: 'float32', dims: [1, 3, ...x.dims.slice(2)], dispose: () => out.destroy() });
  };
}
