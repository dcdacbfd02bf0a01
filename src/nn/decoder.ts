/**
 * The Qwen2.5-VL language model's decoder layer: the shared pre-norm block (block.ts) with
 * q/k/v biases, M-RoPE rotation, grouped-query causal attention over padded sequences (keys past
 * each sequence's length masked) or over a KV cache during generation.
 *
 * Rows R = B·T.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { attentionBackward, attentionForward, type AttentionMask } from "../gpu/ops/attention.ts";
import { applyRotary } from "../gpu/ops/rope.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import { reshape, type Tensor } from "../gpu/tensor.ts";
import type { Qwen25VLConfig } from "./config.ts";
import {
  type BlockAttention,
  blockBackward,
  type BlockDims,
  blockForward,
  type BlockSaved,
  type BlockWeights,
} from "./block.ts";
import { linearWeights } from "./linear.ts";
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

/** Activations one layer keeps for its backward (the attention keeps its log-sum-exp). */
export type DecoderLayerSaved = BlockSaved<Tensor>;

const dims = (config: Qwen25VLConfig, ctx: DecoderContext): BlockDims => ({
  rows: ctx.batch * ctx.length,
  hidden: config.hidden_size,
  intermediate: config.intermediate_size,
  queryHeads: config.num_attention_heads,
  kvHeads: config.num_key_value_heads,
  headDim: config.hidden_size / config.num_attention_heads,
});

const weights = (params: Parameters, config: Qwen25VLConfig, layer: number): BlockWeights => {
  const p = `model.layers.${layer}`;
  return {
    norm1: params.get(`${p}.input_layernorm.weight`),
    norm2: params.get(`${p}.post_attention_layernorm.weight`),
    q: linearWeights(params, `${p}.self_attn.q_proj`, true),
    k: linearWeights(params, `${p}.self_attn.k_proj`, true),
    v: linearWeights(params, `${p}.self_attn.v_proj`, true),
    o: linearWeights(params, `${p}.self_attn.o_proj`, false),
    gate: linearWeights(params, `${p}.mlp.gate_proj`, false),
    up: linearWeights(params, `${p}.mlp.up_proj`, false),
    down: linearWeights(params, `${p}.mlp.down_proj`, false),
    eps: config.rms_norm_eps,
  };
};

/**
 * Causal attention over the pass's own padded sequences, or — with `ctx.cache` — write the new
 * keys and values into the cache and attend over it.
 */
const attention = (
  layer: number,
  ctx: DecoderContext,
  d: BlockDims,
): BlockAttention<Tensor> => {
  const heads = (t: Tensor, n: number) => reshape(t, [ctx.batch, ctx.length, n, d.headDim]);
  const causal = { mask: { kind: "causal" } as const, keyLengths: ctx.keyLengths };
  return {
    rotate: (rec, t, n, inverse) =>
      applyRotary(rec, {
        x: t,
        layout: { batch: 1, tokens: d.rows, heads: n, headDim: d.headDim },
        table: ctx.rotary,
        inverse,
      }),
    forward: (rec, arena, { q, k, v, o }) => {
      const lse = arena.alloc([ctx.batch, d.queryHeads, ctx.length]);
      const cache = ctx.cache;
      if (cache === undefined) {
        attentionForward(
          rec,
          heads(q, d.queryHeads),
          heads(k, d.kvHeads),
          heads(v, d.kvHeads),
          heads(o, d.queryHeads),
          lse,
          causal,
        );
        return lse;
      }
      const { k: kc, v: vc } = cache.layers[layer]!;
      const width = d.kvHeads * d.headDim;
      moveRows(
        rec,
        k,
        cache.srcRows,
        cache.dstRows,
        reshape(kc, [ctx.batch * cache.capacity, width]),
      );
      moveRows(
        rec,
        v,
        cache.srcRows,
        cache.dstRows,
        reshape(vc, [ctx.batch * cache.capacity, width]),
      );
      const cached = (t: Tensor) => reshape(t, [ctx.batch, cache.capacity, d.kvHeads, d.headDim]);
      attentionForward(
        rec,
        heads(q, d.queryHeads),
        cached(kc),
        cached(vc),
        heads(o, d.queryHeads),
        lse,
        {
          mask: cache.mask,
          keyLengths: ctx.keyLengths,
          keyCount: cache.keyCount,
        },
      );
      return lse;
    },
    backward: (rec, _arena, lse, t) =>
      attentionBackward(
        rec,
        heads(t.q, d.queryHeads),
        heads(t.k, d.kvHeads),
        heads(t.v, d.kvHeads),
        heads(t.o, d.queryHeads),
        lse,
        heads(t.dO, d.queryHeads),
        heads(t.dq, d.queryHeads),
        heads(t.dk, d.kvHeads),
        heads(t.dv, d.kvHeads),
        causal,
      ),
  };
};

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
  const d = dims(config, ctx);
  return blockForward(rec, arena, weights(params, config, layer), d, attention(layer, ctx, d), x);
};

/** Records the layer's backward for dy [R, H]; accumulates parameter gradients, returns dx [R, H]. */
export const decoderLayerBackward = (
  rec: CommandRecorder,
  arena: Arena,
  params: Parameters,
  config: Qwen25VLConfig,
  layer: number,
  ctx: DecoderContext,
  saved: DecoderLayerSaved,
  dy: Tensor,
): Tensor => {
  const d = dims(config, ctx);
  const w = weights(params, config, layer);
  return blockBackward(rec, arena, w, d, attention(layer, ctx, d), saved, dy);
};
