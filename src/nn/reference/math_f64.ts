/**
 * Float64 building blocks of the reference model: plain loops over row-major Float64Arrays, written
 * for clarity, not speed. Every GPU kernel is checked against functions like these.
 *
 * @module
 */

/** y[n, out] = x[n, in] · W[out, in]ᵀ (+ b[out]). */
export const linear = (
  x: Float64Array,
  n: number,
  w: Float64Array,
  outDim: number,
  inDim: number,
  b?: Float64Array,
): Float64Array => {
  const y = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      let acc = b ? b[o]! : 0;
      for (let k = 0; k < inDim; k++) acc += x[i * inDim + k]! * w[o * inDim + k]!;
      y[i * outDim + o] = acc;
    }
  }
  return y;
};

/** RMSNorm over rows of width d: x / sqrt(mean(x²) + eps) · w. */
export const rmsNorm = (x: Float64Array, d: number, w: Float64Array, eps: number): Float64Array => {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let ss = 0;
    for (let k = 0; k < d; k++) ss += x[r * d + k]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let k = 0; k < d; k++) y[r * d + k] = x[r * d + k]! * inv * w[k]!;
  }
  return y;
};

/** x += y, elementwise (residual connections). */
export const addInPlace = (x: Float64Array, y: Float64Array): void => {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
};

/** SiLU: x·σ(x). */
export const silu = (x: number): number => x / (1 + Math.exp(-x));

/** The error function to ~1e-15: Taylor series near 0, continued fraction for erfc beyond 3. */
export const erf = (x: number): number => {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free backward form)
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
};

/** GELU with the exact erf (PyTorch's default `nn.GELU()`). */
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/**
 * Rotates each head vector in place: v·cos + rotate_half(v)·sin with rotate_half(v) = [−v₂, v₁].
 *
 * @param v [rows, heads, hd]; `cos`/`sin` are [rows, hd]
 */
export const applyRotary = (
  v: Float64Array,
  rows: number,
  heads: number,
  hd: number,
  cos: Float64Array,
  sin: Float64Array,
): void => {
  const half = hd / 2;
  const tmp = new Float64Array(hd);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * hd;
      for (let c = 0; c < hd; c++) {
        const rotated = c < half ? -v[base + c + half]! : v[base + c - half]!;
        tmp[c] = v[base + c]! * cos[r * hd + c]! + rotated * sin[r * hd + c]!;
      }
      v.set(tmp, base);
    }
  }
};

/**
 * Scaled dot-product attention with grouped-query heads. `visible(i, j)` says whether query row i
 * may attend to key row j.
 *
 * @param q [n, hq, hd]; `k`, `v` [m, hkv, hd]; returns [n, hq, hd]
 */
export const attention = (
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  n: number,
  m: number,
  hq: number,
  hkv: number,
  hd: number,
  visible: (i: number, j: number) => boolean,
): Float64Array => {
  const out = new Float64Array(n * hq * hd);
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(m);
  const group = hq / hkv;
  for (let h = 0; h < hq; h++) {
    const kvh = Math.floor(h / group);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < m; j++) {
        if (!visible(i, j)) {
          scores[j] = -Infinity;
          continue;
        }
        let s = 0;
        for (let c = 0; c < hd; c++) s += q[(i * hq + h) * hd + c]! * k[(j * hkv + kvh) * hd + c]!;
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let total = 0;
      for (let j = 0; j < m; j++) {
        scores[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
        total += scores[j]!;
      }
      for (let j = 0; j < m; j++) {
        const p = scores[j]! / total;
        if (p === 0) continue;
        for (let c = 0; c < hd; c++) {
          const o = (i * hq + h) * hd + c;
          out[o] = out[o]! + p * v[(j * hkv + kvh) * hd + c]!;
        }
      }
    }
  }
  return out;
};
