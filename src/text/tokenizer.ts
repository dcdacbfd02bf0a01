/**
 * Byte-level BPE tokenizer over Hugging Face `tokenizer.json` files: Qwen2.5's real vocabulary as
 * well as the small vocabularies the project trains. Encoding follows Hugging Face `tokenizers`
 * step by step, and the tests hold it to identical ids against an independent implementation:
 *
 * 1. added tokens are cut out of the raw text first (leftmost, longest match), so a literal
 *    `"<|im_start|>"` typed by a user becomes the special token, exactly as in Hugging Face;
 *    `encodeOrdinary` is the variant that treats such text as plain characters;
 * 2. each remaining stretch is normalised (NFC for Qwen), split by the pre-tokenizer regex,
 *    mapped to the byte-level alphabet, and merged by BPE in merge-rank order.
 *
 * Decoding concatenates token bytes and decodes UTF-8 once (invalid sequences become U+FFFD, as
 * Rust's `from_utf8_lossy`).
 *
 * @module
 */
import { Effect, Result, Schema } from "effect";
import { BYTE_TO_CHAR, fromByteLevel, toByteLevel } from "./byte_level.ts";
import { compileSplitPattern, GPT2_SPLIT_PATTERN, splitIsolated } from "./split_pattern.ts";
import { type NormalizationForm, TokenizerInvalid, TokenizerJson } from "./tokenizer_json.ts";
import { type FileIoFailed, readText, writeFileAtomic } from "../nn/file_io.ts";

/** Options for `decode`. */
export interface DecodeOptions {
  /** Drop added tokens marked `special` (`<|im_end|>`, `<|image_pad|>`, …). Default false. */
  readonly skipSpecialTokens?: boolean;
}

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
}

const escapeRegex = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** A regex matching any of the tokens, longest first so that alternation picks the longest. */
const alternationOf = (tokens: ReadonlyArray<AddedToken>): RegExp | undefined =>
  tokens.length === 0 ? undefined : new RegExp(
    [...tokens].sort((a, b) => b.content.length - a.content.length)
      .map((token) => escapeRegex(token.content)).join("|"),
    "gu",
  );

/** A loaded byte-level BPE tokenizer. Immutable apart from its word cache. */
export class Tokenizer {
  /** The validated tokenizer.json this tokenizer was built from (saved back unchanged). */
  readonly json: TokenizerJson;
  readonly #vocab: Map<string, number>;
  readonly #idToToken: Array<string | undefined>;
  readonly #ranks: Map<string, number>;
  readonly #added: Map<number, AddedToken>;
  readonly #addedByContent: Map<string, AddedToken>;
  readonly #rawAdded: RegExp | undefined;
  readonly #normalizedAdded: RegExp | undefined;
  readonly #normalizers: ReadonlyArray<NormalizationForm>;
  readonly #split: RegExp;
  readonly #addPrefixSpace: boolean;
  readonly #ignoreMerges: boolean;
  // Pre-token (before byte mapping) → ids. Corpora repeat words, so this is most of the speed.
  readonly #cache = new Map<string, ReadonlyArray<number>>();
  readonly #idBytes: Array<Uint8Array | undefined> = [];

  private constructor(json: TokenizerJson, split: RegExp) {
    this.json = json;
    this.#vocab = new Map(Object.entries(json.model.vocab));
    this.#idToToken = [];
    for (const [token, id] of this.#vocab) this.#idToToken[id] = token;
    this.#ranks = new Map();
    json.model.merges.forEach((merge, rank) => {
      const key = typeof merge === "string" ? merge : `${merge[0]} ${merge[1]}`;
      if (!this.#ranks.has(key)) this.#ranks.set(key, rank);
    });
    const added = json.added_tokens.map(({ id, content, special }) => ({ id, content, special }));
    this.#added = new Map(added.map((token) => [token.id, token]));
    this.#addedByContent = new Map(added.map((token) => [token.content, token]));
    this.#rawAdded = alternationOf(added.filter((_, i) => !json.added_tokens[i]!.normalized));
    this.#normalizers = json.normalizer === null
      ? []
      : json.normalizer.type === "Sequence"
      ? json.normalizer.normalizers.map((n) => n.type)
      : [json.normalizer.type];
    this.#normalizedAdded = alternationOf(
      added.filter((_, i) => json.added_tokens[i]!.normalized)
        .map((token) => ({ ...token, content: this.#normalize(token.content) })),
    );
    this.#split = split;
    this.#addPrefixSpace = json.pre_tokenizer.type === "ByteLevel" &&
      json.pre_tokenizer.add_prefix_space;
    this.#ignoreMerges = json.model.ignore_merges ?? false;
  }

  /**
   * Builds a tokenizer from a parsed tokenizer.json, checking that it is a byte-level BPE this
   * implementation reproduces exactly; `file` names the source in errors.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Result } from "effect";
   * import { Tokenizer } from "./tokenizer.ts";
   * import { trainByteLevelBpe } from "./trainer.ts";
   * const json = Result.getOrThrow(trainByteLevelBpe(["low lower lowest"], { vocabSize: 300 }));
   * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(json, "trained"));
   * assert(tokenizer.decode(tokenizer.encode("lowest")) === "lowest");
   * ```
   */
  static fromJson(json: unknown, file: string): Result.Result<Tokenizer, TokenizerInvalid> {
    const decoded = Schema.decodeUnknownResult(TokenizerJson)(json);
    if (Result.isFailure(decoded)) {
      return Result.fail(new TokenizerInvalid({ file, reason: decoded.failure.message }));
    }
    const spec = decoded.success;
    const fail = (reason: string) => Result.fail(new TokenizerInvalid({ file, reason }));
    const pre = spec.pre_tokenizer;
    let pattern: string;
    if (pre.type === "ByteLevel") {
      if (!pre.use_regex) return fail("a lone ByteLevel pre-tokenizer must have use_regex: true");
      pattern = GPT2_SPLIT_PATTERN;
    } else {
      const [split, byteLevel] = pre.pretokenizers;
      if (byteLevel.use_regex || byteLevel.add_prefix_space) {
        return fail("ByteLevel after Split must have use_regex and add_prefix_space false");
      }
      pattern = split.pattern.Regex;
    }
    const split = compileSplitPattern(pattern);
    if (typeof split === "string") return fail(split);
    for (const token of spec.added_tokens) {
      if (token.lstrip || token.rstrip || token.single_word) {
        return fail(`added token ${token.content} uses lstrip/rstrip/single_word (unsupported)`);
      }
    }
    const vocab = spec.model.vocab;
    const has = (token: string | undefined) => token !== undefined && Object.hasOwn(vocab, token);
    for (const char of BYTE_TO_CHAR) {
      if (!has(char)) {
        return fail(`vocabulary lacks the byte-level symbol "${char}"`);
      }
    }
    for (const [rank, merge] of spec.model.merges.entries()) {
      const [left, right] = typeof merge === "string" ? merge.split(" ") : merge;
      if (!has(left) || !has(right) || !has(`${left}${right}`)) {
        return fail(`merge ${rank} (${JSON.stringify(merge)}) uses a token not in the vocabulary`);
      }
    }
    return Result.succeed(new Tokenizer(spec, split));
  }

  /** Number of ids: one more than the largest id of the vocabulary or the added tokens. */
  get vocabSize(): number {
    let largest = this.#idToToken.length - 1;
    for (const id of this.#added.keys()) largest = Math.max(largest, id);
    return largest + 1;
  }

  /** The id of a token (added tokens by content, then the BPE vocabulary's byte-level spelling). */
  tokenToId(token: string): number | undefined {
    return this.#addedByContent.get(token)?.id ?? this.#vocab.get(token);
  }

  /** The token an id stands for (an added token's content, or the byte-level spelling). */
  idToToken(id: number): string | undefined {
    return this.#added.get(id)?.content ?? this.#idToToken[id];
  }

  /** Ids of every added token marked `special`. */
  get specialTokenIds(): ReadonlyArray<number> {
    return [...this.#added.values()].filter((token) => token.special).map((token) => token.id);
  }

  /**
   * Encodes text; added tokens written in the text (`<|im_start|>`) become their ids, as in
   * Hugging Face.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Result } from "effect";
   * import { Tokenizer } from "./tokenizer.ts";
   * import { trainByteLevelBpe } from "./trainer.ts";
   * const json = Result.getOrThrow(trainByteLevelBpe(["a b c"], { vocabSize: 300, specialTokens: ["<|x|>"] }));
   * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(json, "t"));
   * assert(tokenizer.encode("a<|x|>")[1] === tokenizer.tokenToId("<|x|>"));
   * ```
   */
  encode(text: string): Array<number> {
    const ids: Array<number> = [];
    this.#eachAddedSplit(text, this.#rawAdded, (segment, token) => {
      if (token !== undefined) ids.push(token.id);
      else this.#encodeRawSegment(segment, ids);
    });
    return ids;
  }

  /**
   * Encodes text treating added-token spellings as ordinary characters (for untrusted text that
   * must not inject `<|im_end|>` and the like).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Result } from "effect";
   * import { Tokenizer } from "./tokenizer.ts";
   * import { trainByteLevelBpe } from "./trainer.ts";
   * const json = Result.getOrThrow(trainByteLevelBpe(["a b c"], { vocabSize: 300, specialTokens: ["<|x|>"] }));
   * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(json, "t"));
   * assert(!tokenizer.encodeOrdinary("<|x|>").includes(tokenizer.tokenToId("<|x|>")!));
   * ```
   */
  encodeOrdinary(text: string): Array<number> {
    const ids: Array<number> = [];
    this.#encodeNormalized(this.#normalize(text), ids);
    return ids;
  }

  /**
   * Decodes ids to text; bytes that are not valid UTF-8 become U+FFFD. Ids with no token (the
   * unused ids between the learned vocabulary and the special tokens, which a model can still
   * sample) decode to nothing, as in Hugging Face.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Result } from "effect";
   * import { Tokenizer } from "./tokenizer.ts";
   * import { trainByteLevelBpe } from "./trainer.ts";
   * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(Result.getOrThrow(trainByteLevelBpe(["x"], { vocabSize: 256 })), "t"));
   * assert(tokenizer.decode(tokenizer.encode("héllo ✓")) === "héllo ✓");
   * ```
   */
  decode(ids: ReadonlyArray<number>, options: DecodeOptions = {}): string {
    const chunks: Array<Uint8Array> = [];
    let length = 0;
    for (const id of ids) {
      if (options.skipSpecialTokens === true && this.#added.get(id)?.special === true) continue;
      const bytes = this.#bytesOf(id);
      if (bytes === undefined) continue;
      chunks.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    // ignoreBOM keeps a leading U+FEFF: it is text the user wrote, not a byte-order mark.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(all);
  }

  /** The bytes a token id decodes to (computed once per id), `undefined` for an unused id. */
  #bytesOf(id: number): Uint8Array | undefined {
    let bytes = this.#idBytes[id];
    if (bytes === undefined) {
      const token = this.#added.get(id)?.content ?? this.#idToToken[id];
      if (token === undefined) return undefined;
      // Added tokens spelled outside the byte alphabet decode as their UTF-8 text (as HF does).
      bytes = fromByteLevel(token) ?? new TextEncoder().encode(token);
      this.#idBytes[id] = bytes;
    }
    return bytes;
  }

  /** Calls `emit` for each stretch between added-token matches and for each match, in order. */
  #eachAddedSplit(
    text: string,
    regex: RegExp | undefined,
    emit: (segment: string, token: AddedToken | undefined) => void,
  ): void {
    if (regex === undefined) {
      if (text.length > 0) emit(text, undefined);
      return;
    }
    let last = 0;
    for (const match of text.matchAll(regex)) {
      if (match.index > last) emit(text.slice(last, match.index), undefined);
      emit(match[0], this.#addedByContent.get(match[0]) ?? this.#normalizedAddedToken(match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) emit(text.slice(last), undefined);
  }

  #normalizedAddedToken(content: string): AddedToken | undefined {
    for (const token of this.#added.values()) {
      if (this.#normalize(token.content) === content) return token;
    }
    return undefined;
  }

  #normalize(text: string): string {
    let out = text;
    for (const form of this.#normalizers) out = out.normalize(form);
    return out;
  }

  #encodeRawSegment(segment: string, ids: Array<number>): void {
    this.#eachAddedSplit(this.#normalize(segment), this.#normalizedAdded, (part, token) => {
      if (token !== undefined) ids.push(token.id);
      else this.#encodeNormalized(part, ids);
    });
  }

  #encodeNormalized(text: string, ids: Array<number>): void {
    const prefixed = this.#addPrefixSpace && !text.startsWith(" ") ? ` ${text}` : text;
    for (const piece of splitIsolated(prefixed, this.#split)) {
      let pieceIds = this.#cache.get(piece);
      if (pieceIds === undefined) {
        pieceIds = this.#bpe(toByteLevel(piece));
        if (this.#cache.size < 1_000_000) this.#cache.set(piece, pieceIds);
      }
      for (const id of pieceIds) ids.push(id);
    }
  }

  /** Merges a byte-level word by rank, all occurrences of the best pair at a time. */
  #bpe(word: string): Array<number> {
    const whole = this.#vocab.get(word);
    if (this.#ignoreMerges && whole !== undefined) return [whole];
    let symbols = Array.from(word);
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const left = symbols[bestIndex]!;
      const right = symbols[bestIndex + 1]!;
      const merged: Array<string> = symbols.slice(0, bestIndex);
      for (let i = bestIndex; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]!);
        }
      }
      symbols = merged;
    }
    // Every symbol is in the vocabulary: fromJson checked the 256 bytes and every merge result.
    return symbols.map((symbol) => this.#vocab.get(symbol)!);
  }
}

/**
 * Reads and validates a tokenizer.json file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect, Result } from "effect";
 * import { loadTokenizer } from "./tokenizer.ts";
 * import { trainByteLevelBpe } from "./trainer.ts";
 * const path = (await Deno.makeTempDir()) + "/tokenizer.json";
 * await Deno.writeTextFile(path, JSON.stringify(Result.getOrThrow(trainByteLevelBpe(["x"], { vocabSize: 300 }))));
 * const tokenizer = await Effect.runPromise(loadTokenizer(path));
 * assert(tokenizer.decode(tokenizer.encode("xx")) === "xx");
 * ```
 */
export const loadTokenizer = (
  path: string,
): Effect.Effect<Tokenizer, TokenizerInvalid | FileIoFailed> =>
  Effect.flatMap(readText(path), (text) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      return Effect.fail(
        new TokenizerInvalid({ file: path, reason: `not JSON: ${String(cause)}` }),
      );
    }
    return Effect.fromResult(Tokenizer.fromJson(json, path));
  });

/**
 * The tokenizer.json text of a tokenizer (two-space indented, ending in a newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { Tokenizer, tokenizerJsonText } from "./tokenizer.ts";
 * import { trainByteLevelBpe } from "./trainer.ts";
 * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(Result.getOrThrow(trainByteLevelBpe(["x"], { vocabSize: 256 })), "t"));
 * assert(JSON.parse(tokenizerJsonText(tokenizer)).model.type === "BPE");
 * ```
 */
export const tokenizerJsonText = (tokenizer: Tokenizer): string =>
  `${JSON.stringify(tokenizer.json, null, 2)}\n`;

/**
 * Writes a tokenizer.json atomically.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect, Result } from "effect";
 * import { loadTokenizer, saveTokenizer, Tokenizer } from "./tokenizer.ts";
 * import { trainByteLevelBpe } from "./trainer.ts";
 * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(Result.getOrThrow(trainByteLevelBpe(["x"], { vocabSize: 256 })), "t"));
 * const path = (await Deno.makeTempDir()) + "/tokenizer.json";
 * await Effect.runPromise(saveTokenizer(path, tokenizer));
 * assert((await Effect.runPromise(loadTokenizer(path))).vocabSize === 256);
 * ```
 */
export const saveTokenizer = (
  path: string,
  tokenizer: Tokenizer,
): Effect.Effect<void, FileIoFailed> =>
  writeFileAtomic(path, [new TextEncoder().encode(tokenizerJsonText(tokenizer))]);
