import assert from "node:assert/strict";
import { ADVANTAGE_EPS, groupAdvantages } from "../../src/rl/advantages.ts";

const GRPO = { normalizeByStd: true } as const;
const DR_GRPO = { normalizeByStd: false } as const;

const assertClose = (actual: ArrayLike<number>, expected: ReadonlyArray<number>, tol = 1e-12) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    assert.ok(Math.abs(actual[i]! - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`);
  });
};

Deno.test("groupAdvantages divides centred rewards by the unbiased std plus 1e-6", () => {
  // mean 3, Σ(r − mean)² = 14, unbiased var = 14/3.
  const std = Math.sqrt(14 / 3);
  const a = groupAdvantages([1, 2, 3, 6], ["g", "g", "g", "g"], GRPO);
  assertClose(a, [-2, -1, 0, 3].map((d) => d / (std + ADVANTAGE_EPS)));
});

Deno.test("groupAdvantages gives ±0.7071 for a 1/0 pair", () => {
  const a = groupAdvantages([1, 0], [7, 7], GRPO);
  assertClose(a, [0.5 / (Math.SQRT1_2 + 1e-6), -0.5 / (Math.SQRT1_2 + 1e-6)]);
});

Deno.test("groupAdvantages gives zero for a group with identical rewards", () => {
  assertClose(groupAdvantages([0.3, 0.3, 0.3], ["a", "a", "a"], GRPO), [0, 0, 0]);
});

Deno.test("groupAdvantages gives tied rewards inside a group the same advantage", () => {
  const a = groupAdvantages([1, 1, 0], ["a", "a", "a"], GRPO);
  // mean 2/3, unbiased std = sqrt((1/9 + 1/9 + 4/9) / 2) = sqrt(1/3).
  const s = Math.sqrt(1 / 3) + 1e-6;
  assertClose(a, [(1 / 3) / s, (1 / 3) / s, (-2 / 3) / s]);
});

Deno.test("groupAdvantages gives zero to a singleton group", () => {
  const a = groupAdvantages([0.9, 1, 0], ["alone", "pair", "pair"], GRPO);
  assert.equal(a[0], 0);
  assert.ok(a[1]! > 0 && a[2]! < 0);
});

Deno.test("groupAdvantages scores interleaved groups only against their own members", () => {
  const a = groupAdvantages([1, 10, 0, 20], ["x", "y", "x", "y"], DR_GRPO);
  assertClose(a, [0.5, -5, -0.5, 5]);
});

Deno.test("groupAdvantages without std normalisation only centres (Dr.GRPO)", () => {
  assertClose(groupAdvantages([1, 2, 3, 6], [0, 0, 0, 0], DR_GRPO), [-2, -1, 0, 3]);
});

Deno.test("groupAdvantages rejects rewards and group keys of different lengths", () => {
  assert.throws(() => groupAdvantages([1, 2], ["a"], GRPO), RangeError);
});
