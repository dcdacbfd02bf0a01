/**
 * A small seeded pseudo-random generator (sfc32) so that one integer seed drives every random
 * choice of the data pipeline and the output is byte-identical across runs and machines.
 *
 * @module
 */

/** A deterministic random stream; every method advances the same state. */
export interface Rng {
  /** Uniform float in [0, 1). */
  readonly next: () => number;
  /** Uniform float in [lo, hi). */
  readonly uniform: (lo: number, hi: number) => number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  readonly int: (lo: number, hi: number) => number;
  /** One element of a non-empty array. */
  readonly pick: <T>(items: ReadonlyArray<T>) => T;
  /** A shuffled copy (Fisher–Yates). */
  readonly shuffle: <T>(items: ReadonlyArray<T>) => Array<T>;
  /** A child stream whose sequence depends only on this stream's seed and `key`. */
  readonly fork: (key: number) => Rng;
}

/** splitmix32 step: spreads a 32-bit seed over the four sfc32 state words. */
const splitmix32 = (state: number): [number, number] => {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
};

/**
 * Creates a seeded generator.
 *
 * @example
 * ```ts
 * import { makeRng } from "./random.ts";
 * const a = makeRng(7), b = makeRng(7);
 * if (a.next() !== b.next()) throw new Error("not deterministic");
 * ```
 */
export const makeRng = (seed: number): Rng => {
  let s = seed | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [state, word] = splitmix32(s);
    s = state;
    words.push(word);
  }
  let [a, b, c, d] = words as [number, number, number, number];
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm up so that nearby seeds diverge.
  for (let i = 0; i < 12; i++) nextU32();
  const next = (): number => nextU32() / 4294967296;
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => {
      if (items.length === 0) throw new RangeError("pick from an empty array");
      return items[Math.floor(next() * items.length)]!;
    },
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
    fork: (key) => makeRng((Math.imul(seed | 0, 0x27d4eb2f) ^ Math.imul(key | 0, 0x165667b1)) | 0),
  };
  return rng;
};
