// Test-only page script: every WGSL op (src/backend/webgpu-ops.ts) against the Float32Array
// reference (src/core/ops.ts) on seeded random data, plus the read-back counter and the buffer
// pool (memory must not grow when the same shapes are computed again). Exposes `checkOps()`.

import { Tensor } from 'onnxruntime-web/webgpu';
import { createCpuOps, type CpuTensor } from '../src/core/ops.ts';
import { gaussianNoise } from '../src/core/rng.ts';
import type { ChannelLayout, Dims } from '../src/core/types.ts';
import { createWebGpuOps, type GpuOps } from '../src/backend/webgpu-ops.ts';
import { createWebGpuPreview } from '../src/backend/webgpu-preview.ts';
import { previewOnHost } from '../src/backend/text-pipeline.ts';

export interface OpCheck { op: string; maxDiff: number; length: number }
export interface OpsReport { checks: OpCheck[]; readbacks: number; pooledBefore: number; pooledAfter: number; relL1: [number, number] }

const cpu = createCpuOps();
const rand = (seed: number, dims: Dims): CpuTensor => ({ data: gaussianNoise(seed, dims.reduce((p, d) => p * d, 1)), dims });

async function compare(gpu: GpuOps, op: string, g: Tensor, c: CpuTensor, out: OpCheck[]): Promise<void> {
  const got = await gpu.read(g);
  gpu.dispose(g);
  let maxDiff = got.length === c.data.length ? 0 : Infinity;
  for (let k = 0; k < got.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - c.data[k]!));
  out.push({ op, maxDiff, length: got.length });
}

async function allOps(gpu: GpuOps, out: OpCheck[]): Promise<[number, number]> {
  const img = rand(1, [1, 1, 28, 28]);
  const img2 = rand(2, [2, 1, 28, 28]);
  const hid = rand(3, [2, 49, 128]);
  const hid2 = rand(4, [2, 49, 128]);
  const up = (t: CpuTensor) => gpu.fromHost(t.data, t.dims);
  const [gImg, gImg2, gHid, gHid2] = [up(img), up(img2), up(hid), up(hid2)];
  const hidLayout: ChannelLayout = { channels: 128, inner: 1 };
  const imgLayout: ChannelLayout = { channels: 1, inner: 784 };
  const a128 = gaussianNoise(5, 128);
  const b128 = gaussianNoise(6, 128);
  await compare(gpu, 'fromHost/read', up(hid), hid, out);
  await compare(gpu, 'add', gpu.add(gHid, gHid2), cpu.add(hid, hid2), out);
  await compare(gpu, 'sub', gpu.sub(gHid, gHid2), cpu.sub(hid, hid2), out);
  await compare(gpu, 'tile', gpu.tile(gImg, 2), cpu.tile(img, 2), out);
  await compare(gpu, 'guidance', gpu.guidance(gImg2, 3), cpu.guidance(img2, 3), out);
  await compare(gpu, 'axpy', gpu.axpy(gImg2, gImg2, -0.0625), cpu.axpy(img2, img2, -0.0625), out);
  await compare(gpu, 'rectify hidden', gpu.rectifyAffine(gHid, a128, b128, hidLayout),
    cpu.rectifyAffine(hid, a128, b128, hidLayout), out);
  await compare(gpu, 'rectify output', gpu.rectifyAffine(gImg2, Float32Array.of(0.3), Float32Array.of(-0.2), imgLayout),
    cpu.rectifyAffine(img2, Float32Array.of(0.3), Float32Array.of(-0.2), imgLayout), out);
  const rel: [number, number] = [await gpu.relL1(gHid, gHid2), await cpu.relL1(hid, hid2)];
  for (const t of [gImg, gImg2, gHid, gHid2]) gpu.dispose(t);
  return rel;
}

async function checkOps(): Promise<OpsReport> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  const gpu = createWebGpuOps({ Tensor }, device);
  const checks: OpCheck[] = [];
  const relL1 = await allOps(gpu, checks);
  const pooledBefore = gpu.pooledBytes;
  for (let r = 0; r < 5; r++) await allOps(gpu, []); // same shapes again: the pool must serve them
  const report = { checks, readbacks: gpu.readbacks, pooledBefore, pooledAfter: gpu.pooledBytes, relL1 };
  gpu.release();
  device.destroy();
  return report;
}

/** The WGSL preview map (webgpu-preview.ts) against the host map on a seeded 4×8×8 latent: max |diff|. */
async function checkPreview(): Promise<{ maxDiff: number; length: number }> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  const gpu = createWebGpuOps({ Tensor }, device);
  const x = gaussianNoise(7, 4 * 8 * 8);
  const matrix = gaussianNoise(8, 12);
  const bias = gaussianNoise(9, 3);
  const rgb = createWebGpuPreview({ Tensor }, device)(gpu.fromHost(x, [1, 4, 8, 8]), matrix, bias);
  const got = await gpu.read(rgb);
  rgb.dispose();
  const want = previewOnHost(x, matrix, bias, 4);
  let maxDiff = got.length === want.length ? 0 : Infinity;
  for (let k = 0; k < got.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - want[k]!));
  gpu.release();
  device.destroy();
  return { maxDiff, length: got.length };
}

(globalThis as unknown as { checkOps: typeof checkOps }).checkOps = checkOps;
(globalThis as unknown as { checkPreview: typeof checkPreview }).checkPreview = checkPreview;
