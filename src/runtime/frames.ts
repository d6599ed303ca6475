// Model-space images → RGBA frames for a canvas, with the manifest's preview mapping
// (e.g. [−1, 1] → [0, 255]). Done on the host after the one read-back a frame costs.

import type { Frame } from './api.ts';

export interface PreviewMapping {
  from: readonly [number, number];
  to: readonly [number, number];
}

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
  /** Video: planar [C, F, H, W]; absent for an image. */
  frames?: number;
}

/** [C, H, W] planar data (batch 1) → RGBA; 1 channel is grey, 3+ use the first three planes. */
export function toFrame(data: Float32Array, shape: ImageShape, mapping: PreviewMapping): Frame {
  const { channels, height, width } = shape;
  const plane = height * width;
  const [f0, f1] = mapping.from;
  const [t0, t1] = mapping.to;
  const scale = (t1 - t0) / (f1 - f0);
  const pixels = new Uint8ClampedArray(plane * 4); // clamps and rounds to nearest, as wanted
  const src = (c: number) => (channels >= 3 ? c : 0) * plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) pixels[p * 4 + c] = t0 + (data[src(c) + p]! - f0) * scale;
    pixels[p * 4 + 3] = 255;
  }
  return { width, height, pixels };
}

/**
 * Planar [C, F, H, W] video data (batch 1) → F RGBA frames in order; an image ([C, H, W], no
 * `frames`) → one frame.
 */
export function toFrames(data: Float32Array, shape: ImageShape, mapping: PreviewMapping): Frame[] {
  const F = shape.frames;
  if (F === undefined) return [toFrame(data, shape, mapping)];
  const { channels, height, width } = shape;
  const plane = height * width;
  const used = Math.min(3, channels);
  return Array.from({ length: F }, (_, f) => {
    const one = new Float32Array(used * plane);
    for (let c = 0; c < used; c++) one.set(data.subarray((c * F + f) * plane, (c * F + f + 1) * plane), c * plane);
    return toFrame(one, { channels: used, height, width }, mapping);
  });
}

/** Index of the first NaN/±Inf, or −1: a broken model or device shows up as a clear error. */
export function firstNonFinite(data: Float32Array): number {
  for (let k = 0; k < data.length; k++) if (!Number.isFinite(data[k]!)) return k;
  return -1;
}
