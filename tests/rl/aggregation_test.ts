import assert from "node:assert/strict";
import { aggregate, aggregationWeights } from "../../src/rl/aggregation.ts";
import type { TokenBatch, TokenMask } from "../../src/rl/token_batch.ts";

// Two responses of lengths 3 and 1; the padded slots hold NaN so any leak shows.
const values: TokenBatch = { rows: 2, cols: 3, values: new Float64Array([1, 2, 3, 4, NaN, NaN]) };
const mask: TokenMask = { rows: 2, cols: 3, values: new Float64Array([1, 1, 1, 1, 0, 0]) };

Deno.test("token-mean averages over every real token of the batch", () => {
  assert.equal(aggregate(values, mask, "token-mean", 8), 10 / 4);
});

Deno.test("seq-mean-token-mean averages each response first, then the responses", () => {
  assert.equal(aggregate(values, mask, "seq-mean-token-mean", 8), (2 + 4) / 2);
});

Deno.test("seq-mean-token-sum-norm divides the token sum by B · L_max (Dr.GRPO)", () => {
  assert.equal(aggregate(values, mask, "seq-mean-token-sum-norm", 8), 10 / (2 * 8));
});

Deno.test("seq-mean-token-mean skips a response with no tokens instead of dividing by zero", () => {
  const v: TokenBatch = { rows: 2, cols: 2, values: new Float64Array([1, 2, NaN, NaN]) };
  const m: TokenMask = { rows: 2, cols: 2, values: new Float64Array([1, 1, 0, 0]) };
  assert.equal(aggregate(v, m, "seq-mean-token-mean", 2), 1.5);
  assert.equal(aggregate(v, m, "token-mean", 2), 1.5);
  assert.equal(aggregate(v, m, "seq-mean-token-sum-norm", 2), 3 / 4);
});

Deno.test("every aggregation of an all-padding batch is 0, not NaN", () => {
  const v: TokenBatch = { rows: 1, cols: 2, values: new Float64Array([NaN, NaN]) };
  const m: TokenMask = { rows: 1, cols: 2, values: new Float64Array([0, 0]) };
  for (const mode of ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"] as const) {
    assert.equal(aggregate(v, m, mode, 4), 0);
  }
});

Deno.test("aggregationWeights of seq-mean-token-mean give a short response's tokens more weight", () => {
  const w = aggregationWeights(mask, "seq-mean-token-mean", 8);
  assert.deepEqual(Array.from(w), [1 / 6, 1 / 6, 1 / 6, 1 / 2, 0, 0]);
});

Deno.test("seq-mean-token-sum-norm rejects a non-positive L_max", () => {
  assert.throws(() => aggregationWeights(mask, "seq-mean-token-sum-norm", 0), RangeError);
});

Deno.test("aggregate rejects values whose shape differs from the mask", () => {
  const v: TokenBatch = { rows: 1, cols: 3, values: new Float64Array(3) };
  assert.throws(() => aggregate(v, mask, "token-mean", 8), /ShapeMismatch|aggregate/);
});
