import assert from "node:assert/strict";
import { learningRateAt } from "../../src/rl/schedule.ts";

Deno.test("learningRateAt ramps linearly over the warm-up steps, then stays constant", () => {
  const lrs = [0, 1, 2, 3, 4, 100].map((s) => learningRateAt(s, { lr: 8, warmupSteps: 4 }));
  assert.deepEqual(lrs, [2, 4, 6, 8, 8, 8]);
});

Deno.test("learningRateAt without warm-up is the base rate from the first step", () => {
  assert.equal(learningRateAt(0, { lr: 1e-6, warmupSteps: 0 }), 1e-6);
});

Deno.test("learningRateAt rejects a negative or fractional step", () => {
  assert.throws(() => learningRateAt(-1, { lr: 1, warmupSteps: 0 }), RangeError);
  assert.throws(() => learningRateAt(0.5, { lr: 1, warmupSteps: 0 }), RangeError);
});
