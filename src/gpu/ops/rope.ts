/**
 * Rotary position embeddings on Q/K heads (kernels/rope_fwd.wgsl): 1-D RoPE, Qwen2-VL M-RoPE and
 * the vision encoder's 2-D RoPE all use this one op; they differ only in the cos/sin table
 * (see rope_tables.ts). The backward pass is the same op with `inverse: true`.
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { describe, expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { threadsPerRow } from "./row_reduce.ts";

/**
 * Where the heads of a logical [batch, tokens, heads, headDim] tensor lie in a buffer, in
 * elements. Strides default to the contiguous layout; e.g. Q inside a fused QKV
 * [B, T, 3, H, D] buffer has tokenStride 3·H·D and offset 0 (K: offset H·D).
 */
export interface HeadLayout {
  readonly batch: number;
  readonly tokens: number;
  readonly heads: number;
  readonly headDim: number;
  readonly batchStride?: number;
  readonly tokenStride?: number;
  readonly headStride?: number;
  /** Elements before the first head (lets Q/K be unaligned slices of one buffer). */
  readonly offset?: number;
}

const resolved = (l: HeadLayout) => {
  const headStride = l.headStride ?? l.headDim;
  const tokenStride = l.tokenStride ?? l.heads * headStride;
  return {
    offset: l.offset ?? 0,
    batchStride: l.batchStride ?? l.tokens * tokenStride,
    tokenStride,
    headStride,
  };
};

const checkLayout = (op: string, name: string, t: Tensor, l: HeadLayout) => {
  const s = resolved(l);
  const last = s.offset + (l.batch - 1) * s.batchStride + (l.tokens - 1) * s.tokenStride +
    (l.heads - 1) * s.headStride + l.headDim - 1;
  if (t.dtype !== "f32" || last >= numel(t.shape) || s.headStride < l.headDim) {
    throw new ShapeMismatch({
      op,
      detail: `${name} is ${describe(t)}, too small or overlapping for layout ${JSON.stringify(l)}`,
    });
  }
  return s;
};

/** Arguments of `applyRotary`. */
export interface RotaryArgs {
  /** f32 tensor holding the heads described by `layout`. */
  readonly x: Tensor;
  readonly layout: HeadLayout;
  /** [1 or batch, tokens, headDim / 2, 2] f32 cos/sin table (1 = shared by the batch). */
  readonly table: Tensor;
  /** Output tensor in another buffer than `x`; omitted = rotate `x` in place. */
  readonly out?: Tensor;
  /** Layout of `out`; default: contiguous [batch, tokens, heads, headDim]. */
  readonly outLayout?: HeadLayout;
  /** Rotate by −θ: the backward pass (dx from dy), or undoing the forward. */
  readonly inverse?: boolean;
}

/**
 * Records the rotary embedding of every head of `x`: channel pair (i, i + D/2) of token t is
 * rotated by the angle of table entry (t, i), as HF's `q·cos + rotate_half(q)·sin`.
 */
export const applyRotary = (rec: CommandRecorder, args: RotaryArgs): void => {
  const op = "applyRotary";
  const l = args.layout;
  if (l.headDim % 2 !== 0 || l.headDim === 0) {
    throw new ShapeMismatch({ op, detail: `headDim must be even, got ${l.headDim}` });
  }
  const half = l.headDim / 2;
  const tableBatches = args.table.shape[0] === l.batch ? l.batch : 1;
  expectShape(op, "table", args.table, [tableBatches, l.tokens, half, 2]);
  const src = checkLayout(op, "x", args.x, l);
  const outLayout = args.outLayout ??
    { batch: l.batch, tokens: l.tokens, heads: l.heads, headDim: l.headDim };
  if (
    outLayout.batch !== l.batch || outLayout.tokens !== l.tokens ||
    outLayout.heads !== l.heads || outLayout.headDim !== l.headDim
  ) {
    throw new ShapeMismatch({ op, detail: "outLayout must describe the same [B, T, H, D] as x" });
  }
  if (args.out !== undefined && args.out.buffer === args.x.buffer) {
    // WebGPU cannot bind one buffer as both the input and the writable output of a dispatch.
    throw new RangeError(`${op}: out shares x's buffer; omit out to rotate x in place`);
  }
  const dst = args.out === undefined ? src : checkLayout(op, "out", args.out, outLayout);
  const inPlace = args.out === undefined;
  const tpr = threadsPerRow(half);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "rope_fwd.wgsl",
    defines: { INPLACE: inPlace },
    constants: { TPR: tpr },
  });
  const params = packParams([
    { u32: l.batch },
    { u32: l.tokens },
    { u32: l.heads },
    { u32: half },
    { u32: src.offset },
    { u32: src.batchStride },
    { u32: src.tokenStride },
    { u32: src.headStride },
    { u32: dst.offset },
    { u32: dst.batchStride },
    { u32: dst.tokenStride },
    { u32: dst.headStride },
    { u32: tableBatches === 1 ? 0 : l.tokens },
    { f32: args.inverse ? -1 : 1 },
  ]);
  const heads = l.batch * l.tokens * l.heads;
  const bindings = args.out === undefined ? [args.x, args.table] : [args.x, args.table, args.out];
  rec.dispatch(pipeline, bindings, grid1d(heads, 256 / tpr), params);
};
