/**
 * float64 reference of grouped-query attention with the masks of src/gpu/ops/attention.ts,
 * forward and backward. Tensors are flat arrays in "bshd" order: Q, O, dO [B, T, Hq, D];
 * K, V [B, S, Hkv, D]; L [B, Hq, T].
 *
 * @module
 */

/** Sizes and masking of one reference call. */
export interface AttentionRefDims {
  readonly batch: number;
  readonly queries: number;
  readonly keys: number;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly mask:
    | { readonly kind: "causal" }
    | { readonly kind: "full" }
    | { readonly kind: "prefix"; readonly prefixLength: number };
  /** Valid keys per sequence (padding mask); default all S. */
  readonly keyLengths?: ReadonlyArray<number>;
  /** Default 1/√D. */
  readonly scale?: number;
}

/** Does query i of sequence b see key j? (The rule documented in attention_common.wgsl.) */
export const isVisible = (dims: AttentionRefDims, b: number, i: number, j: number): boolean => {
  const keyLen = Math.min(dims.keys, dims.keyLengths?.[b] ?? dims.keys);
  if (j >= keyLen) return false;
  const absolute = i + dims.keys - dims.queries;
  switch (dims.mask.kind) {
    case "full":
      return true;
    case "causal":
      return j <= absolute;
    case "prefix":
      return j <= absolute || (absolute < dims.mask.prefixLength && j < dims.mask.prefixLength);
  }
};

const qAt = (d: AttentionRefDims, b: number, t: number, h: number) =>
  ((b * d.queries + t) * d.queryHeads + h) * d.headDim;
const kAt = (d: AttentionRefDims, b: number, s: number, h: number) =>
  ((b * d.keys + s) * d.kvHeads + h) * d.headDim;

/** Softmax probabilities P[j] of query (b, t, h) over all S keys (0 where masked), and log Σ exp. */
const probabilities = (
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  d: AttentionRefDims,
  b: number,
  t: number,
  h: number,
): { p: Float64Array; lse: number } => {
  const scale = d.scale ?? 1 / Math.sqrt(d.headDim);
  const kvh = Math.floor(h / (d.queryHeads / d.kvHeads));
  const scores = new Float64Array(d.keys).fill(-Infinity);
  for (let j = 0; j < d.keys; j++) {
    if (!isVisible(d, b, t, j)) continue;
    let dot = 0;
    for (let c = 0; c < d.headDim; c++) dot += q[qAt(d, b, t, h) + c]! * k[kAt(d, b, j, kvh) + c]!;
    scores[j] = scale * dot;
  }
  const max = Math.max(...scores);
  const p = new Float64Array(d.keys);
  if (max === -Infinity) return { p, lse: -Infinity };
  let sum = 0;
  for (let j = 0; j < d.keys; j++) sum += Math.exp(scores[j]! - max);
  for (let j = 0; j < d.keys; j++) p[j] = Math.exp(scores[j]! - max) / sum;
  return { p, lse: max + Math.log(sum) };
};

/** O = softmax(scale · Q Kᵀ + mask) V per head, and L = log Σ exp of the scaled scores. */
export const attentionForwardRef = (
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  d: AttentionRefDims,
): { o: Float64Array; lse: Float64Array } => {
  const o = new Float64Array(d.batch * d.queries * d.queryHeads * d.headDim);
  const lse = new Float64Array(d.batch * d.queryHeads * d.queries);
  const group = d.queryHeads / d.kvHeads;
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.queryHeads; h++) {
      for (let t = 0; t < d.queries; t++) {
        const { p, lse: l } = probabilities(q, k, d, b, t, h);
        lse[(b * d.queryHeads + h) * d.queries + t] = l;
        for (let j = 0; j < d.keys; j++) {
          if (p[j] === 0) continue;
          for (let c = 0; c < d.headDim; c++) {
            o[qAt(d, b, t, h) + c]! += p[j]! * v[kAt(d, b, j, Math.floor(h / group)) + c]!;
          }
        }
      }
    }
  }
  return { o, lse };
};

/**
 * Gradients of Σ O ⊙ dO: with P the probabilities, dV = Pᵀ dO, dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O)),
 * dQ = scale · dS K, dK = scale · dSᵀ Q; dK and dV summed over the query heads of each KV head.
 */
export const attentionBackwardRef = (
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dO: ArrayLike<number>,
  d: AttentionRefDims,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } => {
  const scale = d.scale ?? 1 / Math.sqrt(d.headDim);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(d.batch * d.keys * d.kvHeads * d.headDim);
  const dv = new Float64Array(dk.length);
  const group = d.queryHeads / d.kvHeads;
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.queryHeads; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < d.queries; t++) {
        const { p } = probabilities(q, k, d, b, t, h);
        const qi = qAt(d, b, t, h);
        const dp = new Float64Array(d.keys);
        let delta = 0;
        for (let j = 0; j < d.keys; j++) {
          if (p[j] === 0) continue;
          for (let c = 0; c < d.headDim; c++) dp[j]! += dO[qi + c]! * v[kAt(d, b, j, kvh) + c]!;
          delta += p[j]! * dp[j]!;
        }
        for (let j = 0; j < d.keys; j++) {
          if (p[j] === 0) continue;
          const ds = p[j]! * (dp[j]! - delta);
          const kj = kAt(d, b, j, kvh);
          for (let c = 0; c < d.headDim; c++) {
            dv[kj + c]! += p[j]! * dO[qi + c]!;
            dq[qi + c]! += scale * ds * k[kj + c]!;
            dk[kj + c]! += scale * ds * q[qi + c]!;
          }
        }
      }
    }
  }
  return { dq, dk, dv };
};
