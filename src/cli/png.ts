// A minimal PNG encoder (8-bit grayscale, no interlace) on node:zlib, and the model-space →
// pixel mapping of the manifest's preview block. Enough for 28×28 digits; no dependency.

import { deflateSync } from 'node:zlib';
import { concatBytes, pngChunk, PNG_SIGNATURE } from '../core/apng.ts';

export { crc32 } from '../core/apng.ts';

/** Encodes width×height 8-bit gray pixels (row-major) as a PNG file. */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height) {
    throw new RangeError(`encodeGrayPng: ${pixels.length} pixels for ${width}×${height}`);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (gray), deflate, adaptive filter, no interlace
  // Every scanline starts with its filter type; 0 (None) is fine for tiny images.
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))];
  return concatBytes(parts);
}

/** Linear map from model range `from` (e.g. [−1, 1]) to pixel range `to` ([0, 255]), rounded and clamped. */
export function toGray8(
  values: Float32Array,
  from: readonly [number, number] = [-1, 1],
  to: readonly [number, number] = [0, 255],
): Uint8Array {
  const scale = (to[1] - to[0]) / (from[1] - from[0]);
  const out = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const p = Math.round((values[k]! - from[0]) * scale + to[0]);
    out[k] = Number.isNaN(p) ? 0 : Math.min(255, Math.max(0, p));
  }
  return out;
}
