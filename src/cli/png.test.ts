// The PNG encoder writes a file any decoder reads back to the same pixels: checked here by
// parsing the chunks, verifying every CRC and inflating IDAT with node:zlib.

import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodeGrayPng, toGray8 } from './png.ts';

function chunks(png: Uint8Array): { type: string; data: Uint8Array; crcOk: boolean }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let at = 8; at < png.length; ) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    const crcOk = view.getUint32(at + 8 + len) === crc32(png.subarray(at + 4, at + 8 + len));
    out.push({ type, data, crcOk });
    at += 12 + len;
  }
  return out;
}

describe('encodeGrayPng', () => {
  it('round-trips pixels through signature, IHDR, IDAT and IEND', () => {
    const w = 5;
    const h = 3;
    const pixels = Uint8Array.from({ length: w * h }, (_, k) => (k * 17) % 256);
    const png = encodeGrayPng(pixels, w, h);
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(cs.every((c) => c.crcOk)).toBe(true);
    const ihdr = new DataView(cs[0]!.data.buffer, cs[0]!.data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), ihdr.getUint8(8), ihdr.getUint8(9)]).toEqual([w, h, 8, 0]);
    const raw = inflateSync(cs[1]!.data);
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w + 1)]).toBe(0); // filter None
      expect([...raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1))]).toEqual([...pixels.subarray(y * w, (y + 1) * w)]);
    }
  });

  it('uses the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('rejects a pixel count that does not match the size', () => {
    expect(() => encodeGrayPng(new Uint8Array(10), 3, 3)).toThrow(RangeError);
  });
});

describe('toGray8', () => {
  it('maps [-1, 1] onto [0, 255], clamping outside values and NaN', () => {
    expect([...toGray8(Float32Array.of(-1, 0, 1, -3, 2, NaN))]).toEqual([0, 128, 255, 0, 255, 0]);
  });
});
