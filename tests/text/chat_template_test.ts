import assert from "node:assert/strict";
import { Template } from "@huggingface/jinja";
import {
  type ChatMessage,
  expandImagePads,
  QWEN25VL_CHAT_TEMPLATE,
  renderChat,
  singleImagePrompt,
} from "../../src/text/chat_template.ts";

const jinja = new Template(QWEN25VL_CHAT_TEMPLATE);
const renderWithJinja = (
  messages: ReadonlyArray<ChatMessage>,
  addGenerationPrompt: boolean,
  addVisionId: boolean,
) =>
  jinja.render({
    messages: structuredClone(messages),
    add_generation_prompt: addGenerationPrompt,
    add_vision_id: addVisionId,
  });

const conversations: ReadonlyArray<ReadonlyArray<ChatMessage>> = [
  [{ role: "user", content: "Hello" }],
  [{ role: "user", content: [{ type: "image" }, { type: "text", text: "Where is the cube?" }] }],
  [
    { role: "system", content: "Answer briefly." },
    {
      role: "user",
      content: [{ type: "text", text: "Compare " }, { type: "image" }, { type: "image" }],
    },
    { role: "assistant", content: "<answer>(A) left of</answer>" },
    { role: "user", content: "And the ball?" },
  ],
  [
    { role: "user", content: "first" },
    { role: "system", content: "a system turn later on" },
    { role: "assistant", content: [{ type: "text", text: "done" }] },
  ],
];

Deno.test("renderChat matches Jinja rendering of Qwen2.5-VL's chat template", () => {
  for (const messages of conversations) {
    for (const addGenerationPrompt of [true, false]) {
      for (const addVisionId of [true, false]) {
        assert.equal(
          renderChat(messages, { addGenerationPrompt, addVisionId }),
          renderWithJinja(messages, addGenerationPrompt, addVisionId),
          JSON.stringify({ messages, addGenerationPrompt, addVisionId }),
        );
      }
    }
  }
});

Deno.test("a one-image question renders the published Qwen2.5-VL prompt layout", () => {
  assert.equal(
    singleImagePrompt("Is the cube left of the ball?", 2),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" +
      "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Is the cube left of the ball?" +
      "<|im_end|>\n<|im_start|>assistant\n",
  );
});

Deno.test("expandImagePads expands each image by its own count", () => {
  const text = renderChat([{ role: "user", content: [{ type: "image" }, { type: "image" }] }]);
  const expanded = expandImagePads(text, [1, 3]);
  const groups = expanded.match(/<\|vision_start\|>(?:<\|image_pad\|>)*<\|vision_end\|>/g)!;
  assert.deepEqual(groups.map((group) => group.split("<|image_pad|>").length - 1), [1, 3]);
});

Deno.test("expandImagePads refuses a pad count list that does not match the images", () => {
  assert.throws(
    () => expandImagePads("<|image_pad|>", [1, 2]),
    /1 <\|image_pad\|> placeholders but 2/,
  );
});
