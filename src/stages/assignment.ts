/**
 * Minimum-cost assignment on rectangular cost matrices (the role of SciPy's
 * `linear_sum_assignment` in the official reward): the Hungarian algorithm with potentials,
 * O(n²·m) for n ≤ m. Scene graphs have a handful of objects, so a small exact solver beats a
 * general matrix library here. Plain arrays, not typed arrays: allocating a small typed array
 * costs more than solving a 3×3 problem.
 *
 * @module
 */

/**
 * Assigns rows to distinct columns so that the summed cost is minimal. When there are more rows
 * than columns, every column gets one row and the other rows stay unassigned; otherwise every row
 * gets one column. Equivalent to the official padding of missing predictions with constant-cost
 * dummy rows. Ties may be broken differently from SciPy; the minimal total is the same.
 *
 * @param cost row-major `[rows, cols]` costs; every entry must be finite.
 * @returns for each row, its column, or −1 when unassigned. Length `rows`.
 * @throws RangeError when the sizes disagree or a cost is not finite (a caller's bug).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minCostAssignment } from "./assignment.ts";
 * // 2 predictions × 3 ground-truth objects
 * assert.deepEqual(minCostAssignment([4, 1, 3, 2, 0, 5], 2, 3), [1, 0]);
 * ```
 */
export const minCostAssignment = (
  cost: ArrayLike<number>,
  rows: number,
  cols: number,
): number[] => {
  if (cost.length !== rows * cols) {
    throw new RangeError(`cost has ${cost.length} entries, expected ${rows}×${cols}`);
  }
  for (let k = 0; k < cost.length; k++) {
    if (!Number.isFinite(cost[k])) throw new RangeError(`cost[${k}] = ${cost[k]} is not finite`);
  }
  if (rows <= cols) return assignRows(cost, rows, cols);
  // More rows than columns: solve the transpose, then invert the column → row map.
  const transposed: number[] = new Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) transposed[j * rows + i] = cost[i * cols + j]!;
  }
  const rowOfColumn = assignRows(transposed, cols, rows);
  const columnOfRow: number[] = new Array(rows).fill(-1);
  rowOfColumn.forEach((row, column) => (columnOfRow[row] = column));
  return columnOfRow;
};

/** Hungarian algorithm with row/column potentials (1-based internally); requires n ≤ m. */
const assignRows = (cost: ArrayLike<number>, n: number, m: number): number[] => {
  const u: number[] = new Array(n + 1).fill(0);
  const v: number[] = new Array(m + 1).fill(0);
  const rowOf: number[] = new Array(m + 1).fill(0); // 1-based row holding column j, 0 when free
  const way: number[] = new Array(m + 1).fill(0);
  const minv: number[] = new Array(m + 1).fill(Infinity);
  const used: boolean[] = new Array(m + 1).fill(false);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(false);
    // Grow a shortest alternating path from row i until it reaches a free column.
    do {
      used[j0] = true;
      const i0 = rowOf[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = cost[(i0 - 1) * m + j - 1]! - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOf[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // Flip the path.
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const columnOfRow: number[] = new Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (rowOf[j]! > 0) columnOfRow[rowOf[j]! - 1] = j - 1;
  return columnOfRow;
};
