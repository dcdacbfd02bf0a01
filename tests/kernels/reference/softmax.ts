/**
 * float64 reference of the row softmax (last axis), forward and backward.
 *
 * @module
 */

/** y = softmax(scale · x) per row of `cols` elements; x is rows × cols, row-major. */
export const softmaxForwardRef = (
  x: ArrayLike<number>,
  cols: number,
  scale = 1,
): Float64Array => {
  const y = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += cols) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, scale * x[base + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(scale * x[base + c]! - max);
    for (let c = 0; c < cols; c++) y[base + c] = Math.exp(scale * x[base + c]! - max) / sum;
  }
  return y;
};

/** dx = scale · y ⊙ (dy − Σ dy ⊙ y) per row, given the forward output y. */
export const softmaxBackwardRef = (
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  cols: number,
  scale = 1,
): Float64Array => {
  const dx = new Float64Array(y.length);
  for (let base = 0; base < y.length; base += cols) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[base + c]! * y[base + c]!;
    for (let c = 0; c < cols; c++) dx[base + c] = scale * y[base + c]! * (dy[base + c]! - dot);
  }
  return dx;
};
