/**
 * References of the embedding gather and its scatter-add backward.
 *
 * @module
 */

/** out[n, :] = table[ids[n], :] in float64 (NaN rows for ids ≥ vocab). */
export const embeddingRef = (
  ids: ArrayLike<number>,
  table: ArrayLike<number>,
  vocab: number,
  dim: number,
): Float64Array => {
  const out = new Float64Array(ids.length * dim);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    for (let j = 0; j < dim; j++) out[n * dim + j] = id < vocab ? table[id * dim + j]! : NaN;
  }
  return out;
};

/**
 * dtable[v, :] = Σ_{n: ids[n] = v} dout[n, :], summed in ascending n with f32 rounding after
 * every addition (`f32Order`), which is exactly what the GPU kernel does, or in float64.
 */
export const embeddingBackwardRef = (
  ids: ArrayLike<number>,
  dout: ArrayLike<number>,
  vocab: number,
  dim: number,
  f32Order = false,
): Float64Array => {
  const round = f32Order ? Math.fround : (x: number) => x;
  const dtable = new Float64Array(vocab * dim);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    if (id >= vocab) continue;
    for (let j = 0; j < dim; j++) {
      dtable[id * dim + j] = round(dtable[id * dim + j]! + dout[n * dim + j]!);
    }
  }
  return dtable;
};
