/**
 * float64 references of the matmul op family: batched matmul in NN/NT/TN layouts with bias,
 * scale and accumulate, the bias gradient, and the linear layer's backward.
 *
 * @module
 */

/** Dimensions and layout of one reference matmul (same meaning as the op's). */
export interface MatmulRefShape {
  readonly layout: "NN" | "NT" | "TN";
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** B has no batch axis. */
  readonly broadcastB: boolean;
}

/**
 * C[z] = alpha·op(A[z])·op(B[z]) + bias + cInit[z] (cInit when accumulating), row-major.
 * A: NN/NT [batch, M, K], TN [batch, K, M]; B: NN/TN [K, N], NT [N, K] (per batch unless
 * broadcast); returns C [batch, M, N].
 */
export const matmulRef = (
  s: MatmulRefShape,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { alpha = 1, bias, cInit }: {
    alpha?: number;
    bias?: ArrayLike<number>;
    cInit?: ArrayLike<number>;
  } = {},
): Float64Array => {
  const { batch, m, n, k } = s;
  const c = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const aBase = z * m * k;
    const bBase = s.broadcastB ? 0 : z * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = s.layout === "TN" ? a[aBase + p * m + i]! : a[aBase + i * k + p]!;
          const bv = s.layout === "NT" ? b[bBase + j * k + p]! : b[bBase + p * n + j]!;
          sum += av * bv;
        }
        const at = z * m * n + i * n + j;
        c[at] = alpha * sum + (bias ? bias[j]! : 0) + (cInit ? cInit[at]! : 0);
      }
    }
  }
  return c;
};

/** db[j] = Σ_r dy[r, j] for dy [rows, cols]. */
export const biasGradRef = (dy: ArrayLike<number>, rows: number, cols: number): Float64Array => {
  const db = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) db[j] = db[j]! + dy[r * cols + j]!;
  return db;
};

/**
 * Backward of y = x·W + bias with x [rows, in], W [in, out], dy [rows, out]:
 * dx = dy·Wᵀ [rows, in], dW = xᵀ·dy [in, out], db = Σ_rows dy [out].
 */
export const linearBackwardRef = (
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  inDim: number,
  outDim: number,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } => ({
  dx: matmulRef({ layout: "NT", batch: 1, m: rows, n: inDim, k: outDim, broadcastB: true }, dy, w),
  dw: matmulRef({ layout: "TN", batch: 1, m: inDim, n: outDim, k: rows, broadcastB: true }, x, dy),
  db: biasGradRef(dy, rows, outDim),
});
