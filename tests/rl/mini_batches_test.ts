import assert from "node:assert/strict";
import { miniBatchPlan, sliceRows } from "../../src/rl/mini_batches.ts";

Deno.test("miniBatchPlan cuts 10 responses into mini-batches of 4 and micro-batches of 3", () => {
  const plan = miniBatchPlan(10, 4, 3);
  assert.deepEqual(plan.map((m) => [m.start, m.end]), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(plan[0]!.microBatches, [{ start: 0, end: 3 }, { start: 3, end: 4 }]);
  assert.deepEqual(plan[2]!.microBatches, [{ start: 8, end: 10 }]);
});

Deno.test("miniBatchPlan rejects a zero or fractional batch size", () => {
  assert.throws(() => miniBatchPlan(8, 0, 1), RangeError);
  assert.throws(() => miniBatchPlan(8, 4, 1.5), RangeError);
});

Deno.test("sliceRows copies the requested rows of a [B, T] batch", () => {
  const b = { rows: 3, cols: 2, values: new Float64Array([1, 2, 3, 4, 5, 6]) };
  const s = sliceRows(b, { start: 1, end: 3 });
  assert.equal(s.rows, 2);
  assert.deepEqual(Array.from(s.values), [3, 4, 5, 6]);
});
