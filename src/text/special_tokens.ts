/**
 * Qwen's special tokens, in Qwen's id order. The project's tokenizers put these 14 tokens at the
 * last ids of their vocabulary in this order, so offsets between them match Qwen2.5's
 * (`<|endoftext|>` 151643 … `<|video_pad|>` 151656).
 *
 * @module
 */

/** The special tokens, first to last id. */
export const QWEN_SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<|object_ref_start|>",
  "<|object_ref_end|>",
  "<|box_start|>",
  "<|box_end|>",
  "<|quad_start|>",
  "<|quad_end|>",
  "<|vision_start|>",
  "<|vision_end|>",
  "<|vision_pad|>",
  "<|image_pad|>",
  "<|video_pad|>",
] as const;

/** One of Qwen's special tokens. */
export type QwenSpecialToken = typeof QWEN_SPECIAL_TOKENS[number];
