/**
 * Cos/sin tables of the rotary position embeddings of Qwen2.5-VL, computed on the host.
 *
 * Why the host: the tables depend only on positions (known on the host before a step: the
 * prompt's 3-D M-RoPE ids, or the vision patch grid) and are small ([T, D/2] pairs), while
 * WGSL's `cos`/`sin` are only accurate near [−π, π] on some GPUs and angles reach ~10⁵ rad.
 * Angles are rounded to f32 exactly as Hugging Face computes them (f32 inverse frequencies times
 * f32 positions), then cos/sin are taken in float64 and rounded once, so tables match HF's f32
 * tables to within one rounding.
 *
 * Layout of every table: Float32Array [T, D/2, 2], entry (t, i) = (cos θ, sin θ) of frequency i,
 * which rotates the channel pair (i, i + D/2) — HF's `rotate_half` convention.
 *
 * @module
 */

const f32 = Math.fround;

/** HF's `inv_freq = 1 / base^(arange(0, dim, 2) / dim)` in f32: dim/2 frequencies. */
export const rotaryInverseFrequencies = (dim: number, base: number): Float32Array<ArrayBuffer> => {
  if (dim <= 0 || dim % 2 !== 0) throw new RangeError(`rotary dim must be even, got ${dim}`);
  return Float32Array.from(
    { length: dim / 2 },
    (_, i) => f32(1 / f32(Math.pow(base, f32((2 * i) / dim)))),
  );
};

/** Fills entry (row, i) of a [rows, half, 2] table with cos/sin of the f32 angle pos·invFreq. */
const setAngle = (
  table: Float32Array<ArrayBuffer>,
  at: number,
  position: number,
  invFreq: number,
) => {
  const angle = f32(f32(position) * invFreq);
  table[2 * at] = Math.cos(angle);
  table[2 * at + 1] = Math.sin(angle);
};

/**
 * 1-D rotary table for token positions [T] (text-only prompts, or any model with plain RoPE).
 *
 * @example
 * ```ts
 * import { textRotaryTable } from "./rope_tables.ts";
 * const table = textRotaryTable([0, 1], 4, 10000); // [2, 2, 2]
 * if (table[0] !== 1 || table[1] !== 0) throw new Error("position 0 is the identity");
 * ```
 */
export const textRotaryTable = (
  positions: ArrayLike<number>,
  headDim: number,
  theta: number,
): Float32Array<ArrayBuffer> => {
  const inv = rotaryInverseFrequencies(headDim, theta);
  const half = headDim / 2;
  const table = new Float32Array(positions.length * headDim);
  for (let t = 0; t < positions.length; t++) {
    for (let i = 0; i < half; i++) setAngle(table, t * half + i, positions[t]!, inv[i]!);
  }
  return table;
};

/**
 * Qwen2-VL multimodal rotary table (M-RoPE) for 3-D position ids `[temporal, height, width]`,
 * each [T]. `section` (e.g. [16, 24, 24] for head dim 128) splits the D/2 frequencies into
 * consecutive ranges that take their angle from the t, h and w positions respectively; HF's
 * `mrope_section * 2` split of the duplicated channels is the same split on both halves.
 */
export const mropeTable = (
  positions: readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>],
  headDim: number,
  theta: number,
  section: readonly [number, number, number],
): Float32Array<ArrayBuffer> => {
  const half = headDim / 2;
  if (section[0] + section[1] + section[2] !== half) {
    throw new RangeError(`mrope_section [${section}] must sum to head_dim / 2 = ${half}`);
  }
  const tokens = positions[0].length;
  if (positions[1].length !== tokens || positions[2].length !== tokens) {
    throw new RangeError("mropeTable: the three position rows must have the same length");
  }
  const inv = rotaryInverseFrequencies(headDim, theta);
  const axisOf = Array.from(
    { length: half },
    (_, i) => i < section[0] ? 0 : i < section[0] + section[1] ? 1 : 2,
  );
  const table = new Float32Array(tokens * headDim);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < half; i++) {
      setAngle(table, t * half + i, positions[axisOf[i]!]![t]!, inv[i]!);
    }
  }
  return table;
};

/**
 * The vision encoder's 2-D rotary table: patch p at grid (rows[p], cols[p]) rotates frequencies
 * 0..D/4−1 by its row and D/4..D/2−1 by its column, with `inv_freq` of dimension D/2 (HF's
 * `Qwen2_5_VisionRotaryEmbedding(head_dim // 2)`, theta 10000). Patches are given in whatever
 * order the encoder processes them (2×2-merge order, window permutation).
 */
export const visionRotaryTable = (
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  headDim: number,
  theta = 10000,
): Float32Array<ArrayBuffer> => {
  if (headDim % 4 !== 0) throw new RangeError(`vision head dim must be a multiple of 4`);
  if (rows.length !== cols.length) throw new RangeError("visionRotaryTable: rows/cols lengths");
  const quarter = headDim / 4;
  const half = headDim / 2;
  const inv = rotaryInverseFrequencies(half, theta);
  const table = new Float32Array(rows.length * headDim);
  for (let p = 0; p < rows.length; p++) {
    for (let i = 0; i < quarter; i++) {
      setAngle(table, p * half + i, rows[p]!, inv[i]!);
      setAngle(table, p * half + quarter + i, cols[p]!, inv[i]!);
    }
  }
  return table;
};
