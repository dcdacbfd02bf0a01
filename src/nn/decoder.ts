/**
 * The Qwen2.5-VL language model's decoder layer, forward and hand-written backward (llm.c style):
 *
 *   h1 = rms(x)·w_in;  q,k,v = h1·W{q,k,v}ᵀ + b;  rotate q,k (M-RoPE);  o = attn(q,k,v)
 *   x2 = x + o·Woᵀ;    h2 = rms(x2)·w_post;  x3 = x2 + (silu(h2·Wgᵀ) ⊙ h2·Wuᵀ)·Wdᵀ
 *
 * Rows R = B·T (padded sequences, keys past each sequence's length masked). Activations come from
 * the step's arena; the backward accumulates parameter gradients.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { attentionBackward, attentionForward, type AttentionMask } from "../gpu/ops/attention.ts";
import { add, swigluBackward, swigluForward } from "../gpu/ops/elementwise.ts";
import { rmsNormBackward, rmsNormForward } from "../gpu/ops/rmsnorm.ts";
import { applyRotary } from "../gpu/ops/rope.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import { reshape, type Tensor } from "../gpu/tensor.ts";
import type { Qwen25VLConfig } from "./config.ts";
import { linearBackward, linearForward, linearWeights } from "./linear.ts";
import type { Parameters } from "./parameters.ts";

/** One layer's key/value cache: [B, capacity, Hkv·hd] each. */
export interface LayerCache {
  readonly k: Tensor;
  readonly v: Tensor;
}

/**
 * Generation with a KV cache: each layer writes its new (rotated) keys and values to cache rows
 * `dstRows` (of the cache seen as [B·capacity, Hkv·hd]) and attends over the first `keyCount`
 * cache positions instead of the pass's own keys.
 */
export interface DecoderCache {
  readonly layers: ReadonlyArray<LayerCache>;
  readonly capacity: number;
  /** [R] u32: the pass's rows, 0..R−1. */
  readonly srcRows: Tensor;
  /** [R] u32: b·capacity + position of each row. */
  readonly dstRows: Tensor;
  readonly keyCount: number;
  readonly mask: AttentionMask;
}

/** What every layer of one pass shares: batch geometry, rotary tables and key lengths. */
export interface DecoderContext {
  readonly batch: number;
  readonly length: number;
  /** [1, R, head_dim / 2, 2] M-RoPE cos/sin table of every row (`mropeTable`). */
  readonly rotary: Tensor;
  /** [B] u32 real length of each sequence (keys at or past it are masked). */
  readonly keyLengths: Tensor;
  readonly cache?: DecoderCache;
}

/** Activations one layer keeps for its backward. */
export interface DecoderLayerSaved {
  readonly x: Tensor;
  readonly h1: Tensor;
  readonly rstd1: Tensor;
  readonly q: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
  readonly o: Tensor;
  readonly lse: Tensor;
  readonly x2: Tensor;
  readonly h2: Tensor;
  readonly rstd2: Tensor;
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly act: Tensor;
}

const dims = (config: Qwen25VLConfig) => {
  const hq = config.num_attention_heads;
  const hkv = config.num_key_value_heads;
  const hd = config.hidden_size / hq;
  return { H: config.hidden_size, I: config.intermediate_size, hq, hkv, hd };
};

/** [R, heads·hd] as the attention kernel's [B, T, heads, hd]. */
const heads = (t: Tensor, ctx: DecoderContext, n: number, hd: number) =>
  reshape(t, [ctx.batch, ctx.length, n, hd]);

/** Rotates the heads of t [R, heads·hd] in place (inverse = the backward). */
const rotate = (
  rec: CommandRecorder,
  ctx: DecoderContext,
  t: Tensor,
  n: number,
  hd: number,
  inverse: boolean,
) =>
  applyRotary(rec, {
    x: t,
    layout: { batch: 1, tokens: ctx.batch * ctx.length, heads: n, headDim: hd },
    table: ctx.rotary,
    inverse,
  });

/** Records layer `layer`'s forward on x [R, H]; returns the output [R, H] and what to save. */
export const decoderLayerForward = (
  rec: CommandRecorder,
  arena: Arena,
  params: Parameters,
  config: Qwen25VLConfig,
  layer: number,
  ctx: DecoderContext,
  x: Tensor,
): { readonly y: Tensor; readonly saved: DecoderLayerSaved } => {
  const { H, I, hq, hkv, hd } = dims(config);
  const R = ctx.batch * ctx.length;
  const p = `model.layers.${layer}`;
  const eps = config.rms_norm_eps;
  const h1 = arena.alloc([R, H]);
  const rstd1 = arena.alloc([R]);
  rmsNormForward(rec, {
    x,
    weight: params.value(`${p}.input_layernorm.weight`),
    y: h1,
    rstd: rstd1,
  }, eps);
  const q = arena.alloc([R, hq * hd]);
  const k = arena.alloc([R, hkv * hd]);
  const v = arena.alloc([R, hkv * hd]);
  linearForward(rec, linearWeights(params, `${p}.self_attn.q_proj`, true), h1, q);
  linearForward(rec, linearWeights(params, `${p}.self_attn.k_proj`, true), h1, k);
  linearForward(rec, linearWeights(params, `${p}.self_attn.v_proj`, true), h1, v);
  rotate(rec, ctx, q, hq, hd, false);
  rotate(rec, ctx, k, hkv, hd, false);
  const o = arena.alloc([R, hq * hd]);
  const lse = arena.alloc([ctx.batch, hq, ctx.length]);
  const cache = ctx.cache;
  if (cache === undefined) {
    attentionForward(
      rec,
      heads(q, ctx, hq, hd),
      heads(k, ctx, hkv, hd),
      heads(v, ctx, hkv, hd),
      heads(o, ctx, hq, hd),
      lse,
      { mask: { kind: "causal" }, keyLengths: ctx.keyLengths },
    );
  } else {
    const { k: kc, v: vc } = cache.layers[layer]!;
    const rowsView = (t: Tensor) => reshape(t, [ctx.batch * cache.capacity, hkv * hd]);
    moveRows(rec, k, cache.srcRows, cache.dstRows, rowsView(kc));
    moveRows(rec, v, cache.srcRows, cache.dstRows, rowsView(vc));
    const cacheHeads = (t: Tensor) => reshape(t, [ctx.batch, cache.capacity, hkv, hd]);
    attentionForward(
      rec,
      heads(q, ctx, hq, hd),
      cacheHeads(kc),
      cacheHeads(vc),
      heads(o, ctx, hq, hd),
      lse,
      { mask: cache.mask, keyLengths: ctx.keyLengths, keyCount: cache.keyCount },
    );
  }
  const attnOut = arena.alloc([R, H]);
  linearForward(rec, linearWeights(params, `${p}.self_attn.o_proj`, false), o, attnOut);
  const x2 = arena.alloc([R, H]);
  add(rec, x, attnOut, x2);
  const h2 = arena.alloc([R, H]);
  const rstd2 = arena.alloc([R]);
  rmsNormForward(
    rec,
    { x: x2, weight: params.value(`${p}.post_attention_layernorm.weight`), y: h2, rstd: rstd2 },
    eps,
  );
  const gate = arena.alloc([R, I]);
  const up = arena.alloc([R, I]);
  const act = arena.alloc([R, I]);
  linearForward(rec, linearWeights(params, `${p}.mlp.gate_proj`, false), h2, gate);
  linearForward(rec, linearWeights(params, `${p}.mlp.up_proj`, false), h2, up);
  swigluForward(rec, gate, up, act);
  const mlpOut = arena.alloc([R, H]);
  linearForward(rec, linearWeights(params, `${p}.mlp.down_proj`, false), act, mlpOut);
  const y = arena.alloc([R, H]);
  add(rec, x2, mlpOut, y);
  return { y, saved: { x, h1, rstd1, q, k, v, o, lse, x2, h2, rstd2, gate, up, act } };
};

/** Records the layer's backward for dy [R, H]; accumulates parameter gradients, returns dx [R, H]. */
export const decoderLayerBackward = (
  rec: CommandRecorder,
  arena: Arena,
  params: Parameters,
  config: Qwen25VLConfig,
  layer: number,
  ctx: DecoderContext,
  s: DecoderLayerSaved,
  dy: Tensor,
): Tensor => {
  const { H, I, hq, hkv, hd } = dims(config);
  const R = ctx.batch * ctx.length;
  const p = `model.layers.${layer}`;
  // MLP branch: y = x2 + down(swiglu(gate, up)).
  const dAct = arena.alloc([R, I]);
  linearBackward(rec, linearWeights(params, `${p}.mlp.down_proj`, false), s.act, dy, dAct);
  const dGate = arena.alloc([R, I]);
  const dUp = arena.alloc([R, I]);
  swigluBackward(rec, s.gate, s.up, dAct, dGate, dUp);
  const dh2 = arena.alloc([R, H]);
  linearBackward(rec, linearWeights(params, `${p}.mlp.gate_proj`, false), s.h2, dGate, dh2);
  linearBackward(rec, linearWeights(params, `${p}.mlp.up_proj`, false), s.h2, dUp, dh2, {
    accumulateDx: true,
  });
  const dx2Norm = arena.alloc([R, H]);
  const postNorm = params.get(`${p}.post_attention_layernorm.weight`);
  rmsNormBackward(rec, arena, {
    x: s.x2,
    weight: postNorm.value,
    rstd: s.rstd2,
    dy: dh2,
    dx: dx2Norm,
    dweight: postNorm.grad,
  }, { accumulate: true });
  const dx2 = arena.alloc([R, H]);
  add(rec, dy, dx2Norm, dx2);
  // Attention branch: x2 = x + o_proj(attn(rope(q), rope(k), v)).
  const dO = arena.alloc([R, hq * hd]);
  linearBackward(rec, linearWeights(params, `${p}.self_attn.o_proj`, false), s.o, dx2, dO);
  const dq = arena.alloc([R, hq * hd]);
  const dk = arena.alloc([R, hkv * hd]);
  const dv = arena.alloc([R, hkv * hd]);
  attentionBackward(
    rec,
    heads(s.q, ctx, hq, hd),
    heads(s.k, ctx, hkv, hd),
    heads(s.v, ctx, hkv, hd),
    heads(s.o, ctx, hq, hd),
    s.lse,
    heads(dO, ctx, hq, hd),
    heads(dq, ctx, hq, hd),
    heads(dk, ctx, hkv, hd),
    heads(dv, ctx, hkv, hd),
    { mask: { kind: "causal" }, keyLengths: ctx.keyLengths },
  );
  rotate(rec, ctx, dq, hq, hd, true);
  rotate(rec, ctx, dk, hkv, hd, true);
  const dh1 = arena.alloc([R, H]);
  linearBackward(rec, linearWeights(params, `${p}.self_attn.q_proj`, true), s.h1, dq, dh1);
  linearBackward(rec, linearWeights(params, `${p}.self_attn.k_proj`, true), s.h1, dk, dh1, {
    accumulateDx: true,
  });
  linearBackward(rec, linearWeights(params, `${p}.self_attn.v_proj`, true), s.h1, dv, dh1, {
    accumulateDx: true,
  });
  const dxNorm = arena.alloc([R, H]);
  const inNorm = params.get(`${p}.input_layernorm.weight`);
  rmsNormBackward(rec, arena, {
    x: s.x,
    weight: inNorm.value,
    rstd: s.rstd1,
    dy: dh1,
    dx: dxNorm,
    dweight: inNorm.grad,
  }, { accumulate: true });
  const dx = arena.alloc([R, H]);
  add(rec, dx2, dxNorm, dx);
  return dx;
};
