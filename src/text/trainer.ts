/**
 * Deterministic byte-level BPE training for small vocabularies. The result is a tokenizer.json in
 * Qwen2's layout (NFC normaliser, Qwen2 split regex, byte-level alphabet) that our `Tokenizer`
 * and Hugging Face `tokenizers` both load.
 *
 * Ids: the 256 byte symbols are ids 0–255 (id = byte value), learned merges follow from 256, and
 * the special tokens take the last ids of the requested size. When the corpus runs out of pairs
 * seen at least `minFrequency` times, the ids between the last merge and the first special token
 * stay unused (as Qwen's 151665–151935 do), so special-token ids depend only on `vocabSize`.
 *
 * Each step merges the most frequent adjacent pair; ties go to the pair whose left then right
 * token sorts first by UTF-16 code units, so the result depends only on the corpus and options.
 *
 * @module
 */
import { Result, Schema } from "effect";
import { BYTE_TO_CHAR } from "./byte_level.ts";
import { compileSplitPattern, QWEN2_SPLIT_PATTERN, splitIsolated } from "./split_pattern.ts";
import type { TokenizerJson } from "./tokenizer_json.ts";

/** Training options. */
export interface TrainOptions {
  /** Total ids, including the 256 byte symbols and the special tokens. */
  readonly vocabSize: number;
  /** Added tokens placed at the last ids, in order; never learned from the corpus. */
  readonly specialTokens?: ReadonlyArray<string>;
  /** Pairs seen fewer times than this are never merged. Default 2. */
  readonly minFrequency?: number;
  /** Oniguruma pre-tokenizer pattern. Default: Qwen2's. */
  readonly splitPattern?: string;
}

/** The options cannot produce a tokenizer (vocabulary too small, bad pattern). */
export class TrainOptionsInvalid extends Schema.TaggedError<TrainOptionsInvalid>()(
  "TrainOptionsInvalid",
  { reason: Schema.String },
) {
  override get message(): string {
    return `tokenizer training: ${this.reason}`;
  }
}

const BYTE_LEVEL = {
  type: "ByteLevel",
  add_prefix_space: false,
  trim_offsets: false,
  use_regex: false,
} as const;

/** Counts pre-tokenised words (as byte strings) over the corpus, skipping special tokens. */
const countWords = (
  corpus: Iterable<string>,
  split: RegExp,
  specials: ReadonlyArray<string>,
): Map<string, number> => {
  const counts = new Map<string, number>();
  const specialSplit = specials.length === 0 ? undefined : new RegExp(
    [...specials].sort((a, b) => b.length - a.length)
      .map((s) => s.replaceAll(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|"),
    "gu",
  );
  for (const text of corpus) {
    const segments = specialSplit === undefined ? [text] : text.split(specialSplit);
    for (const segment of segments) {
      for (const piece of splitIsolated(segment.normalize("NFC"), split)) {
        counts.set(piece, (counts.get(piece) ?? 0) + 1);
      }
    }
  }
  return counts;
};

const PAIR_BASE = 1 << 20;
const pairKey = (left: number, right: number) => left * PAIR_BASE + right;

/**
 * Trains a byte-level BPE tokenizer on `corpus`, returning its tokenizer.json.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { trainByteLevelBpe } from "./trainer.ts";
 * const json = Result.getOrThrow(trainByteLevelBpe(["the cube is behind the cube"], { vocabSize: 270 }));
 * assert(json.model.merges.length > 0 && json.model.vocab["Ġcube"] !== undefined);
 * ```
 */
export const trainByteLevelBpe = (
  corpus: Iterable<string>,
  options: TrainOptions,
): Result.Result<TokenizerJson, TrainOptionsInvalid> => {
  const specials = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 2;
  const pattern = options.splitPattern ?? QWEN2_SPLIT_PATTERN;
  const fail = (reason: string) => Result.fail(new TrainOptionsInvalid({ reason }));
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < 256 + specials.length) {
    return fail(`vocabSize ${options.vocabSize} < 256 byte symbols + ${specials.length} specials`);
  }
  if (options.vocabSize >= PAIR_BASE) return fail(`vocabSize must be below ${PAIR_BASE}`);
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    return fail("special tokens must be distinct and non-empty");
  }
  const split = compileSplitPattern(pattern);
  if (typeof split === "string") return fail(split);

  const tokens: Array<string> = [...BYTE_TO_CHAR];
  const tokenIds = new Map(tokens.map((token, id) => [token, id]));
  const words: Array<Array<number>> = [];
  const frequencies: Array<number> = [];
  const utf8 = new TextEncoder();
  for (const [word, count] of countWords(corpus, split, specials)) {
    words.push(Array.from(utf8.encode(word)));
    frequencies.push(count);
  }
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wordIndex: number, sign: 1 | -1) => {
    const symbols = words[wordIndex]!;
    const frequency = frequencies[wordIndex]! * sign;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      const count = (pairCounts.get(key) ?? 0) + frequency;
      if (count === 0) pairCounts.delete(key);
      else pairCounts.set(key, count);
      if (sign > 0) {
        let owners = pairWords.get(key);
        if (owners === undefined) pairWords.set(key, owners = new Set());
        owners.add(wordIndex);
      }
    }
  };
  words.forEach((_, index) => addPairs(index, 1));

  const merges: Array<string> = [];
  const learnedLimit = options.vocabSize - specials.length;
  while (tokens.length < learnedLimit) {
    let bestKey = -1;
    let bestCount = minFrequency - 1;
    for (const [key, count] of pairCounts) {
      if (count < bestCount || count < minFrequency) continue;
      if (count > bestCount || bestKey < 0 || precedes(key, bestKey, tokens)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey < 0) break;
    const left = Math.floor(bestKey / PAIR_BASE);
    const right = bestKey % PAIR_BASE;
    // Two different merges can spell the same token ("a"+"bc", "ab"+"c"): it keeps one id.
    const spelled = tokens[left]! + tokens[right]!;
    let merged = tokenIds.get(spelled);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(spelled);
      tokenIds.set(spelled, merged);
    }
    merges.push(`${tokens[left]} ${tokens[right]}`);
    for (const wordIndex of pairWords.get(bestKey) ?? []) {
      const symbols = words[wordIndex]!;
      addPairs(wordIndex, -1);
      const next: Array<number> = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(symbols[i]!);
        }
      }
      words[wordIndex] = next;
      addPairs(wordIndex, 1);
    }
    pairCounts.delete(bestKey);
    pairWords.delete(bestKey);
  }

  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => (vocab[token] = id));
  const firstSpecial = options.vocabSize - specials.length;
  return Result.succeed({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, i) => ({
      id: firstSpecial + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
        BYTE_LEVEL,
      ],
    },
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  });
};

/** Tie-break between equally frequent pairs: by left token, then right token, code-unit order. */
const precedes = (key: number, other: number, tokens: ReadonlyArray<string>): boolean => {
  const left = tokens[Math.floor(key / PAIR_BASE)]!;
  const otherLeft = tokens[Math.floor(other / PAIR_BASE)]!;
  if (left !== otherLeft) return left < otherLeft;
  return tokens[key % PAIR_BASE]! < tokens[other % PAIR_BASE]!;
};
