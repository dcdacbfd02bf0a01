/**
 * RMSNorm over the last axis with a learned weight (Qwen2RMSNorm), forward and backward.
 *
 * @module
 */
import type { Arena } from "../buffer_pool.ts";
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { threadsPerRow } from "./row_reduce.ts";

/** Rows summed per block in the first stage of the weight gradient (more past 4M rows, so the
 * block count fits one grid dimension). */
const dwRowsPerBlock = (rows: number): number => Math.max(64, Math.ceil(rows / 65535));

const rowsAndDim = (op: string, x: Tensor): { rows: number; dim: number } => {
  const dim = x.shape.at(-1);
  if (dim === undefined || dim === 0) {
    throw new ShapeMismatch({ op, detail: `x must have a non-empty last axis, got [${x.shape}]` });
  }
  return { rows: x.shape.slice(0, -1).reduce((a, b) => a * b, 1), dim };
};

/** Tensors of the RMSNorm forward. Leading axes of `x` are flattened into rows. */
export interface RmsNormForward {
  /** [..., D] input. */
  readonly x: Tensor;
  /** [D] weight. */
  readonly weight: Tensor;
  /** [..., D] output (same shape as `x`, another buffer). */
  readonly y: Tensor;
  /** [rows] per-row 1/sqrt(mean(x²) + eps), kept for the backward pass. */
  readonly rstd: Tensor;
}

/**
 * Records `y = x / sqrt(mean(x², last axis) + eps) · weight`, saving `rstd` per row.
 * Qwen2.5-VL uses eps = 1e-6 (`rms_norm_eps`).
 */
export const rmsNormForward = (rec: CommandRecorder, t: RmsNormForward, eps: number): void => {
  const op = "rmsNormForward";
  const { rows, dim } = rowsAndDim(op, t.x);
  expectShape(op, "x", t.x, t.x.shape); // dtype
  expectShape(op, "weight", t.weight, [dim]);
  expectShape(op, "y", t.y, t.x.shape);
  expectShape(op, "rstd", t.rstd, [rows]);
  const tpr = threadsPerRow(dim);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "rmsnorm_fwd.wgsl",
    constants: { TPR: tpr },
  });
  rec.dispatch(
    pipeline,
    [t.x, t.weight, t.y, t.rstd],
    grid1d(rows, 256 / tpr),
    packParams([{ u32: rows }, { u32: dim }, { f32: eps }]),
  );
};

/** Tensors of the RMSNorm backward. */
export interface RmsNormBackward {
  /** [..., D] forward input. */
  readonly x: Tensor;
  /** [D] weight. */
  readonly weight: Tensor;
  /** [rows] saved by `rmsNormForward`. */
  readonly rstd: Tensor;
  /** [..., D] gradient of the output. */
  readonly dy: Tensor;
  /** [..., D] gradient of the input (written). */
  readonly dx: Tensor;
  /** [D] gradient of the weight (written, or added to when `accumulate`). */
  readonly dweight: Tensor;
}

/**
 * Records dx and dweight of RMSNorm. dweight is summed over rows in fixed-size row blocks
 * (scratch from `arena`) and then over blocks, in a fixed order (deterministic, no atomics).
 * With `accumulate`, dweight += the gradient (gradient accumulation over micro-batches).
 */
export const rmsNormBackward = (
  rec: CommandRecorder,
  arena: Arena,
  t: RmsNormBackward,
  { accumulate = false }: { accumulate?: boolean } = {},
): void => {
  const op = "rmsNormBackward";
  const { rows, dim } = rowsAndDim(op, t.x);
  expectShape(op, "x", t.x, t.x.shape); // dtype
  expectShape(op, "weight", t.weight, [dim]);
  expectShape(op, "rstd", t.rstd, [rows]);
  expectShape(op, "dy", t.dy, t.x.shape);
  expectShape(op, "dx", t.dx, t.x.shape);
  expectShape(op, "dweight", t.dweight, [dim]);
  const pipelines = rec.runtime.pipelines;
  const tpr = threadsPerRow(dim);
  rec.dispatch(
    pipelines.get({ kernel: "rmsnorm_bwd.wgsl", defines: { DX: true }, constants: { TPR: tpr } }),
    [t.x, t.weight, t.dy, t.rstd, t.dx],
    grid1d(rows, 256 / tpr),
    packParams([{ u32: rows }, { u32: dim }, { u32: 0 }, { u32: 0 }]),
  );
  const rowsPerBlock = dwRowsPerBlock(rows);
  const blockCount = Math.max(1, Math.ceil(rows / rowsPerBlock));
  const blocks = arena.alloc([blockCount, dim]);
  const columns = Math.ceil(dim / 64);
  rec.dispatch(
    pipelines.get({ kernel: "rmsnorm_bwd.wgsl", defines: { DW_PARTIAL: true } }),
    [t.x, t.dy, t.rstd, blocks],
    [columns, blockCount],
    packParams([{ u32: rows }, { u32: dim }, { u32: rowsPerBlock }, { u32: 0 }]),
  );
  rec.dispatch(
    pipelines.get({ kernel: "rmsnorm_bwd.wgsl", defines: { DW_REDUCE: true } }),
    [blocks, t.dweight],
    [columns],
    packParams([{ u32: rows }, { u32: dim }, { u32: blockCount }, { u32: accumulate ? 1 : 0 }]),
  );
};
