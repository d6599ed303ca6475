// Frames → canvas and PNG. Shared by the element and the demo. A Frame (runtime/api.ts) is
// RGBA at the model's native size (28×28 for the digits model, 64×64 for the emoji model); CSS scales the canvas up with
// image-rendering: pixelated so the pixels stay crisp instead of blurring.

import type { Frame } from '../runtime/api.ts';

/** Draw at native resolution. The frame's pixels are copied, so its buffer may be reused. */
export function drawFrame(canvas: HTMLCanvasElement, frame: Frame): void {
  if (canvas.width !== frame.width) canvas.width = frame.width;
  if (canvas.height !== frame.height) canvas.height = frame.height;
  const data = new ImageData(new Uint8ClampedArray(frame.pixels), frame.width, frame.height);
  canvas.getContext('2d')?.putImageData(data, 0, 0);
}

/**
 * A PNG of the frame scaled by an integer factor with nearest-neighbour sampling, so the
 * download looks like the page and not like a 28-pixel thumbnail.
 */
export async function frameToPng(frame: Frame, scale = 8): Promise<Blob> {
  const src = document.createElement('canvas');
  drawFrame(src, frame);
  const out = document.createElement('canvas');
  out.width = frame.width * scale;
  out.height = frame.height * scale;
  const ctx = out.getContext('2d');
  if (ctx === null) throw new Error('no 2-D canvas context');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(src, 0, 0, out.width, out.height);
  return new Promise((resolve, reject) => {
    out.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas.toBlob returned null'))), 'image/png');
  });
}

/** Save a blob under a file name (a temporary object URL and a synthetic link click). */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
