import assert from "node:assert/strict";
import { keepInformativeGroups, zeroVarianceGroupFraction } from "../../src/rl/dynamic_sampling.ts";

Deno.test("keepInformativeGroups drops all-right and all-wrong groups and keeps mixed ones", () => {
  const f = keepInformativeGroups([1, 1, 0, 0, 1, 0], ["a", "a", "b", "b", "c", "c"]);
  assert.deepEqual(f.keptGroups, ["c"]);
  assert.deepEqual(f.keptResponses, [4, 5]);
  assert.equal(f.droppedGroups, 2);
});

Deno.test("keepInformativeGroups filters on accuracy even when the shaped reward varies", () => {
  // Shaped rewards 0.1/0.3 differ, but both answers are wrong: the group teaches nothing useful.
  const shaped = [0.1, 0.3];
  const accuracy = [0, 0];
  assert.equal(zeroVarianceGroupFraction(shaped, ["g", "g"]), 0);
  assert.equal(keepInformativeGroups(accuracy, ["g", "g"]).droppedGroups, 1);
});

Deno.test("keepInformativeGroups drops a singleton group", () => {
  const f = keepInformativeGroups([1, 0, 1], ["solo", "pair", "pair"]);
  assert.deepEqual(f.keptResponses, [1, 2]);
  assert.equal(f.droppedGroups, 1);
});

Deno.test("zeroVarianceGroupFraction counts groups whose values are all equal", () => {
  assert.equal(zeroVarianceGroupFraction([0.5, 0.5, 1, 0, 2, 2], [1, 1, 2, 2, 3, 3]), 2 / 3);
  assert.equal(zeroVarianceGroupFraction([], []), 0);
});
