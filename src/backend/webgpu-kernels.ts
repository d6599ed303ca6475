// WGSL for the sampler's step arithmetic (src/core/types.ts TensorOps), run on ONNX Runtime's
// own GPUDevice so graph outputs are consumed in place. Element-wise kernels share one uniform
// block; each kernel declares only the bindings it uses, because 'auto' pipeline layouts drop
// unused ones. Semantics mirror the Float32Array reference ops (src/core/ops.ts) exactly.

export const WORKGROUP = 256;

/** Uniform block: 4 u32 + 4 f32 = 32 bytes (n = output elements). */
export interface KernelParams {
  n: number;
  m?: number; // tile: source length; guidance: half; rectify: channels
  inner?: number; // rectify: elements per channel run
  alpha?: number;
  beta?: number;
}

export function packParams(p: KernelParams): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf, 0, 4);
  const f = new Float32Array(buf, 16, 4);
  u[0] = p.n;
  u[1] = p.m ?? 0;
  u[2] = p.inner ?? 1;
  f[0] = p.alpha ?? 0;
  f[1] = p.beta ?? 0;
  return buf;
}

const HEADER = /* wgsl */ `
struct Params { n: u32, m: u32, inner: u32, pad: u32, alpha: f32, beta: f32, pad1: f32, pad2: f32 }
@group(0) @binding(0) var<uniform> p: Params;
`;

const MAIN = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= p.n) { return; }`;

export type KernelName = 'axpby' | 'tile' | 'guidance' | 'rectify' | 'relL1';

export const KERNELS: Record<KernelName, string> = {
  // out = α·a + β·b: add (1, 1), sub (1, −1), axpy (1, scale).
  axpby: `${HEADER}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${MAIN}
  out[k] = p.alpha * a[k] + p.beta * b[k];
}`,
  // Batch repeat: out[k] = a[k mod m].
  tile: `${HEADER}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${MAIN}
  out[k] = a[k % p.m];
}`,
  // CFG on [cond, uncond]: vU + w·(vC − vU), m = elements per branch, α = w.
  guidance: `${HEADER}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${MAIN}
  let vc = a[k];
  let vu = a[k + p.m];
  out[k] = vu + p.alpha * (vc - vu);
}`,
  // t − (a_ch·t + b_ch), ch = floor(k / inner) mod channels; coef = [a…, b…] (ertacache.md (c)).
  rectify: `${HEADER}
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${MAIN}
  let ch = (k / p.inner) % p.m;
  let x = t[k];
  out[k] = x - (coef[ch] * x + coef[p.m + ch]);
}`,
  // One workgroup: out = [Σ|a − b|, Σ|b|]; the ratio is taken on the host after the read-back.
  relL1: `${HEADER}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> num: array<f32, ${WORKGROUP}>;
var<workgroup> den: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var sn = 0.0;
  var sd = 0.0;
  for (var k = lid.x; k < p.n; k += ${WORKGROUP}u) {
    sn += abs(a[k] - b[k]);
    sd += abs(b[k]);
  }
  num[lid.x] = sn;
  den[lid.x] = sd;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      num[lid.x] += num[lid.x + s];
      den[lid.x] += den[lid.x + s];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    out[0] = num[0];
    out[1] = den[0];
  }
}`,
};
