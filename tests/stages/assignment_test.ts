import assert from "node:assert/strict";
import { minCostAssignment } from "../../src/stages/assignment.ts";
import { seededRandom } from "./fixtures.ts";

/** Minimal total over all injective maps of the smaller side into the larger, by enumeration. */
const bruteForceMinimum = (cost: number[], rows: number, cols: number): number => {
  const transpose = rows > cols;
  const [n, m] = transpose ? [cols, rows] : [rows, cols];
  const at = (i: number, j: number) => transpose ? cost[j * cols + i]! : cost[i * cols + j]!;
  let best = Infinity;
  const used = new Array<boolean>(m).fill(false);
  const walk = (i: number, total: number) => {
    if (i === n) {
      best = Math.min(best, total);
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      walk(i + 1, total + at(i, j));
      used[j] = false;
    }
  };
  walk(0, 0);
  return best;
};

const totalOf = (cost: number[], cols: number, columnOfRow: number[]) =>
  columnOfRow.reduce((sum, j, i) => (j < 0 ? sum : sum + cost[i * cols + j]!), 0);

Deno.test("minCostAssignment finds the brute-force minimum on random rectangular matrices", () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 300; trial++) {
    const rows = 1 + Math.floor(random() * 6);
    const cols = 1 + Math.floor(random() * 6);
    // Few distinct values, so ties are common.
    const cost = Array.from({ length: rows * cols }, () => Math.floor(random() * 5) - 1);
    const assignment = minCostAssignment(cost, rows, cols);
    const assigned = assignment.filter((j) => j >= 0);
    assert.equal(assigned.length, Math.min(rows, cols));
    assert.equal(new Set(assigned).size, assigned.length, "columns are distinct");
    assert.ok(
      Math.abs(totalOf(cost, cols, assignment) - bruteForceMinimum(cost, rows, cols)) < 1e-9,
      `rows ${rows} cols ${cols} cost ${cost}`,
    );
  }
});

Deno.test("minCostAssignment minimises rather than maximises", () => {
  assert.deepEqual(minCostAssignment([4, 1, 3, 2, 0, 5], 2, 3), [1, 0]);
  assert.deepEqual(minCostAssignment([1, 9, 9, 1], 2, 2), [0, 1]);
});

Deno.test("minCostAssignment leaves extra rows unassigned when rows outnumber columns", () => {
  assert.deepEqual(minCostAssignment([5, 1, 3], 3, 1), [-1, 0, -1]);
});

Deno.test("minCostAssignment handles empty sides", () => {
  assert.deepEqual(minCostAssignment([], 0, 3), []);
  assert.deepEqual(minCostAssignment([], 2, 0), [-1, -1]);
});

Deno.test("minCostAssignment rejects non-finite costs and a wrong size", () => {
  assert.throws(() => minCostAssignment([1, NaN], 1, 2), RangeError);
  assert.throws(() => minCostAssignment([1, Infinity], 2, 1), RangeError);
  assert.throws(() => minCostAssignment([1, 2, 3], 2, 2), RangeError);
});
