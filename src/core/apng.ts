// PNG chunk assembly with no dependency on Node or the DOM: CRC-32, chunks, and the animated PNG
// (APNG) assembler the CLI / Node API (src/node/generate.ts) and the demo's download (src/demo/main.ts)
// share. Frames come in already encoded as PNGs (fast-png in Node, canvas.toBlob in the browser).

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

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

/** One PNG chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The chunks of a PNG file as (type, data) pairs, in order. */
function chunksOf(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = PNG_SIGNATURE.length; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    out.push({ type: new TextDecoder().decode(png.subarray(at + 4, at + 8)), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

/**
 * An animated PNG (APNG: acTL, then per frame fcTL + IDAT / fdAT, looping forever) from frames
 * already encoded as PNGs of one size and format (fast-png writes them). Viewers without APNG
 * support show the first frame.
 */
export function assembleApng(framePngs: readonly Uint8Array[], fps: number): Uint8Array<ArrayBuffer> {
  if (framePngs.length === 0) throw new RangeError('assembleApng: no frames');
  if (!(fps > 0 && fps <= 1000)) throw new RangeError(`assembleApng: fps ${fps} is not in (0, 1000]`);
  const frames = framePngs.map(chunksOf);
  const ihdr = frames[0]!.find((c) => c.type === 'IHDR')!.data;
  if (frames.some((f) => f.find((c) => c.type === 'IHDR')?.data.join() !== ihdr.join())) {
    throw new RangeError('assembleApng: the frames differ in size or format');
  }
  const u32 = (...v: number[]) => {
    const b = new Uint8Array(4 * v.length);
    v.forEach((x, k) => new DataView(b.buffer).setUint32(4 * k, x));
    return b;
  };
  const width = new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(0);
  const height = new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(4);
  // delay = 1000 / (fps · 1000) s: numerator and denominator are 16-bit
  const delay = new Uint8Array(4);
  new DataView(delay.buffer).setUint16(0, 1000);
  new DataView(delay.buffer).setUint16(2, Math.round(fps * 1000) > 65_535 ? 65_535 : Math.round(fps * 1000));
  const parts: Uint8Array[] = [PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('acTL', u32(frames.length, 0))];
  let seq = 0;
  frames.forEach((f, k) => {
    const fctl = new Uint8Array(26);
    fctl.set(u32(seq++, width, height, 0, 0), 0);
    fctl.set(delay, 20);
    fctl.set([0, 0], 24); // dispose: none, blend: source
    parts.push(pngChunk('fcTL', fctl));
    for (const c of f.filter((q) => q.type === 'IDAT')) {
      if (k === 0) parts.push(pngChunk('IDAT', c.data));
      else {
        const data = new Uint8Array(4 + c.data.length);
        data.set(u32(seq++), 0);
        data.set(c.data, 4);
        parts.push(pngChunk('fdAT', data));
      }
    }
  });
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}

/** The byte arrays one after the other, in one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
