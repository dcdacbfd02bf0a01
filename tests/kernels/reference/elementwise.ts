/**
 * float64 references of the elementwise ops: SiLU and SwiGLU, forward and backward.
 *
 * @module
 */

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** silu(x) = x·sigmoid(x), elementwise. */
export const siluRef = (x: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v) => v * sigmoid(v));

/** dx = dy · silu'(x), silu'(x) = s·(1 + x·(1 − s)). */
export const siluBackwardRef = (x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v, i) => {
    const s = sigmoid(v);
    return dy[i]! * s * (1 + v * (1 - s));
  });

/** y = silu(gate)·up, elementwise. */
export const swigluRef = (gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array =>
  Float64Array.from(gate, (g, i) => g * sigmoid(g) * up[i]!);

/** dgate = dy·up·silu'(gate), dup = dy·silu(gate). */
export const swigluBackwardRef = (
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
  dy: ArrayLike<number>,
): { dgate: Float64Array; dup: Float64Array } => ({
  dgate: siluBackwardRef(gate, Float64Array.from(dy, (d, i) => d * up[i]!)),
  dup: Float64Array.from(gate, (g, i) => dy[i]! * g * sigmoid(g)),
});
