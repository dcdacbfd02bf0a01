/**
 * float64 transcription of Hugging Face's Qwen2.5-VL rotary embeddings: cos/sin of the duplicated
 * embedding `emb = cat(freqs, freqs)` ([T, D] each) and `x·cos + rotate_half(x)·sin`.
 * Angles are rounded to f32 as HF computes them (f32 inv_freq × f32 position).
 *
 * @module
 */

const f32 = Math.fround;

const invFreq = (dim: number, base: number): number[] =>
  Array.from({ length: dim / 2 }, (_, k) => f32(1 / f32(Math.pow(base, f32((2 * k) / dim)))));

/** cos/sin [T, D] from per-token channel angles [T, D]. */
const cosSin = (angles: number[][]) => ({
  cos: angles.map((row) => row.map(Math.cos)),
  sin: angles.map((row) => row.map(Math.sin)),
});

/** Plain RoPE: emb[t] = cat(freqs, freqs), freqs = pos·inv_freq. */
export const hfTextCosSin = (positions: ArrayLike<number>, dim: number, theta: number) => {
  const inv = invFreq(dim, theta);
  return cosSin(Array.from(positions, (p) => {
    const freqs = inv.map((f) => f32(f32(p) * f));
    return [...freqs, ...freqs];
  }));
};

/**
 * M-RoPE as `apply_multimodal_rotary_pos_emb`: three embeddings (t, h, w positions), channels split
 * by `mrope_section * 2`, chunk k taken from axis k % 3.
 */
export const hfMropeCosSin = (
  positions: readonly ArrayLike<number>[],
  dim: number,
  theta: number,
  section: readonly number[],
) => {
  const perAxis = positions.map((p) => hfTextCosSin(p, dim, theta));
  const chunks = [...section, ...section];
  const pick = (which: "cos" | "sin") =>
    perAxis[0]![which].map((_, t) => {
      const row: number[] = [];
      chunks.forEach((len, k) => {
        const start = row.length;
        row.push(...perAxis[k % 3]![which][t]!.slice(start, start + len));
      });
      return row;
    });
  return { cos: pick("cos"), sin: pick("sin") };
};

/** Vision 2-D rope: rot = [h·inv, w·inv] with inv of dimension D/2, emb = cat(rot, rot). */
export const hfVisionCosSin = (
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  dim: number,
  theta = 10000,
) => {
  const inv = invFreq(dim / 2, theta);
  return cosSin(Array.from(rows, (h, p) => {
    const rot = [...inv.map((f) => f32(f32(h) * f)), ...inv.map((f) => f32(f32(cols[p]!) * f))];
    return [...rot, ...rot];
  }));
};

/** x·cos + rotate_half(x)·sin for one head vector x [D]. */
export const rotateHead = (x: ArrayLike<number>, cos: number[], sin: number[]): number[] => {
  const d = x.length;
  const half = d / 2;
  return Array.from({ length: d }, (_, i) => {
    const rotated = i < half ? -x[i + half]! : x[i - half]!;
    return x[i]! * cos[i]! + rotated * sin[i]!;
  });
};

/** Applies `rotateHead` to every head of a contiguous [B, T, H, D] tensor; cos/sin [B·T or T, D]. */
export const applyRotaryRef = (
  x: ArrayLike<number>,
  [batch, tokens, heads, dim]: readonly [number, number, number, number],
  table: { cos: number[][]; sin: number[][] },
): Float64Array => {
  const out = new Float64Array(batch * tokens * heads * dim);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < tokens; t++) {
      const row = table.cos.length === tokens ? t : b * tokens + t;
      for (let h = 0; h < heads; h++) {
        const at = ((b * tokens + t) * heads + h) * dim;
        const head = Array.from({ length: dim }, (_, i) => x[at + i]!);
        out.set(rotateHead(head, table.cos[row]!, table.sin[row]!), at);
      }
    }
  }
  return out;
};
