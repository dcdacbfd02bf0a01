import assert from "node:assert/strict";
import { CIOU_EPS, iou, l1Distance, mappedCiou, normaliseBox } from "../../src/domain/box.ts";

Deno.test("mappedCiou of two identical boxes is 1 up to the eps in the union", () => {
  assert.ok(Math.abs(mappedCiou([0.1, 0.2, 0.5, 0.6], [0.1, 0.2, 0.5, 0.6]) - 1) < 1e-6);
});

Deno.test("mappedCiou matches a hand computation for equal-aspect shifted boxes", () => {
  // IoU = 2/6, centres 1 apart, enclosing diagonal² = 3² + 2² = 13, v = 0.
  const expected = (2 / (6 + CIOU_EPS) - 1 / (13 + CIOU_EPS) + 1) / 2;
  assert.equal(mappedCiou([0, 0, 2, 2], [1, 0, 3, 2]), expected);
  assert.ok(Math.abs(expected - 0.6282051) < 1e-6);
});

Deno.test("mappedCiou goes below 0 for far-apart boxes of opposite aspect", () => {
  // Tall sliver at the top-left, wide sliver at the bottom-right: ρ²/c² ≈ 0.989, αv ≈ 0.330.
  const value = mappedCiou([0, 0, 0.001, 0.01], [0.99, 0.999, 1, 1]);
  assert.ok(value < 0 && value > -0.25, `got ${value}`);
  assert.ok(Math.abs(value - -0.1594) < 1e-3, `got ${value}`);
});

Deno.test("mappedCiou is symmetric", () => {
  const a = [0.1, 0.3, 0.4, 0.9] as const;
  const b = [0.2, 0.1, 0.7, 0.5] as const;
  assert.equal(mappedCiou(a, b), mappedCiou(b, a));
});

Deno.test("mappedCiou of an inverted box can fall far below -0.25, as in the official code", () => {
  assert.ok(mappedCiou([0.9, 0.9, 0.1, 0.1], [0.45, 0.45, 0.46, 0.46]) < -0.25);
});

Deno.test("iou is intersection over union and 0 for an empty union", () => {
  assert.equal(iou([0, 0, 2, 2], [1, 0, 3, 2]), 1 / 3);
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
  assert.equal(iou([1, 1, 1, 1], [1, 1, 1, 1]), 0);
});

Deno.test("normaliseBox multiplies by the reciprocal of the image size", () => {
  assert.deepEqual(normaliseBox([64, 48, 320, 240], 640, 480), [
    64 * (1 / 640),
    48 * (1 / 480),
    320 * (1 / 640),
    240 * (1 / 480),
  ]);
});

Deno.test("l1Distance sums absolute coordinate differences", () => {
  assert.equal(l1Distance([0, 0, 1, 1], [0.5, 0, 1, 2]), 1.5);
});
