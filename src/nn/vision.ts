/**
 * The Qwen2.5-VL vision tower and patch merger, forward and hand-written backward:
 *
 *   x = patches·Wpᵀ;  per block: x += proj(attn(rope2d(q), rope2d(k), v)) with q,k,v from
 *   rms(x)·Wqkvᵀ + b; x += down(silu(gate(h)) ⊙ up(h)) with h = rms(x), biases on all four;
 *   merger: m = gelu(view(rms(x)·w_q, 4D)·W0ᵀ + b0)·W2ᵀ + b2.
 *
 * Patches arrive in window order (the host permutes pixel rows and rotary tables), so windowed
 * blocks attend within contiguous runs of rows and the merger's output is in window order; the
 * caller un-permutes it when placing features among the text embeddings. Windows of unequal
 * length (a merged grid that is not a multiple of the window side) are moved into a zero-padded
 * [windows, longest] layout for attention, with each window's length masking its padding keys,
 * and moved back.
 * Rows R = images · patches.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { attentionBackward, attentionForward } from "../gpu/ops/attention.ts";
import { add, swigluBackward, swigluForward } from "../gpu/ops/elementwise.ts";
import { fill } from "../gpu/ops/fill.ts";
import { geluBackward, geluForward } from "../gpu/ops/gelu.ts";
import { rmsNormBackward, rmsNormForward } from "../gpu/ops/rmsnorm.ts";
import { applyRotary } from "../gpu/ops/rope.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import { reshape, type Tensor } from "../gpu/tensor.ts";
import type { Qwen25VLConfig } from "./config.ts";
import {
  linearBackward,
  linearForward,
  type LinearWeights,
  linearWeights,
  sliceOutputs,
} from "./linear.ts";
import type { Parameters } from "./parameters.ts";

/** Geometry of one vision pass. */
export interface VisionContext {
  readonly images: number;
  /** Patches per image. */
  readonly patches: number;
  /** Attention windows per image (1 when a window covers the whole image). */
  readonly windows: number;
  /** [1, patches, head_dim / 2, 2] 2-D rotary table of one image (shared), window order. */
  readonly rotary: Tensor;
  /** Present when windows differ in length (see `RaggedWindows` in vision_inputs.ts). */
  readonly ragged?: RaggedWindowTensors;
}

/** The padded window layout on the GPU. */
export interface RaggedWindowTensors {
  /** Patches in the longest window. */
  readonly longest: number;
  /** [R] u32: 0..R−1. */
  readonly rows: Tensor;
  /** [R] u32: row of each patch in the padded [images·windows·longest] layout. */
  readonly paddedRows: Tensor;
  /** [images·windows] u32: patches in each window. */
  readonly keyLengths: Tensor;
}

interface BlockSaved {
  readonly x: Tensor;
  readonly h1: Tensor;
  readonly rstd1: Tensor;
  readonly o: Tensor;
  /** The attention's rotated q, k and v and its o ([R, D], or padded copies for ragged windows). */
  readonly attention: {
    readonly q: Tensor;
    readonly k: Tensor;
    readonly v: Tensor;
    readonly o: Tensor;
  };
  readonly lse: Tensor;
  readonly x2: Tensor;
  readonly h2: Tensor;
  readonly rstd2: Tensor;
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly act: Tensor;
}

/** Activations the vision backward needs. */
export interface VisionSaved {
  readonly patches: Tensor;
  readonly blocks: ReadonlyArray<BlockSaved>;
  readonly xFinal: Tensor;
  readonly merged: Tensor;
  readonly rstdMerge: Tensor;
  readonly hidden: Tensor;
  readonly activated: Tensor;
}

const EPS = 1e-6;

const dimsOf = (config: Qwen25VLConfig) => {
  const v = config.vision_config;
  const unit = v.spatial_merge_size ** 2;
  return {
    D: v.hidden_size,
    I: v.intermediate_size,
    heads: v.num_heads,
    hd: v.hidden_size / v.num_heads,
    unit,
  };
};

/**
 * How a block's attention sees the rows: as whole images, as equal windows, or (ragged windows)
 * as windows padded to the longest. `toLayout` gives a [sequences·length, D] tensor of a row
 * tensor (itself, or a zero-padded copy); `fromLayout` moves the real rows back.
 */
const attentionLayout = (ctx: VisionContext, full: boolean, heads: number, hd: number) => {
  const R = ctx.images * ctx.patches;
  const sequences = full ? ctx.images : ctx.images * ctx.windows;
  const ragged = full ? undefined : ctx.ragged;
  const length = ragged?.longest ?? R / sequences;
  return {
    sequences,
    length,
    view: (t: Tensor) => reshape(t, [sequences, length, heads, hd]),
    options: {
      mask: { kind: "full" } as const,
      ...(ragged === undefined ? {} : { keyLengths: ragged.keyLengths }),
    },
    toLayout: (rec: CommandRecorder, arena: Arena, t: Tensor): Tensor => {
      if (ragged === undefined) return t;
      const padded = arena.alloc([sequences * length, heads * hd]);
      // Padding rows must be finite zeros: padded queries still run (and are dropped).
      fill(rec, padded, 0);
      moveRows(rec, t, ragged.rows, ragged.paddedRows, padded);
      return padded;
    },
    alloc: (arena: Arena, rowsTensor: Tensor): Tensor =>
      ragged === undefined ? rowsTensor : arena.alloc([sequences * length, heads * hd]),
    fromLayout: (rec: CommandRecorder, t: Tensor, dst: Tensor): void => {
      if (ragged !== undefined) moveRows(rec, t, ragged.paddedRows, ragged.rows, dst);
    },
  };
};

/** Rotates the heads of t [R, heads·hd] in place (inverse = the backward). */
const rotate = (
  rec: CommandRecorder,
  ctx: VisionContext,
  t: Tensor,
  heads: number,
  hd: number,
  inverse: boolean,
) =>
  applyRotary(rec, {
    x: t,
    layout: { batch: ctx.images, tokens: ctx.patches, heads, headDim: hd },
    table: ctx.rotary,
    inverse,
  });

const qkvLayers = (rec: CommandRecorder, params: Parameters, p: string, D: number) => {
  const fused = linearWeights(params, `${p}.attn.qkv`, true);
  const rt = rec.runtime;
  return [0, 1, 2].map((i) => sliceOutputs(rt, fused, i * D, D)) as [
    LinearWeights,
    LinearWeights,
    LinearWeights,
  ];
};

const patchEmbed = (params: Parameters, config: Qwen25VLConfig): LinearWeights => {
  const w = params.get("visual.patch_embed.proj.weight");
  const D = config.vision_config.hidden_size;
  const patchDim = w.value.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    weight: reshape(w.value, [D, patchDim]),
    get weightGrad() {
      return reshape(w.grad, [D, patchDim]);
    },
  };
};

/** Records the tower and merger on patches [R, C·t·p²]; returns features [R / 4, out_hidden]. */
export const visionForward = (
  rec: CommandRecorder,
  arena: Arena,
  params: Parameters,
  config: Qwen25VLConfig,
  ctx: VisionContext,
  patches: Tensor,
): { readonly features: Tensor; readonly saved: VisionSaved } => {
  const { D, I, heads, hd, unit } = dimsOf(config);
  const R = ctx.images * ctx.patches;
  let x = arena.alloc([R, D]);
  linearForward(rec, patchEmbed(params, config), patches, x);
  const blocks: BlockSaved[] = [];
  for (let b = 0; b < config.vision_config.depth; b++) {
    const p = `visual.blocks.${b}`;
    const full = config.vision_config.fullatt_block_indexes.includes(b);
    const h1 = arena.alloc([R, D]);
    const rstd1 = arena.alloc([R]);
    rmsNormForward(rec, { x, weight: params.value(`${p}.norm1.weight`), y: h1, rstd: rstd1 }, EPS);
    const [lq, lk, lv] = qkvLayers(rec, params, p, D);
    const q = arena.alloc([R, D]);
    const k = arena.alloc([R, D]);
    const v = arena.alloc([R, D]);
    linearForward(rec, lq, h1, q);
    linearForward(rec, lk, h1, k);
    linearForward(rec, lv, h1, v);
    rotate(rec, ctx, q, heads, hd, false);
    rotate(rec, ctx, k, heads, hd, false);
    const o = arena.alloc([R, D]);
    const layout = attentionLayout(ctx, full, heads, hd);
    const attention = {
      q: layout.toLayout(rec, arena, q),
      k: layout.toLayout(rec, arena, k),
      v: layout.toLayout(rec, arena, v),
      o: layout.alloc(arena, o),
    };
    const lse = arena.alloc([layout.sequences, heads, layout.length]);
    const { view } = layout;
    attentionForward(
      rec,
      view(attention.q),
      view(attention.k),
      view(attention.v),
      view(attention.o),
      lse,
      layout.options,
    );
    layout.fromLayout(rec, attention.o, o);
    const attnOut = arena.alloc([R, D]);
    linearForward(rec, linearWeights(params, `${p}.attn.proj`, true), o, attnOut);
    const x2 = arena.alloc([R, D]);
    add(rec, x, attnOut, x2);
    const h2 = arena.alloc([R, D]);
    const rstd2 = arena.alloc([R]);
    rmsNormForward(
      rec,
      { x: x2, weight: params.value(`${p}.norm2.weight`), y: h2, rstd: rstd2 },
      EPS,
    );
    const gate = arena.alloc([R, I]);
    const up = arena.alloc([R, I]);
    const act = arena.alloc([R, I]);
    linearForward(rec, linearWeights(params, `${p}.mlp.gate_proj`, true), h2, gate);
    linearForward(rec, linearWeights(params, `${p}.mlp.up_proj`, true), h2, up);
    swigluForward(rec, gate, up, act);
    const mlpOut = arena.alloc([R, D]);
    linearForward(rec, linearWeights(params, `${p}.mlp.down_proj`, true), act, mlpOut);
    const y = arena.alloc([R, D]);
    add(rec, x2, mlpOut, y);
    blocks.push({ x, h1, rstd1, o, attention, lse, x2, h2, rstd2, gate, up, act });
    x = y;
  }
  const normed = arena.alloc([R, D]);
  const rstdMerge = arena.alloc([R]);
  rmsNormForward(rec, {
    x,
    weight: params.value("visual.merger.ln_q.weight"),
    y: normed,
    rstd: rstdMerge,
  }, EPS);
  const merged = reshape(normed, [R / unit, unit * D]);
  const hidden = arena.alloc([R / unit, unit * D]);
  linearForward(rec, linearWeights(params, "visual.merger.mlp.0", true), merged, hidden);
  const activated = arena.alloc([R / unit, unit * D]);
  geluForward(rec, hidden, activated);
  const features = arena.alloc([R / unit, config.vision_config.out_hidden_size]);
  linearForward(rec, linearWeights(params, "visual.merger.mlp.2", true), activated, features);
  return {
    features,
    saved: { patches, blocks, xFinal: x, merged, rstdMerge, hidden, activated },
  };
};

/** Records the backward for dFeatures [R / 4, out_hidden]; accumulates parameter gradients. */
export const visionBackward = (
  rec: CommandRecorder,
  arena: Arena,
  params: Parameters,
  config: Qwen25VLConfig,
  ctx: VisionContext,
  s: VisionSaved,
  dFeatures: Tensor,
): void => {
  const { D, I, heads, hd, unit } = dimsOf(config);
  const R = ctx.images * ctx.patches;
  const dActivated = arena.alloc([R / unit, unit * D]);
  linearBackward(
    rec,
    linearWeights(params, "visual.merger.mlp.2", true),
    s.activated,
    dFeatures,
    dActivated,
  );
  const dHidden = arena.alloc([R / unit, unit * D]);
  geluBackward(rec, s.hidden, dActivated, dHidden);
  const dMerged = arena.alloc([R / unit, unit * D]);
  linearBackward(
    rec,
    linearWeights(params, "visual.merger.mlp.0", true),
    s.merged,
    dHidden,
    dMerged,
  );
  let dx = arena.alloc([R, D]);
  const lnq = params.get("visual.merger.ln_q.weight");
  rmsNormBackward(rec, arena, {
    x: s.xFinal,
    weight: lnq.value,
    rstd: s.rstdMerge,
    dy: reshape(dMerged, [R, D]),
    dx,
    dweight: lnq.grad,
  }, { accumulate: true });
  for (let b = config.vision_config.depth - 1; b >= 0; b--) {
    const p = `visual.blocks.${b}`;
    const full = config.vision_config.fullatt_block_indexes.includes(b);
    const blk = s.blocks[b]!;
    const dAct = arena.alloc([R, I]);
    linearBackward(rec, linearWeights(params, `${p}.mlp.down_proj`, true), blk.act, dx, dAct);
    const dGate = arena.alloc([R, I]);
    const dUp = arena.alloc([R, I]);
    swigluBackward(rec, blk.gate, blk.up, dAct, dGate, dUp);
    const dh2 = arena.alloc([R, D]);
    linearBackward(rec, linearWeights(params, `${p}.mlp.gate_proj`, true), blk.h2, dGate, dh2);
    linearBackward(rec, linearWeights(params, `${p}.mlp.up_proj`, true), blk.h2, dUp, dh2, {
      accumulateDx: true,
    });
    const dx2Norm = arena.alloc([R, D]);
    const norm2 = params.get(`${p}.norm2.weight`);
    rmsNormBackward(rec, arena, {
      x: blk.x2,
      weight: norm2.value,
      rstd: blk.rstd2,
      dy: dh2,
      dx: dx2Norm,
      dweight: norm2.grad,
    }, { accumulate: true });
    const dx2 = arena.alloc([R, D]);
    add(rec, dx, dx2Norm, dx2);
    const dO = arena.alloc([R, D]);
    linearBackward(rec, linearWeights(params, `${p}.attn.proj`, true), blk.o, dx2, dO);
    const dq = arena.alloc([R, D]);
    const dk = arena.alloc([R, D]);
    const dv = arena.alloc([R, D]);
    const layout = attentionLayout(ctx, full, heads, hd);
    const { view } = layout;
    const a = blk.attention;
    // Padding rows of dO are zero, so padded queries add nothing to dK and dV.
    const dOA = layout.toLayout(rec, arena, dO);
    const [dqA, dkA, dvA] = [dq, dk, dv].map((t) => layout.alloc(arena, t)) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    attentionBackward(
      rec,
      view(a.q),
      view(a.k),
      view(a.v),
      view(a.o),
      blk.lse,
      view(dOA),
      view(dqA),
      view(dkA),
      view(dvA),
      layout.options,
    );
    layout.fromLayout(rec, dqA, dq);
    layout.fromLayout(rec, dkA, dk);
    layout.fromLayout(rec, dvA, dv);
    rotate(rec, ctx, dq, heads, hd, true);
    rotate(rec, ctx, dk, heads, hd, true);
    const [lq, lk, lv] = qkvLayers(rec, params, p, D);
    const dh1 = arena.alloc([R, D]);
    linearBackward(rec, lq, blk.h1, dq, dh1);
    linearBackward(rec, lk, blk.h1, dk, dh1, { accumulateDx: true });
    linearBackward(rec, lv, blk.h1, dv, dh1, { accumulateDx: true });
    const dxNorm = arena.alloc([R, D]);
    const norm1 = params.get(`${p}.norm1.weight`);
    rmsNormBackward(rec, arena, {
      x: blk.x,
      weight: norm1.value,
      rstd: blk.rstd1,
      dy: dh1,
      dx: dxNorm,
      dweight: norm1.grad,
    }, { accumulate: true });
    const dxIn = arena.alloc([R, D]);
    add(rec, dx2, dxNorm, dxIn);
    dx = dxIn;
  }
  // Pixels need no gradient: only the patch-embedding weight does.
  linearBackward(rec, patchEmbed(params, config), s.patches, dx, undefined);
};
