/**
 * The padded token layout shared by every GRPO function here and by the GPU update kernels:
 * `rows` responses × `cols` token slots, row-major, with a 0/1 mask marking real response tokens.
 * Masks are multiplied in rather than used to index, so a host result and a kernel result can be
 * compared slot by slot.
 *
 * @module
 */
import { ShapeMismatch } from "../gpu/errors.ts";

/** Per-token values of a batch of responses: `values[i * cols + t]`, shape [rows, cols]. */
export interface TokenBatch {
  /** Number of responses (B). */
  readonly rows: number;
  /** Token slots per response (T, the longest response in the batch or the padded length). */
  readonly cols: number;
  /** [B, T] row-major values; padded slots may hold anything, they are masked out. */
  readonly values: Float64Array;
}

/** A [B, T] response mask: 1 for a generated token, 0 for padding. */
export interface TokenMask {
  /** Number of responses (B). */
  readonly rows: number;
  /** Token slots per response (T). */
  readonly cols: number;
  /** [B, T] row-major entries, each exactly 0 or 1. */
  readonly values: Float64Array;
}

/**
 * Builds a [B, T] batch from ragged per-response values, padding with 0 and returning the mask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { padResponses } from "./token_batch.ts";
 * const { batch, mask } = padResponses([[0.1, 0.2], [0.3]]);
 * assert.ok(batch.cols === 2 && mask.values[3] === 0);
 * ```
 */
export const padResponses = (
  responses: ReadonlyArray<ReadonlyArray<number>>,
): { readonly batch: TokenBatch; readonly mask: TokenMask } => {
  const rows = responses.length;
  const cols = responses.reduce((m, r) => Math.max(m, r.length), 0);
  const values = new Float64Array(rows * cols);
  const mask = new Float64Array(rows * cols);
  responses.forEach((r, i) => {
    r.forEach((v, t) => {
      values[i * cols + t] = v;
      mask[i * cols + t] = 1;
    });
  });
  return { batch: { rows, cols, values }, mask: { rows, cols, values: mask } };
};

/**
 * Throws `ShapeMismatch` unless every batch has the mask's [B, T] shape; a mismatch is a
 * programming error in the caller, so it is thrown rather than returned.
 */
export const assertSameShape = (
  op: string,
  mask: TokenMask,
  batches: Readonly<Record<string, TokenBatch>>,
): void => {
  if (mask.values.length !== mask.rows * mask.cols) {
    throw new ShapeMismatch({
      op,
      detail: `mask holds ${mask.values.length} values, expected ${mask.rows}×${mask.cols}`,
    });
  }
  for (const [name, b] of Object.entries(batches)) {
    if (b.rows !== mask.rows || b.cols !== mask.cols || b.values.length !== b.rows * b.cols) {
      throw new ShapeMismatch({
        op,
        detail: `${name} is ${b.rows}×${b.cols} (${b.values.length} values), mask is ` +
          `${mask.rows}×${mask.cols}`,
      });
    }
  }
};

/** Number of real tokens in response `row` (|o_i|). */
export const responseLength = (mask: TokenMask, row: number): number => {
  let n = 0;
  for (let t = 0; t < mask.cols; t++) n += mask.values[row * mask.cols + t]!;
  return n;
};

/** Total number of real tokens in the batch (Σ m). */
export const tokenCount = (mask: TokenMask): number => {
  let n = 0;
  for (const m of mask.values) n += m;
  return n;
};
