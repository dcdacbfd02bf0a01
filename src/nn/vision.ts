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
import { fill } from "../gpu/ops/fill.ts";
import { geluBackward, geluForward } from "../gpu/ops/gelu.ts";
import { rmsNormBackward, rmsNormForward } from "../gpu/ops/rmsnorm.ts";
import { applyRotary } from "../gpu/ops/rope.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import { reshape, type Tensor } from "../gpu/tensor.ts";
import {
  type BlockAttention,
  blockBackward,
  type BlockDims,
  blockForward,
  type BlockSaved,
  type BlockWeights,
} from "./block.ts";
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

/** What a vision block's attention keeps: its log-sum-exp and the q, k, v, o it attended with
 * (the row tensors themselves, or zero-padded copies for ragged windows). */
interface VisionAttentionSaved {
  readonly lse: Tensor;
  readonly q: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
  readonly o: Tensor;
}

/** Activations the vision backward needs. */
export interface VisionSaved {
  readonly patches: Tensor;
  readonly blocks: ReadonlyArray<BlockSaved<VisionAttentionSaved>>;
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

/** Full or windowed attention of one block, with the 2-D rotary table of the tower. */
const attention = (
  ctx: VisionContext,
  full: boolean,
  heads: number,
  hd: number,
): BlockAttention<VisionAttentionSaved> => {
  const layout = attentionLayout(ctx, full, heads, hd);
  const { view } = layout;
  return {
    rotate: (rec, t, n, inverse) =>
      applyRotary(rec, {
        x: t,
        layout: { batch: ctx.images, tokens: ctx.patches, heads: n, headDim: hd },
        table: ctx.rotary,
        inverse,
      }),
    forward: (rec, arena, t) => {
      const saved = {
        lse: arena.alloc([layout.sequences, heads, layout.length]),
        q: layout.toLayout(rec, arena, t.q),
        k: layout.toLayout(rec, arena, t.k),
        v: layout.toLayout(rec, arena, t.v),
        o: layout.alloc(arena, t.o),
      };
      attentionForward(
        rec,
        view(saved.q),
        view(saved.k),
        view(saved.v),
        view(saved.o),
        saved.lse,
        layout.options,
      );
      layout.fromLayout(rec, saved.o, t.o);
      return saved;
    },
    backward: (rec, arena, saved, t) => {
      // Padding rows of dO are zero, so padded queries add nothing to dK and dV.
      const dO = layout.toLayout(rec, arena, t.dO);
      const [dq, dk, dv] = [t.dq, t.dk, t.dv].map((g) => layout.alloc(arena, g)) as [
        Tensor,
        Tensor,
        Tensor,
      ];
      attentionBackward(
        rec,
        view(saved.q),
        view(saved.k),
        view(saved.v),
        view(saved.o),
        saved.lse,
        view(dO),
        view(dq),
        view(dk),
        view(dv),
        layout.options,
      );
      layout.fromLayout(rec, dq, t.dq);
      layout.fromLayout(rec, dk, t.dk);
      layout.fromLayout(rec, dv, t.dv);
    },
  };
};

/** Block `b`'s weights; the fused qkv weight is seen as three layers (row slices, no copy). */
const blockWeights = (
  rec: CommandRecorder,
  params: Parameters,
  b: number,
  D: number,
): BlockWeights => {
  const p = `visual.blocks.${b}`;
  const fused = linearWeights(params, `${p}.attn.qkv`, true);
  const [q, k, v] = [0, 1, 2].map((i) => sliceOutputs(rec.runtime, fused, i * D, D)) as [
    LinearWeights,
    LinearWeights,
    LinearWeights,
  ];
  return {
    norm1: params.get(`${p}.norm1.weight`),
    norm2: params.get(`${p}.norm2.weight`),
    q,
    k,
    v,
    o: linearWeights(params, `${p}.attn.proj`, true),
    gate: linearWeights(params, `${p}.mlp.gate_proj`, true),
    up: linearWeights(params, `${p}.mlp.up_proj`, true),
    down: linearWeights(params, `${p}.mlp.down_proj`, true),
    eps: EPS,
  };
};

const blockDims = (config: Qwen25VLConfig, ctx: VisionContext): BlockDims => {
  const v = config.vision_config;
  return {
    rows: ctx.images * ctx.patches,
    hidden: v.hidden_size,
    intermediate: v.intermediate_size,
    queryHeads: v.num_heads,
    kvHeads: v.num_heads,
    headDim: v.hidden_size / v.num_heads,
  };
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
  const { D, heads, hd, unit } = dimsOf(config);
  const R = ctx.images * ctx.patches;
  let x = arena.alloc([R, D]);
  linearForward(rec, patchEmbed(params, config), patches, x);
  const blocks: BlockSaved<VisionAttentionSaved>[] = [];
  const d = blockDims(config, ctx);
  for (let b = 0; b < config.vision_config.depth; b++) {
    const full = config.vision_config.fullatt_block_indexes.includes(b);
    const out = blockForward(
      rec,
      arena,
      blockWeights(rec, params, b, D),
      d,
      attention(ctx, full, heads, hd),
      x,
    );
    blocks.push(out.saved);
    x = out.y;
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
  const { D, heads, hd, unit } = dimsOf(config);
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
  const d = blockDims(config, ctx);
  for (let b = config.vision_config.depth - 1; b >= 0; b--) {
    const full = config.vision_config.fullatt_block_indexes.includes(b);
    dx = blockBackward(
      rec,
      arena,
      blockWeights(rec, params, b, D),
      d,
      attention(ctx, full, heads, hd),
      s.blocks[b]!,
      dx,
    );
  }
  // Pixels need no gradient: only the patch-embedding weight does.
  linearBackward(rec, patchEmbed(params, config), s.patches, dx, undefined);
};
