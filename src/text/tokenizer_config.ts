/**
 * tokenizer_config.json: the transformers-side settings that travel with a tokenizer.json (token
 * roles, the chat template, no BOS, no clean-up of spaces), in Qwen2.5-VL's layout, so that
 * `AutoTokenizer`/`AutoProcessor` load a project checkpoint like a Qwen one.
 *
 * @module
 */
import { QWEN25VL_CHAT_TEMPLATE } from "./chat_template.ts";
import type { Tokenizer } from "./tokenizer.ts";

/**
 * Builds tokenizer_config.json for a tokenizer with Qwen's special tokens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { QWEN_SPECIAL_TOKENS } from "./special_tokens.ts";
 * import { Tokenizer } from "./tokenizer.ts";
 * import { tokenizerConfigJson } from "./tokenizer_config.ts";
 * import { trainByteLevelBpe } from "./trainer.ts";
 * const json = Result.getOrThrow(trainByteLevelBpe(["x"], { vocabSize: 300, specialTokens: QWEN_SPECIAL_TOKENS }));
 * const config = tokenizerConfigJson(Result.getOrThrow(Tokenizer.fromJson(json, "t")), 2048);
 * assert(config["eos_token"] === "<|im_end|>");
 * ```
 */
export const tokenizerConfigJson = (
  tokenizer: Tokenizer,
  modelMaxLength: number,
): Record<string, unknown> => {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const token of tokenizer.json.added_tokens) {
    const { id: _, ...fields } = token;
    addedTokensDecoder[String(token.id)] = fields;
  }
  const additional = tokenizer.json.added_tokens
    .filter((token) => token.special && token.content !== "<|endoftext|>")
    .map((token) => token.content);
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: additional,
    bos_token: null,
    chat_template: QWEN25VL_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: modelMaxLength,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    unk_token: null,
  };
};
