/**
 * Moving whole rows between tensors by index: `dst[dstIndex[k]] = src[srcIndex[k]]` (or `+=`).
 * The vision tower permutes patches into window order and back with it, and the VLM places image
 * features among the text embeddings. Because each destination row is written by at most one k,
 * the backward of a row move is the same op with the index lists swapped.
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { describe, expectShape, type Tensor } from "../tensor.ts";
import { packParams } from "./dispatch.ts";

/**
 * Records the row move.
 *
 * Shapes: src [Ns, W] f32, dst [Nd, W] f32, srcIndex and dstIndex [K] u32 (values < Ns, < Nd;
 * dstIndex without repeats — not checked on the GPU).
 */
export const moveRows = (
  rec: CommandRecorder,
  src: Tensor,
  srcIndex: Tensor,
  dstIndex: Tensor,
  dst: Tensor,
  { accumulate = false }: { readonly accumulate?: boolean } = {},
): void => {
  const op = "moveRows";
  const width = src.shape.at(-1);
  if (src.shape.length !== 2 || dst.shape.length !== 2 || width === undefined) {
    throw new ShapeMismatch({
      op,
      detail: `src ${describe(src)} and dst ${describe(dst)} must be 2-D`,
    });
  }
  expectShape(op, "dst", dst, [-1, width]);
  expectShape(op, "srcIndex", srcIndex, [-1], "u32");
  const count = srcIndex.shape[0]!;
  expectShape(op, "dstIndex", dstIndex, [count], "u32");
  if (count === 0) return;
  const pipeline = rec.runtime.pipelines.get({ kernel: "rows.wgsl" });
  const rows = Math.min(count, 65535);
  rec.dispatch(
    pipeline,
    [src, srcIndex, dstIndex, dst],
    [Math.ceil(width / 64), rows, Math.ceil(count / 65535)],
    packParams([{ u32: count }, { u32: width }, { u32: accumulate ? 1 : 0 }]),
  );
};
