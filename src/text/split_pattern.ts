/**
 * Pre-tokenisation: the regular expressions that cut text into words before BPE, written in the
 * Oniguruma syntax that tokenizer.json files use, and their translation to JavaScript.
 *
 * Oniguruma's `\s` is Unicode White_Space, while JavaScript's `\s` adds U+FEFF and misses U+0085,
 * so `\s`/`\S` become `\p{White_Space}`/`\P{White_Space}`; `(?i:…)` groups are kept (V8 supports
 * regexp modifiers with Unicode case folding, as Oniguruma does). Constructs whose meaning differs
 * and that no supported tokenizer uses are rejected rather than mistranslated.
 *
 * @module
 */

/** Qwen2's split pattern (Qwen2/2.5/3 and Qwen2.5-VL tokenizers): contractions, letters with one
 * leading non-letter, single digits, punctuation runs, newlines, spaces. */
export const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** GPT-2's pattern, used by a `ByteLevel` pre-tokenizer with `use_regex: true`. */
export const GPT2_SPLIT_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Oniguruma escapes and groups we do not translate (their meaning differs from JavaScript's). */
const UNSUPPORTED = /\\[wWbBhHAzZGdD]|\(\?>|\[\[:|[+*?]\+/;

/**
 * Translates an Oniguruma split pattern into a global, Unicode JavaScript RegExp, or returns the
 * reason it cannot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileSplitPattern, QWEN2_SPLIT_PATTERN } from "./split_pattern.ts";
 * const regex = compileSplitPattern(QWEN2_SPLIT_PATTERN);
 * assert(regex instanceof RegExp && "it's 42".match(regex)!.join("|") === "it|'s| |4|2");
 * ```
 */
export const compileSplitPattern = (source: string): RegExp | string => {
  const unsupported = UNSUPPORTED.exec(source);
  if (unsupported !== null) return `unsupported regex construct "${unsupported[0]}" in ${source}`;
  const translated = source.replaceAll(
    /\\\\|\\s|\\S/g,
    (escape) =>
      escape === "\\s" ? "\\p{White_Space}" : escape === "\\S" ? "\\P{White_Space}" : escape,
  );
  try {
    return new RegExp(translated, "gu");
  } catch (cause) {
    return `regex ${source} does not compile: ${String(cause)}`;
  }
};

/**
 * Splits text into the pieces a `Split` pre-tokenizer with behaviour `Isolated` produces: every
 * match is a piece, and so is every non-empty stretch between matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileSplitPattern, QWEN2_SPLIT_PATTERN, splitIsolated } from "./split_pattern.ts";
 * const regex = compileSplitPattern(QWEN2_SPLIT_PATTERN) as RegExp;
 * assert(splitIsolated("Hi  there", regex).join("|") === "Hi| | there");
 * ```
 */
export const splitIsolated = (text: string, regex: RegExp): Array<string> => {
  const pieces: Array<string> = [];
  let last = 0;
  for (const match of text.matchAll(regex)) {
    if (match[0].length === 0) continue;
    if (match.index > last) pieces.push(text.slice(last, match.index));
    pieces.push(match[0]);
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
};
