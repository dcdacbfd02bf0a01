/**
 * References for the sampler: Philox-4x32-10 and float64 temperature + nucleus sampling.
 *
 * @module
 */

const mulHiLo = (a: number, b: number): [number, number] => {
  const p = BigInt(a) * BigInt(b);
  return [Number(p >> 32n), Number(p & 0xffffffffn)];
};

/** Philox-4x32-10 (Random123) of a 4-word counter under a 2-word key. */
export const philox4x32 = (
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] => {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulHiLo(0xd2511f53, c0);
    const [hi1, lo1] = mulHiLo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
};

/** The sampler's uniform in [0, 1) for (seed, step, row): 24 bits of Philox's first word. */
export const samplerUniform = (seed: number, step: number, row: number): number => {
  const [x] = philox4x32([row, step, 0, 0], [seed % 2 ** 32, Math.floor(seed / 2 ** 32)]);
  return (x >>> 8) / 2 ** 24;
};

/**
 * The sampling distribution of one row in float64: softmax(logits / temperature) restricted to
 * the nucleus (smallest set of highest-probability tokens holding ≥ topP of the mass, ties at the
 * threshold kept) and renormalised.
 */
export const samplingDistribution = (
  logits: ArrayLike<number>,
  temperature: number,
  topP: number,
): Float64Array => {
  const z = Array.from(logits, (l) => l / temperature);
  const m = Math.max(...z);
  const e = z.map((zi) => Math.exp(zi - m));
  const total = e.reduce((a, b) => a + b, 0);
  let threshold = -Infinity;
  if (topP < 1) {
    const order = z.map((_, i) => i).sort((a, b) => z[b]! - z[a]!);
    let cum = 0;
    for (const i of order) {
      cum += e[i]! / total;
      if (cum >= topP) {
        threshold = z[i]!;
        break;
      }
    }
  }
  const kept = e.map((ei, i) => (z[i]! >= threshold ? ei : 0));
  const keptMass = kept.reduce((a, b) => a + b, 0);
  return Float64Array.from(kept, (k) => k / keptMass);
};

/** Inverse-CDF draw in index order: the first token whose cumulative probability exceeds u. */
export const drawFrom = (probs: ArrayLike<number>, u: number): number => {
  let cum = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    last = i;
    cum += probs[i]!;
    if (cum > u) return i;
  }
  return last;
};

/** log_softmax(logits)[token] in float64. */
export const rawLogProb = (logits: ArrayLike<number>, token: number): number => {
  const l = Array.from(logits);
  const m = Math.max(...l);
  return l[token]! - m - Math.log(l.reduce((a, li) => a + Math.exp(li - m), 0));
};
