// Difference heat-map between the cached image and the uncached reference. The colour scale is
// fixed (not normalised to the largest difference), so a near-identical pair looks dark and a
// bad one looks bright — normalising would make every pair look equally wrong.

/** |Δ| in unit range that maps to the top of the colour scale. */
export const HEATMAP_FULL_SCALE = 0.25;

export interface DiffStats {
  maxAbs: number; // in [0, 1]
  meanAbs: number;
}

/** Black → purple → orange → pale yellow, roughly 'inferno'. t in [0, 1]. */
const STOPS: readonly [number, number, number][] = [
  [0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164],
];

export function heatColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - k;
  const a = STOPS[k]!;
  const b = STOPS[k + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/** Over the first n values of images in unit range [0, 1] (metrics.ts toUnitRange). */
export function diffStats(a: ArrayLike<number>, b: ArrayLike<number>, n = Math.min(a.length, b.length)): DiffStats {
  let max = 0;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { maxAbs: max, meanAbs: sum / Math.max(1, n) };
}

/** Draw |a − b| into the canvas at native resolution; CSS scales it up pixelated. */
export function drawDiffHeatmap(canvas: HTMLCanvasElement, a: ArrayLike<number>, b: ArrayLike<number>,
  width: number, height: number): DiffStats {
  const n = width * height;
  if (a.length < n || b.length < n) {
    throw new RangeError(`heat-map needs ${width}×${height} images, got ${a.length} and ${b.length} values`);
  }
  canvas.width = width;
  canvas.height = height;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let k = 0; k < n; k++) {
    const [r, g, bl] = heatColor(Math.abs(a[k]! - b[k]!) / HEATMAP_FULL_SCALE);
    rgba.set([r, g, bl, 255], 4 * k);
  }
  canvas.getContext('2d')?.putImageData(new ImageData(rgba, width, height), 0, 0);
  return diffStats(a, b, n);
}

/** A horizontal colour bar for the legend (CSS linear-gradient of the same stops). */
export function heatLegendGradient(): string {
  const stops = STOPS.map((c, k) => `rgb(${c.join(' ')}) ${((100 * k) / (STOPS.length - 1)).toFixed(0)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
