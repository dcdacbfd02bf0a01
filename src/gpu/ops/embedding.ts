/**
 * Token embedding lookup and its backward (kernels/embedding_fwd.wgsl, kernels/embedding_bwd.wgsl).
 *
 * The backward is a scatter-add without float atomics: a stable counting sort of token positions
 * by id on the GPU, then a few invocations per table row sum its tokens' gradient rows in ascending
 * token order — deterministic, O(N·chunk + V·N/chunk + V·D + N·D). For N ≈ 4k tokens and V ≈ 2k it
 * is a handful of small dispatches; at Qwen's V = 151,936 the dense dtable write (V·D floats)
 * dominates, as it would for any dense gradient. Tables larger than one storage binding (Qwen's
 * 151936 × 2048 f32 is 1.24 GB) are bound in row blocks.
 *
 * The forward also gathers from a 16-bit inference table (bf16 or f16, two values per u32 word,
 * even D), widening to f32; the backward needs an f32 table gradient.
 *
 * @module
 */
import type { Arena } from "../buffer_pool.ts";
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, type Tensor } from "../tensor.ts";
import { fill } from "./fill.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { rowChunks } from "./row_chunks.ts";
import { threadsPerRow } from "./row_reduce.ts";

const tableShape = (op: string, table: Tensor, allowPacked = false) => {
  const [vocab, dim] = table.shape;
  if (table.shape.length !== 2 || vocab === undefined || dim === undefined || dim === 0) {
    throw new ShapeMismatch({ op, detail: `table must be [V, D], got [${table.shape}]` });
  }
  const packed = allowPacked && (table.dtype === "bf16" || table.dtype === "f16");
  if (packed && dim % 2 !== 0) {
    throw new ShapeMismatch({
      op,
      detail: `a ${table.dtype} table needs an even width (two values per word), got D = ${dim}`,
    });
  }
  expectShape(op, "table", table, [vocab, dim], packed ? table.dtype : "f32");
  return { vocab, dim };
};

const tableBlocks = (rec: CommandRecorder, op: string, table: Tensor) =>
  rowChunks(
    op,
    table,
    rec.runtime.maxBindingBytes,
    rec.runtime.device.limits.minStorageBufferOffsetAlignment,
  );

/**
 * Records out[n, :] = table[ids[n], :] for ids u32 [N], table [V, D] f32 (or bf16/f16 with even
 * D, widened exactly), out [N, D] f32. Ids ≥ V give NaN rows.
 */
export const embeddingForward = (
  rec: CommandRecorder,
  ids: Tensor,
  table: Tensor,
  out: Tensor,
): void => {
  const op = "embeddingForward";
  const { vocab, dim } = tableShape(op, table, true);
  const tokens = ids.shape[0] ?? 0;
  expectShape(op, "ids", ids, [tokens], "u32");
  expectShape(op, "out", out, [tokens, dim]);
  const tpr = threadsPerRow(dim);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "embedding_fwd.wgsl",
    defines: { PACKED_BF16: table.dtype === "bf16", PACKED_F16: table.dtype === "f16" },
    constants: { TPR: tpr },
  });
  for (const block of tableBlocks(rec, op, table)) {
    rec.dispatch(
      pipeline,
      [ids, block.view, out],
      grid1d(tokens, 256 / tpr),
      packParams([
        { u32: tokens },
        { u32: dim },
        { u32: block.first },
        { u32: block.rows },
        { u32: vocab },
      ]),
    );
  }
};

/** Tensors of `embeddingBackward`. */
export interface EmbeddingBackward {
  /** [N] u32 token ids of the forward pass. */
  readonly ids: Tensor;
  /** [N, D] gradient of the forward output. */
  readonly dout: Tensor;
  /** [V, D] gradient of the table: written, or added to with `accumulate`. */
  readonly dtable: Tensor;
}

/** Smallest power-of-two token chunk (≥ 256) whose [chunks, V] histogram fits one binding. */
const chunkSize = (op: string, tokens: number, vocab: number, limit: number): number => {
  for (let chunk = 256; chunk < 2 * Math.max(tokens, 256); chunk *= 2) {
    if (Math.ceil(tokens / chunk) * vocab * 4 <= limit) return chunk;
  }
  throw new TensorTooLarge({ op, bytes: vocab * 4, limit });
};

/**
 * Records dtable[v, :] = Σ_{n: ids[n] = v} dout[n, :] (rows without tokens get 0), or adds it to
 * dtable with `accumulate` (e.g. onto the LM-head gradient of a tied embedding). Summation order is
 * fixed (ascending n): the result is bitwise reproducible. Scratch comes from `arena`.
 */
export const embeddingBackward = (
  rec: CommandRecorder,
  arena: Arena,
  t: EmbeddingBackward,
  { accumulate = false }: { accumulate?: boolean } = {},
): void => {
  const op = "embeddingBackward";
  const { vocab, dim } = tableShape(op, t.dtable);
  const tokens = t.ids.shape[0] ?? 0;
  expectShape(op, "ids", t.ids, [tokens], "u32");
  expectShape(op, "dout", t.dout, [tokens, dim]);
  const chunk = chunkSize(op, tokens, vocab, rec.runtime.maxBindingBytes);
  const chunks = Math.max(1, Math.ceil(tokens / chunk));
  const hist = arena.alloc([chunks, vocab], "u32");
  const offsets = arena.alloc([vocab + 1], "u32");
  const perm = arena.alloc([Math.max(tokens, 1)], "u32");
  const kernel = "embedding_bwd.wgsl";
  const pipelines = rec.runtime.pipelines;
  fill(rec, hist, 0);
  rec.dispatch(
    pipelines.get({ kernel, defines: { HISTOGRAM: true } }),
    [t.ids, hist],
    grid1d(tokens, 256),
    packParams([{ u32: tokens }, { u32: vocab }, { u32: chunk }]),
  );
  rec.dispatch(
    pipelines.get({ kernel, defines: { COLUMN_SCAN: true } }),
    [hist, offsets],
    grid1d(vocab, 256),
    packParams([{ u32: vocab }, { u32: chunks }]),
  );
  rec.dispatch(
    pipelines.get({ kernel, defines: { SCAN: true } }),
    [offsets],
    [1],
    packParams([{ u32: vocab }]),
  );
  rec.dispatch(
    pipelines.get({ kernel, defines: { PLACE: true } }),
    [t.ids, hist, offsets, perm],
    grid1d(tokens, 256),
    packParams([{ u32: tokens }, { u32: vocab }, { u32: chunk }]),
  );
  const tpr = threadsPerRow(dim);
  const accumulatePipeline = pipelines.get({
    kernel,
    defines: { ACCUMULATE: true },
    constants: { TPR: tpr },
  });
  for (const block of tableBlocks(rec, op, t.dtable)) {
    rec.dispatch(
      accumulatePipeline,
      [t.dout, perm, offsets, block.view],
      grid1d(block.rows, 256 / tpr),
      packParams([
        { u32: dim },
        { u32: block.first },
        { u32: block.rows },
        { u32: accumulate ? 1 : 0 },
      ]),
    );
  }
};
