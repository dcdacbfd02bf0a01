/**
 * Splitting a rollout batch into optimizer mini-batches and gradient-accumulation micro-batches.
 * As in the paper's code, one rollout step gives several optimizer updates (rollout batch ÷
 * mini-batch), and each update accumulates the gradients of its micro-batches.
 *
 * @module
 */
import { type AggregationMode, aggregationWeights } from "./aggregation.ts";
import type { TokenBatch, TokenMask } from "./token_batch.ts";

/** A half-open row range [start, end) of the response batch. */
export interface RowRange {
  readonly start: number;
  readonly end: number;
}

/** One optimizer update: its rows and the micro-batches its gradient is accumulated over. */
export interface MiniBatch extends RowRange {
  readonly microBatches: ReadonlyArray<RowRange>;
}

/**
 * Consecutive mini-batches of `miniBatchSize` responses, each cut into micro-batches of
 * `microBatchSize`. A trailing partial mini- or micro-batch is kept (never silently dropped).
 * Shuffle the responses before calling if the order should not follow the prompts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { miniBatchPlan } from "./mini_batches.ts";
 * const plan = miniBatchPlan(8, 4, 2);
 * assert.ok(plan.length === 2 && plan[1]!.microBatches[1]!.start === 6);
 * ```
 */
export const miniBatchPlan = (
  responses: number,
  miniBatchSize: number,
  microBatchSize: number,
): ReadonlyArray<MiniBatch> => {
  if (
    !(Number.isInteger(miniBatchSize) && miniBatchSize > 0) ||
    !(Number.isInteger(microBatchSize) && microBatchSize > 0)
  ) {
    throw new RangeError(
      `miniBatchPlan: batch sizes must be positive integers, got ${miniBatchSize}/${microBatchSize}`,
    );
  }
  const plan: Array<MiniBatch> = [];
  for (let start = 0; start < responses; start += miniBatchSize) {
    const end = Math.min(responses, start + miniBatchSize);
    const microBatches: Array<RowRange> = [];
    for (let s = start; s < end; s += microBatchSize) {
      microBatches.push({ start: s, end: Math.min(end, s + microBatchSize) });
    }
    plan.push({ start, end, microBatches });
  }
  return plan;
};

/** Rows [start, end) of a [B, T] batch as a new [end − start, T] batch. */
export const sliceRows = <B extends TokenBatch | TokenMask>(batch: B, range: RowRange): B => ({
  ...batch,
  rows: range.end - range.start,
  values: batch.values.slice(range.start * batch.cols, range.end * batch.cols),
});

/**
 * Aggregation weights of each micro-batch, taken from the weights of the whole mini-batch, so
 * that summing micro-batch losses and gradients gives exactly the mini-batch's (the paper's code
 * instead takes a token mean per micro-batch and divides by the number of micro-batches, which
 * weights tokens unequally when micro-batches differ in length).
 *
 * `miniMask` is the [B_mini, T] mask of the mini-batch; ranges are relative to its first row.
 */
export const microBatchWeights = (
  miniMask: TokenMask,
  microBatches: ReadonlyArray<RowRange>,
  mode: AggregationMode,
  maxResponseLength: number,
): ReadonlyArray<Float64Array> => {
  const weights = aggregationWeights(miniMask, mode, maxResponseLength);
  return microBatches.map((r) => weights.slice(r.start * miniMask.cols, r.end * miniMask.cols));
};
