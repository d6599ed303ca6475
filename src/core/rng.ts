// Seeded Gaussian noise that is bit-identical on every JavaScript engine.
// Why not Math.log / Math.cos: ECMAScript lets engines approximate them (V8, SpiderMonkey and
// JavaScriptCore may differ in the last bit), so noise could differ between the browser and
// Node. This file only uses + − × ÷, Math.imul and Math.sqrt, which the spec pins exactly.

/** mulberry32 (Tommy Ettinger): a 32-bit-state PRNG; returns integers in [0, 2^32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;

/**
 * Natural log for x > 0 using only exact arithmetic: x = m·2^e with m ∈ [√½, √2), then
 * ln m = 2·atanh(t), t = (m−1)/(m+1), |t| < 0.1716, so 12 odd terms reach double precision.
 */
export function portableLog(x: number): number {
  let m = x;
  let e = 0;
  while (m >= SQRT2) { m /= 2; e++; } // exact: powers of two
  while (m < SQRT2 / 2) { m *= 2; e--; }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  let sum = 0;
  for (let k = 23; k >= 1; k -= 2) sum = sum * t2 + 1 / k; // Horner over 1/k · t^(k−1)
  return 2 * t * sum + e * LN2;
}

/**
 * n standard-normal samples from `seed` (Marsaglia's polar method on mulberry32).
 * Same seed → same Float32Array on every engine; different seeds are independent streams.
 */
export function gaussianNoise(seed: number, n: number): Float32Array {
  const next = mulberry32(seed);
  const uniform = () => ((next() + 0.5) / 4294967296) * 2 - 1; // (−1, 1), never ±1 exactly
  const out = new Float32Array(n);
  for (let k = 0; k < n; ) {
    const v1 = uniform();
    const v2 = uniform();
    const s = v1 * v1 + v2 * v2;
    if (s >= 1 || s === 0) continue; // rejection keeps (v1, v2) uniform on the unit disc
    const f = Math.sqrt((-2 * portableLog(s)) / s);
    out[k++] = v1 * f;
    if (k < n) out[k++] = v2 * f;
  }
  return out;
}

/** Uniform numbers in [0, 1) from `seed` (mulberry32 / 2^32), for seeded tests and sweeps. */
export function seededUniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}
