import assert from "node:assert/strict";
import { Result } from "effect";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { QWEN_SPECIAL_TOKENS } from "../../src/text/special_tokens.ts";
import { Tokenizer, tokenizerJsonText } from "../../src/text/tokenizer.ts";
import { tokenizerConfigJson } from "../../src/text/tokenizer_config.ts";
import { trainByteLevelBpe } from "../../src/text/trainer.ts";
import { randomStrings, TRICKY_STRINGS } from "./tricky_corpus.ts";

/** A small corpus shaped like the text the model reads and writes. */
const spatialCorpus = (): Array<string> => {
  const objects = ["cube", "sphere", "cylinder", "cone", "red_cube", "blue_ball"];
  const relations = ["left of", "right of", "behind", "in front of", "above", "below"];
  const texts: Array<string> = [];
  for (let i = 0; i < 120; i++) {
    const a = objects[i % objects.length]!;
    const b = objects[(i * 7 + 3) % objects.length]!;
    const r = relations[(i * 5) % relations.length]!;
    texts.push(
      `Where is the ${a} with respect to the ${b}?\nOptions:\n(A) ${r}\n(B) ${
        relations[(i + 1) % 6]
      }`,
    );
    texts.push(
      `<observe> The ${a} is ${r} the ${b}. </observe>\n<scene> {"objects": [{"id": "${a}.1", "bbox": [${i}, ${
        i % 50
      }, ${i + 30}, ${
        i + 41
      }]}], "relationships": [{"subject": "${a}.1", "predicate": "${r}", "object": "${b}.2"}]} </scene>\n<think> The ${a} box is ${r} the ${b} box. </think>\n<answer> (A) ${r} </answer>`,
    );
  }
  return texts;
};

const train = (vocabSize: number, corpus = spatialCorpus()) =>
  Result.getOrThrow(trainByteLevelBpe(corpus, { vocabSize, specialTokens: QWEN_SPECIAL_TOKENS }));

Deno.test("training twice on the same corpus gives byte-identical tokenizer.json", () => {
  const first = Result.getOrThrow(Tokenizer.fromJson(train(600), "a"));
  const second = Result.getOrThrow(Tokenizer.fromJson(train(600), "b"));
  assert.equal(tokenizerJsonText(first), tokenizerJsonText(second));
});

Deno.test("trained ids are bytes first, merges next and Qwen's specials at the last ids", () => {
  const json = train(400);
  const vocab = json.model.vocab;
  assert.equal(vocab["Ġ"], 0x20);
  assert.equal(vocab["A"], 0x41);
  const ids = Object.values(vocab).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i), "contiguous from 0");
  assert.equal(ids.length, 400 - QWEN_SPECIAL_TOKENS.length);
  assert.deepEqual(
    json.added_tokens.map((token) => [token.id, token.content]),
    QWEN_SPECIAL_TOKENS.map((content, i) => [400 - 14 + i, content]),
  );
});

Deno.test("the most frequent words of the corpus become single tokens", () => {
  const tokenizer = Result.getOrThrow(Tokenizer.fromJson(train(600), "t"));
  for (const word of [" the", "<observe>", " cube", "relationships"]) {
    const ids = tokenizer.encode(word);
    assert.ok(ids.length <= 2, `${JSON.stringify(word)} took ${ids.length} tokens`);
  }
});

Deno.test("a corpus that runs out of pairs leaves unused ids before the special tokens", () => {
  const json = Result.getOrThrow(
    trainByteLevelBpe(["ab ab ab"], { vocabSize: 1000, specialTokens: ["<|endoftext|>"] }),
  );
  assert.ok(json.model.merges.length < 5);
  assert.equal(json.added_tokens[0]!.id, 999);
  assert.equal(Result.getOrThrow(Tokenizer.fromJson(json, "t")).vocabSize, 1000);
});

Deno.test("pairs rarer than minFrequency are never merged", () => {
  const once = Result.getOrThrow(trainByteLevelBpe(["xy"], { vocabSize: 300, minFrequency: 2 }));
  assert.equal(once.model.merges.length, 0);
  const twice = Result.getOrThrow(
    trainByteLevelBpe(["xy xy"], { vocabSize: 300, minFrequency: 2 }),
  );
  assert.ok(twice.model.merges.includes("x y"));
});

Deno.test("special tokens in the training text are never learned as merges", () => {
  const json = Result.getOrThrow(
    trainByteLevelBpe(Array(50).fill("<|im_start|>user\nhi<|im_end|>"), {
      vocabSize: 400,
      specialTokens: ["<|im_start|>", "<|im_end|>"],
    }),
  );
  assert.equal(json.model.vocab["<|"], undefined);
  assert.equal(json.model.vocab["|>"], undefined);
});

Deno.test("a trained tokenizer encodes exactly as Hugging Face does and round-trips text", () => {
  const json = train(800);
  const ours = Result.getOrThrow(Tokenizer.fromJson(json, "trained"));
  const reference = new HfTokenizer(
    JSON.parse(tokenizerJsonText(ours)),
    tokenizerConfigJson(ours, 2048),
  );
  for (
    const text of [...spatialCorpus().slice(0, 40), ...TRICKY_STRINGS, ...randomStrings(200, 9)]
  ) {
    const ids = ours.encode(text);
    assert.deepEqual(ids, reference.encode(text).ids, JSON.stringify(text));
    assert.equal(ours.decode(ids), text.normalize("NFC"), JSON.stringify(text));
  }
});

Deno.test("training options that cannot work are rejected", () => {
  const tooSmall = trainByteLevelBpe(["x"], { vocabSize: 260, specialTokens: QWEN_SPECIAL_TOKENS });
  assert.ok(Result.isFailure(tooSmall));
  assert.match(tooSmall.failure.message, /256 byte symbols \+ 14 specials/);
  const duplicate = trainByteLevelBpe(["x"], { vocabSize: 300, specialTokens: ["<a>", "<a>"] });
  assert.ok(Result.isFailure(duplicate));
  const badRegex = trainByteLevelBpe(["x"], { vocabSize: 300, splitPattern: "\\w+" });
  assert.ok(Result.isFailure(badRegex));
  assert.match(badRegex.failure.reason, /unsupported regex construct/);
});
