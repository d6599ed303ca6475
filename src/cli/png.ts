// A minimal PNG encoder (8-bit grayscale, no interlace) on node:zlib, and the model-space →
// pixel mapping of the manifest's preview block. Enough for 28×28 digits; no dependency.

import { deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it (ISO 3309, the zlib polynomial). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

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
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
