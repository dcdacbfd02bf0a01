/**
 * Splitting a row-major tensor into blocks of whole rows that each fit one storage binding and
 * start at an offset the device can bind. Row-wise ops (cross-entropy over a large vocabulary,
 * sampling, embedding tables) dispatch once per block and pass the block's first row to the
 * kernel, so small per-row tensors (targets, outputs) stay bound whole.
 *
 * @module
 */
import { TensorTooLarge } from "../errors.ts";
import { BYTES_PER_ELEMENT, numel, type Tensor } from "../tensor.ts";

/** A block of `rows` rows starting at row `first`, viewed as a tensor of its own. */
export interface RowChunk {
  readonly first: number;
  readonly rows: number;
  readonly view: Tensor;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Splits `t` ([rows, ...rest]) into row blocks of at most `maxBindingBytes` bytes and at most
 * `maxRows` rows whose byte offsets are multiples of `offsetAlign`. Throws `TensorTooLarge`
 * (naming `op`) when not even one aligned block of rows fits a binding.
 *
 * @example
 * ```ts
 * import { rowChunks } from "./row_chunks.ts";
 * const t = { shape: [10, 64], dtype: "f32" as const, buffer: {} as GPUBuffer, offset: 0 };
 * const chunks = rowChunks("demo", t, 4 * 64 * 4, 256);
 * if (chunks.length !== 3 || chunks[2]!.rows !== 2) throw new Error("expected 4 + 4 + 2 rows");
 * ```
 */
export const rowChunks = (
  op: string,
  t: Tensor,
  maxBindingBytes: number,
  offsetAlign: number,
  maxRows = Number.MAX_SAFE_INTEGER,
): RowChunk[] => {
  const rows = t.shape[0] ?? 1;
  const rowBytes = numel(t.shape.slice(1)) * BYTES_PER_ELEMENT[t.dtype];
  if (rows === 0 || rowBytes === 0) return [];
  // Block starts must be aligned: a whole number of `step` rows is a multiple of offsetAlign.
  const step = offsetAlign / gcd(rowBytes, offsetAlign);
  const fit = Math.min(Math.floor(maxBindingBytes / rowBytes), maxRows);
  const perChunk = fit >= rows ? rows : Math.floor(fit / step) * step;
  if (perChunk < 1) {
    throw new TensorTooLarge({
      op,
      bytes: rowBytes * Math.min(step, rows),
      limit: maxBindingBytes,
    });
  }
  const chunks: RowChunk[] = [];
  for (let first = 0; first < rows; first += perChunk) {
    const count = Math.min(perChunk, rows - first);
    chunks.push({
      first,
      rows: count,
      view: { ...t, shape: [count, ...t.shape.slice(1)], offset: t.offset + first * rowBytes },
    });
  }
  return chunks;
};
