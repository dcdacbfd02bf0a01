/**
 * How per-token losses become one scalar. Every mode is a weighted sum `Σ w_{i,t}·L_{i,t}`, so
 * the gradient of the aggregate with respect to a token's loss is just its weight, and micro-batch
 * gradient accumulation is exact: weights are computed once over the whole mini-batch and each
 * micro-batch uses its rows' weights.
 *
 * - `token-mean`: `Σ m·L / Σ m` over the mini-batch (EasyR1 `token`, DAPO). Default.
 * - `seq-mean-token-mean`: `mean_i (Σ_t m·L / |o_i|)` over responses with ≥ 1 token (the GRPO
 *   paper's eq., TRL `grpo`).
 * - `seq-mean-token-sum-norm`: `Σ m·L / (B · L_max)` with L_max the generation budget (Dr.GRPO):
 *   no length normalisation per response, so long wrong answers are not favoured.
 *
 * @module
 */
import { assertSameShape, responseLength, type TokenBatch, type TokenMask } from "./token_batch.ts";

/** The loss aggregation modes, named as in veRL's `loss_agg_mode`. */
export const AGGREGATION_MODES = [
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum-norm",
] as const;

/** One of {@link AGGREGATION_MODES}. */
export type AggregationMode = typeof AGGREGATION_MODES[number];

/**
 * [B, T] weights `w` such that the aggregate is `Σ w·L`; padded slots get 0. An all-padding
 * batch gets all-zero weights (nothing to learn from), never NaN.
 *
 * `maxResponseLength` is L_max for `seq-mean-token-sum-norm` (ignored by the other modes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregationWeights } from "./aggregation.ts";
 * import { padResponses } from "./token_batch.ts";
 * const { mask } = padResponses([[0, 0, 0], [0]]);
 * const w = aggregationWeights(mask, "seq-mean-token-mean", 4);
 * assert.ok(Math.abs(w[0]! - 1 / 6) < 1e-12 && Math.abs(w[3]! - 1 / 2) < 1e-12);
 * ```
 */
export const aggregationWeights = (
  mask: TokenMask,
  mode: AggregationMode,
  maxResponseLength: number,
): Float64Array => {
  const { rows, cols } = mask;
  const weights = new Float64Array(rows * cols);
  switch (mode) {
    case "token-mean": {
      let total = 0;
      for (const m of mask.values) total += m;
      if (total === 0) return weights;
      for (let k = 0; k < weights.length; k++) weights[k] = mask.values[k]! / total;
      return weights;
    }
    case "seq-mean-token-mean": {
      const lengths = Array.from({ length: rows }, (_, i) => responseLength(mask, i));
      const nonEmpty = lengths.filter((n) => n > 0).length;
      if (nonEmpty === 0) return weights;
      for (let i = 0; i < rows; i++) {
        const n = lengths[i]!;
        if (n === 0) continue;
        for (let t = 0; t < cols; t++) {
          weights[i * cols + t] = mask.values[i * cols + t]! / (n * nonEmpty);
        }
      }
      return weights;
    }
    case "seq-mean-token-sum-norm": {
      if (!(maxResponseLength > 0)) {
        throw new RangeError(`seq-mean-token-sum-norm needs L_max > 0, got ${maxResponseLength}`);
      }
      if (rows === 0) return weights;
      const scale = 1 / (rows * maxResponseLength);
      for (let k = 0; k < weights.length; k++) weights[k] = mask.values[k]! * scale;
      return weights;
    }
  }
};

/**
 * The aggregate `Σ w·L` of per-token values under `mode`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregate } from "./aggregation.ts";
 * import { padResponses } from "./token_batch.ts";
 * const { batch, mask } = padResponses([[1, 2, 3], [4]]);
 * assert.ok(aggregate(batch, mask, "token-mean", 3) === 2.5);
 * ```
 */
export const aggregate = (
  values: TokenBatch,
  mask: TokenMask,
  mode: AggregationMode,
  maxResponseLength: number,
): number => {
  assertSameShape("aggregate", mask, { values });
  const weights = aggregationWeights(mask, mode, maxResponseLength);
  let sum = 0;
  for (let k = 0; k < weights.length; k++) {
    if (weights[k] !== 0) sum += weights[k]! * values.values[k]!;
  }
  return sum;
};
