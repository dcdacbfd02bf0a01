import assert from "node:assert/strict";
import { Effect } from "effect";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { PRESETS } from "../../src/nn/config.ts";
import { singleImagePrompt } from "../../src/text/chat_template.ts";
import { QWEN_SPECIAL_TOKENS } from "../../src/text/special_tokens.ts";
import { loadTokenizer, tokenizerJsonText } from "../../src/text/tokenizer.ts";

const dataDir = new URL("../../data/tokenizer/", import.meta.url).pathname;

const response =
  '<observe> The red cube is left of the ball. </observe>\n<scene> {"objects": [{"id": "red_cube.1", "bbox": [12, 40, 30, 58]}], "relationships": []} </scene>\n<think> The cube box ends before the ball box starts. </think>\n<answer> (A) left of </answer>';

for (const name of ["tiny", "small"] as const) {
  const config = PRESETS[name].config;

  Deno.test(`the shipped ${name} tokenizer fits the ${name} preset's vocabulary and token ids`, async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(`${dataDir}${name}/tokenizer.json`));
    assert.equal(tokenizer.vocabSize, config.vocab_size);
    assert.equal(tokenizer.tokenToId("<|endoftext|>"), config.bos_token_id);
    assert.equal(tokenizer.tokenToId("<|im_end|>"), config.eos_token_id);
    assert.equal(tokenizer.tokenToId("<|vision_start|>"), config.vision_start_token_id);
    assert.equal(tokenizer.tokenToId("<|vision_end|>"), config.vision_end_token_id);
    assert.equal(tokenizer.tokenToId("<|vision_pad|>"), config.vision_token_id);
    assert.equal(tokenizer.tokenToId("<|image_pad|>"), config.image_token_id);
    assert.equal(tokenizer.tokenToId("<|video_pad|>"), config.video_token_id);
    assert.deepEqual(
      [...tokenizer.specialTokenIds].sort((a, b) => a - b),
      QWEN_SPECIAL_TOKENS.map((_, i) => config.vocab_size - 14 + i),
    );
  });

  Deno.test(`the shipped ${name} tokenizer encodes prompts like Hugging Face and round-trips them`, async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(`${dataDir}${name}/tokenizer.json`));
    const tokenizerConfig = JSON.parse(
      await Deno.readTextFile(`${dataDir}${name}/tokenizer_config.json`),
    );
    const reference = new HfTokenizer(JSON.parse(tokenizerJsonText(tokenizer)), tokenizerConfig);
    const prompt = singleImagePrompt("Where is the red cube with respect to the ball?", 9) +
      response;
    const ids = tokenizer.encode(prompt);
    assert.deepEqual(ids, reference.encode(prompt).ids);
    assert.equal(tokenizer.decode(ids), prompt);
    assert.equal(ids.filter((id) => id === config.image_token_id).length, 9);
    // The trained vocabulary compresses its own domain: well under half a token per byte.
    assert.ok(ids.length < new TextEncoder().encode(prompt).length / 2.5);
  });
}
