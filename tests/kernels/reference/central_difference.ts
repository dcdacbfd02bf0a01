/**
 * Central finite differences of a scalar function of one array, in float64: the independent check
 * every backward kernel is tested against.
 *
 * @module
 */

/**
 * d f / d x[i] ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h for each index in `indices` (all when omitted).
 * `x` is restored after each probe.
 */
export const centralDifference = (
  f: (x: Float64Array) => number,
  x: Float64Array,
  h: number,
  indices?: ReadonlyArray<number>,
): Float64Array => {
  const which = indices ?? Array.from(x, (_, i) => i);
  const grad = new Float64Array(which.length);
  which.forEach((i, k) => {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = f(x);
    x[i] = saved - h;
    const minus = f(x);
    x[i] = saved;
    grad[k] = (plus - minus) / (2 * h);
  });
  return grad;
};

/** Σ a[i]·b[i] in float64: the scalar loss L = <y, g> whose gradient w.r.t. y is g. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Values of `a` at `indices`. */
export const pick = (a: ArrayLike<number>, indices: ReadonlyArray<number>): number[] =>
  indices.map((i) => a[i]!);
