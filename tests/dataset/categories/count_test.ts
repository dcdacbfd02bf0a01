import assert from "node:assert/strict";
import { COUNT_OPTIONS, countWindow, MAX_COUNT } from "../../../src/dataset/categories/count.ts";
import { makeRng } from "../../../src/domain/random.ts";

Deno.test("countWindow gives consecutive counts within 0..MAX_COUNT holding the answer once", () => {
  const rng = makeRng(1);
  for (let n = 0; n <= MAX_COUNT; n++) {
    for (let t = 0; t < 50; t++) {
      const window = countWindow(n, rng);
      assert.equal(window.length, COUNT_OPTIONS);
      assert.equal(window.filter((v) => v === n).length, 1);
      window.forEach((v, k) => assert.equal(v, window[0]! + k));
      assert.ok(window[0]! >= 0 && window[COUNT_OPTIONS - 1]! <= MAX_COUNT);
    }
  }
});

Deno.test("countWindow draws each window that holds the answer, and only those", () => {
  const rng = makeRng(2);
  const starts = (n: number) =>
    [...new Set(Array.from({ length: 200 }, () => countWindow(n, rng)[0]))].sort();
  assert.deepEqual(starts(0), [0]);
  for (const n of [1, 2, 3]) assert.deepEqual(starts(n), [0, 1]);
  assert.deepEqual(starts(4), [1]);
});

Deno.test("countWindow is deterministic per seed", () => {
  const a = makeRng(9), b = makeRng(9);
  for (let n = 0; n <= MAX_COUNT; n++) assert.deepEqual(countWindow(n, a), countWindow(n, b));
});

Deno.test("countWindow refuses counts it cannot place in a window", () => {
  assert.throws(() => countWindow(MAX_COUNT + 1, makeRng(1)), RangeError);
  assert.throws(() => countWindow(-1, makeRng(1)), RangeError);
  assert.throws(() => countWindow(1.5, makeRng(1)), RangeError);
});
