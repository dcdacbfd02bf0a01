/**
 * float64 reference of RMSNorm over the last axis with a weight.
 *
 * @module
 */

/** y = x / sqrt(mean(x²) + eps) · w for x [rows, dim]; also returns rstd [rows]. */
export const rmsNormRef = (
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): { y: Float64Array; rstd: Float64Array } => {
  const y = new Float64Array(rows * dim);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += x[r * dim + j]! ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = s;
    for (let j = 0; j < dim; j++) y[r * dim + j] = x[r * dim + j]! * s * w[j]!;
  }
  return { y, rstd };
};

/** Analytic gradients of RMSNorm: dx [rows, dim] and dw [dim] from dy [rows, dim]. */
export const rmsNormBackwardRef = (
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): { dx: Float64Array; dw: Float64Array } => {
  const { rstd } = rmsNormRef(x, w, rows, dim, eps);
  const dx = new Float64Array(rows * dim);
  const dw = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r]!;
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += dy[r * dim + j]! * w[j]! * x[r * dim + j]!;
    for (let j = 0; j < dim; j++) {
      const i = r * dim + j;
      dx[i] = s * (w[j]! * dy[i]! - (x[i]! * s * s * dot) / dim);
      dw[j] = dw[j]! + dy[i]! * x[i]! * s;
    }
  }
  return { dx, dw };
};
