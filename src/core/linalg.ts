// Small dense linear algebra for the metrics (F ≤ a few hundred): covariance and the
// symmetric eigen-decomposition by cyclic Jacobi rotations, which is simple, stable and exact
// enough for the Fréchet distance's matrix square root.

/** Column means of an n×f row-major matrix. */
export function columnMeans(x: ArrayLike<number>, n: number, f: number): Float64Array {
  const mu = new Float64Array(f);
  for (let r = 0; r < n; r++) for (let j = 0; j < f; j++) mu[j]! += x[r * f + j]!;
  for (let j = 0; j < f; j++) mu[j]! /= n;
  return mu;
}

/** Unbiased covariance (divides by n − 1, as numpy.cov), f×f row-major. */
export function covariance(x: ArrayLike<number>, n: number, f: number): Float64Array {
  const mu = columnMeans(x, n, f);
  const cov = new Float64Array(f * f);
  const d = new Float64Array(f);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < f; j++) d[j] = x[r * f + j]! - mu[j]!;
    for (let j = 0; j < f; j++) {
      const dj = d[j]!;
      for (let k = j; k < f; k++) cov[j * f + k]! += dj * d[k]!;
    }
  }
  const scale = 1 / Math.max(1, n - 1);
  for (let j = 0; j < f; j++) {
    for (let k = j; k < f; k++) {
      const v = cov[j * f + k]! * scale;
      cov[j * f + k] = v;
      cov[k * f + j] = v;
    }
  }
  return cov;
}

export interface Eigen {
  values: Float64Array;
  /** Eigenvectors as columns of an f×f row-major matrix: A = V·diag(values)·Vᵀ. */
  vectors: Float64Array;
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations (Golub & Van Loan §8.5). */
export function symmetricEigen(a: ArrayLike<number>, f: number, maxSweeps = 60): Eigen {
  const m = Float64Array.from(a);
  const v = new Float64Array(f * f);
  for (let j = 0; j < f; j++) v[j * f + j] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < f; p++) {
      diag += m[p * f + p]! ** 2;
      for (let q = p + 1; q < f; q++) off += m[p * f + q]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < f - 1; p++) for (let q = p + 1; q < f; q++) rotate(m, v, f, p, q);
  }
  const values = new Float64Array(f);
  for (let j = 0; j < f; j++) values[j] = m[j * f + j]!;
  return { values, vectors: v };
}

/** One Jacobi rotation zeroing m[p][q]; accumulates the rotation into v. */
function rotate(m: Float64Array, v: Float64Array, f: number, p: number, q: number): void {
  const apq = m[p * f + q]!;
  if (apq === 0) return;
  const theta = (m[q * f + q]! - m[p * f + p]!) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < f; k++) { // columns p, q of m·J
    const mkp = m[k * f + p]!;
    const mkq = m[k * f + q]!;
    m[k * f + p] = c * mkp - s * mkq;
    m[k * f + q] = s * mkp + c * mkq;
  }
  for (let k = 0; k < f; k++) { // rows p, q of Jᵀ·m
    const mpk = m[p * f + k]!;
    const mqk = m[q * f + k]!;
    m[p * f + k] = c * mpk - s * mqk;
    m[q * f + k] = s * mpk + c * mqk;
  }
  for (let k = 0; k < f; k++) {
    const vkp = v[k * f + p]!;
    const vkq = v[k * f + q]!;
    v[k * f + p] = c * vkp - s * vkq;
    v[k * f + q] = s * vkp + c * vkq;
  }
}

/** Square root of a symmetric PSD matrix, V·diag(√max(λ,0))·Vᵀ. */
export function sqrtSymmetric(a: ArrayLike<number>, f: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, f);
  const out = new Float64Array(f * f);
  for (let e = 0; e < f; e++) {
    const s = Math.sqrt(Math.max(values[e]!, 0));
    if (s === 0) continue;
    for (let j = 0; j < f; j++) {
      const vj = vectors[j * f + e]! * s;
      for (let k = 0; k < f; k++) out[j * f + k]! += vj * vectors[k * f + e]!;
    }
  }
  return out;
}

/** Row-major f×f product a·b. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, f: number): Float64Array {
  const out = new Float64Array(f * f);
  for (let j = 0; j < f; j++) {
    for (let l = 0; l < f; l++) {
      const ajl = a[j * f + l]!;
      if (ajl === 0) continue;
      for (let k = 0; k < f; k++) out[j * f + k]! += ajl * b[l * f + k]!;
    }
  }
  return out;
}

/**
 * Least squares min ‖A·c − y‖₂ for a tall n×m row-major A by Householder QR, with columns
 * scaled to unit norm first (as numpy.polyfit does, for the badly scaled Vandermonde).
 */
export function leastSquares(aIn: ArrayLike<number>, n: number, m: number, yIn: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(aIn);
  const y = Float64Array.from(yIn);
  const scale = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < n; i++) scale[j]! += a[i * m + j]! ** 2;
    scale[j] = Math.sqrt(scale[j]!) || 1;
    for (let i = 0; i < n; i++) a[i * m + j]! /= scale[j]!;
  }
  for (let j = 0; j < m; j++) householderStep(a, y, n, m, j);
  const c = new Float64Array(m); // back-substitution on R
  for (let j = m - 1; j >= 0; j--) {
    let s = y[j]!;
    for (let k = j + 1; k < m; k++) s -= a[j * m + k]! * c[k]!;
    c[j] = a[j * m + j] !== 0 ? s / a[j * m + j]! : 0;
  }
  return c.map((v, j) => v / scale[j]!);
}

/** Reflect rows j… of column j onto e_j, applying the same reflection to the rest and to y. */
function householderStep(a: Float64Array, y: Float64Array, n: number, m: number, j: number): void {
  let norm = 0;
  for (let i = j; i < n; i++) norm += a[i * m + j]! ** 2;
  norm = Math.sqrt(norm);
  if (norm === 0) return;
  const alpha = a[j * m + j]! > 0 ? -norm : norm;
  const v = new Float64Array(n - j);
  for (let i = j; i < n; i++) v[i - j] = a[i * m + j]!;
  v[0]! -= alpha;
  const vv = v.reduce((s, x) => s + x * x, 0);
  if (vv === 0) return;
  const reflect = (get: (i: number) => number, set: (i: number, x: number) => void) => {
    let dot = 0;
    for (let i = j; i < n; i++) dot += v[i - j]! * get(i);
    const f = (2 * dot) / vv;
    for (let i = j; i < n; i++) set(i, get(i) - f * v[i - j]!);
  };
  for (let k = j; k < m; k++) reflect((i) => a[i * m + k]!, (i, x) => { a[i * m + k] = x; });
  reflect((i) => y[i]!, (i, x) => { y[i] = x; });
}
