/**
 * The subset of Hugging Face's `tokenizer.json` format that byte-level BPE tokenizers (GPT-2,
 * Qwen2/2.5, the project's own) use, as an Effect Schema. Anything outside it (WordPiece,
 * Metaspace, template post-processors, byte fallback, dropout) is rejected with a
 * `TokenizerInvalid` naming the component, never silently mis-tokenised.
 *
 * @module
 */
import { Schema } from "effect";

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/** A token matched before normalisation and BPE (`<|im_start|>` and friends). */
export const AddedTokenJson = Schema.Struct({
  id: NonNegativeInt,
  content: Schema.String.check(Schema.isNonEmpty()),
  single_word: Schema.Boolean,
  lstrip: Schema.Boolean,
  rstrip: Schema.Boolean,
  normalized: Schema.Boolean,
  special: Schema.Boolean,
});

/** An added token entry. */
export type AddedTokenJson = typeof AddedTokenJson.Type;

/** Unicode normalisation forms a normalizer may apply. */
export const NormalizationForm = Schema.Literals(["NFC", "NFD", "NFKC", "NFKD"]);

/** A normalisation form. */
export type NormalizationForm = typeof NormalizationForm.Type;

const UnicodeNormalizer = Schema.Struct({ type: NormalizationForm });

/** `null`, one Unicode normaliser, or a sequence of them. */
export const NormalizerJson = Schema.NullOr(
  Schema.Union([
    UnicodeNormalizer,
    Schema.Struct({
      type: Schema.Literal("Sequence"),
      normalizers: Schema.Array(UnicodeNormalizer),
    }),
  ]),
);

const ByteLevelJson = Schema.Struct({
  type: Schema.Literal("ByteLevel"),
  add_prefix_space: Schema.Boolean,
  trim_offsets: Schema.Boolean,
  use_regex: Schema.Boolean,
});

const SplitJson = Schema.Struct({
  type: Schema.Literal("Split"),
  pattern: Schema.Struct({ Regex: Schema.String }),
  behavior: Schema.Literal("Isolated"),
  invert: Schema.Literal(false),
});

/** Either `ByteLevel` alone (GPT-2 regex inside) or `Sequence[Split(regex), ByteLevel]`. */
export const PreTokenizerJson = Schema.Union([
  ByteLevelJson,
  Schema.Struct({
    type: Schema.Literal("Sequence"),
    pretokenizers: Schema.Tuple([SplitJson, ByteLevelJson]),
  }),
]);

/** The pre-tokenizer component. */
export type PreTokenizerJson = typeof PreTokenizerJson.Type;

/** The BPE model: vocabulary, ranked merges and the options a byte-level BPE may use. */
export const BpeModelJson = Schema.Struct({
  type: Schema.Literal("BPE"),
  dropout: Schema.Null,
  unk_token: Schema.Null,
  continuing_subword_prefix: Schema.NullOr(Schema.Literal("")),
  end_of_word_suffix: Schema.NullOr(Schema.Literal("")),
  fuse_unk: Schema.Boolean,
  byte_fallback: Schema.Literal(false),
  ignore_merges: Schema.optionalKey(Schema.Boolean),
  vocab: Schema.Record(Schema.String, NonNegativeInt),
  /** `"a b"` (older files) or `["a", "b"]` (newer files), highest priority first. */
  merges: Schema.Array(Schema.Union([Schema.String, Schema.Tuple([Schema.String, Schema.String])])),
});

/** The whole tokenizer.json (truncation and padding must be off: batching is ours). */
export const TokenizerJson = Schema.Struct({
  version: Schema.Literal("1.0"),
  truncation: Schema.Null,
  padding: Schema.Null,
  added_tokens: Schema.Array(AddedTokenJson),
  normalizer: NormalizerJson,
  pre_tokenizer: PreTokenizerJson,
  post_processor: Schema.NullOr(ByteLevelJson),
  decoder: ByteLevelJson,
  model: BpeModelJson,
});

/** A decoded tokenizer.json. */
export type TokenizerJson = typeof TokenizerJson.Type;

/** A tokenizer.json is malformed or uses a feature this implementation does not have. */
export class TokenizerInvalid extends Schema.TaggedError<TokenizerInvalid>()("TokenizerInvalid", {
  file: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `tokenizer ${this.file}: ${this.reason}`;
  }
}
