/**
 * Qwen2.5-VL's chat template, rendered in TypeScript (no Jinja at run time) and also kept as the
 * Jinja source that goes into tokenizer_config.json, so that Hugging Face renders our checkpoints'
 * prompts identically. Tests render both and compare.
 *
 * An image part renders as `<|vision_start|><|image_pad|><|vision_end|>`; the processor then
 * expands each `<|image_pad|>` into as many pads as the image has merged patches
 * (`expandImagePads`; the count comes from the image processor: grid t·h·w / merge²).
 *
 * @module
 */

/** The system message Qwen2.5-VL inserts when the conversation does not start with one. */
export const DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant.";

/** Qwen2.5-VL's `chat_template` (from its chat_template.json), for tokenizer_config.json. */
export const QWEN25VL_CHAT_TEMPLATE =
  "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/** One part of a multimodal message. */
export type ContentPart = { readonly type: "image" } | {
  readonly type: "text";
  readonly text: string;
};

/** A chat message: plain text or a list of image and text parts. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string | ReadonlyArray<ContentPart>;
}

/** Rendering options. */
export interface RenderOptions {
  /** Append `<|im_start|>assistant\n` so the model writes the reply. Default true. */
  readonly addGenerationPrompt?: boolean;
  /** Prefix each image with "Picture N: " (Qwen's `add_vision_id`). Default false. */
  readonly addVisionId?: boolean;
}

const IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>";

/**
 * Renders messages with Qwen2.5-VL's chat template.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderChat } from "./chat_template.ts";
 * const text = renderChat([{ role: "user", content: [{ type: "image" }, { type: "text", text: "Hi" }] }]);
 * assert(text.endsWith("<|vision_start|><|image_pad|><|vision_end|>Hi<|im_end|>\n<|im_start|>assistant\n"));
 * ```
 */
export const renderChat = (
  messages: ReadonlyArray<ChatMessage>,
  options: RenderOptions = {},
): string => {
  let out = "";
  let images = 0;
  messages.forEach((message, index) => {
    if (index === 0 && message.role !== "system") {
      out += `<|im_start|>system\n${DEFAULT_SYSTEM_PROMPT}<|im_end|>\n`;
    }
    out += `<|im_start|>${message.role}\n`;
    if (typeof message.content === "string") {
      out += `${message.content}<|im_end|>\n`;
      return;
    }
    for (const part of message.content) {
      if (part.type === "image") {
        images++;
        if (options.addVisionId === true) out += `Picture ${images}: `;
        out += IMAGE_PLACEHOLDER;
      } else {
        out += part.text;
      }
    }
    out += "<|im_end|>\n";
  });
  if (options.addGenerationPrompt ?? true) out += "<|im_start|>assistant\n";
  return out;
};

/**
 * Replaces the i-th `<|image_pad|>` with `padsPerImage[i]` pads, as Qwen2.5-VL's processor does
 * before tokenising. Throws if the counts do not match the number of images (a caller bug).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandImagePads } from "./chat_template.ts";
 * assert(expandImagePads("a<|image_pad|>b", [3]) === "a<|image_pad|><|image_pad|><|image_pad|>b");
 * ```
 */
export const expandImagePads = (text: string, padsPerImage: ReadonlyArray<number>): string => {
  const parts = text.split("<|image_pad|>");
  if (parts.length - 1 !== padsPerImage.length) {
    throw new RangeError(
      `text has ${
        parts.length - 1
      } <|image_pad|> placeholders but ${padsPerImage.length} pad counts`,
    );
  }
  return parts.reduce(
    (out, part, i) => out + "<|image_pad|>".repeat(i === 0 ? 0 : padsPerImage[i - 1]!) + part,
  );
};

/**
 * The prompt of one spatial question: the default system message, then one image (expanded to
 * `imagePads` pads) followed by the question text, then the assistant turn opener.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { singleImagePrompt } from "./chat_template.ts";
 * const prompt = singleImagePrompt("Where is the cube?", 9);
 * assert(prompt.split("<|image_pad|>").length - 1 === 9);
 * ```
 */
export const singleImagePrompt = (question: string, imagePads: number): string =>
  expandImagePads(
    renderChat([{ role: "user", content: [{ type: "image" }, { type: "text", text: question }] }]),
    [imagePads],
  );
