/**
 * float64 references of the reductions: row sums, whole sums and the gradient-clip statistics.
 *
 * @module
 */

/** out[r] = Σ_j x[r·n + j] for x [rows, n]. */
export const sumRowsRef = (x: ArrayLike<number>, rows: number, n: number): Float64Array => {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += x[r * n + j]!;
    out[r] = s;
  }
  return out;
};

/** Σ x. */
export const sumRef = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s;
};

/** [Σ g², ‖g‖, min(1, maxNorm / (‖g‖ + 1e-6))] over all tensors together. */
export const clipStatsRef = (
  grads: ReadonlyArray<ArrayLike<number>>,
  maxNorm: number,
): [number, number, number] => {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  const norm = Math.sqrt(s);
  return [s, norm, Math.min(1, maxNorm / (norm + 1e-6))];
};
