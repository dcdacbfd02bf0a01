import assert from "node:assert/strict";
import { Effect, Result } from "effect";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { QWEN_SPECIAL_TOKENS } from "../../src/text/special_tokens.ts";
import {
  loadTokenizer,
  saveTokenizer,
  Tokenizer,
  tokenizerJsonText,
} from "../../src/text/tokenizer.ts";
import { tokenizerConfigJson } from "../../src/text/tokenizer_config.ts";
import { trainByteLevelBpe } from "../../src/text/trainer.ts";
import { randomStrings, TRICKY_STRINGS } from "./tricky_corpus.ts";

const corpus = [...TRICKY_STRINGS, ...randomStrings(300, 77)];
const trainedJson = () =>
  JSON.parse(JSON.stringify(Result.getOrThrow(
    trainByteLevelBpe(corpus, { vocabSize: 700, specialTokens: QWEN_SPECIAL_TOKENS }),
  )));

const rejection = (json: unknown): string => {
  const result = Tokenizer.fromJson(json, "broken.json");
  assert.ok(Result.isFailure(result), "expected the tokenizer to be rejected");
  assert.equal(result.failure.file, "broken.json");
  return result.failure.reason;
};

Deno.test("saveTokenizer then loadTokenizer gives the same file and the same ids", async () => {
  const tokenizer = Result.getOrThrow(Tokenizer.fromJson(trainedJson(), "t"));
  const path = `${await Deno.makeTempDir()}/tokenizer.json`;
  await Effect.runPromise(saveTokenizer(path, tokenizer));
  const loaded = await Effect.runPromise(loadTokenizer(path));
  assert.equal(tokenizerJsonText(loaded), tokenizerJsonText(tokenizer));
  for (const text of corpus) assert.deepEqual(loaded.encode(text), tokenizer.encode(text));
});

Deno.test("merges written as pairs load like merges written as strings", () => {
  const json = trainedJson();
  const asPairs = {
    ...json,
    model: { ...json.model, merges: json.model.merges.map((m: string) => m.split(" ")) },
  };
  const a = Result.getOrThrow(Tokenizer.fromJson(json, "strings"));
  const b = Result.getOrThrow(Tokenizer.fromJson(asPairs, "pairs"));
  for (const text of corpus) assert.deepEqual(b.encode(text), a.encode(text));
});

Deno.test("a GPT-2 style ByteLevel pre-tokenizer with a prefix space matches Hugging Face", () => {
  for (const addPrefixSpace of [false, true]) {
    const json = trainedJson();
    json.pre_tokenizer = {
      type: "ByteLevel",
      add_prefix_space: addPrefixSpace,
      trim_offsets: true,
      use_regex: true,
    };
    const ours = Result.getOrThrow(Tokenizer.fromJson(json, "gpt2-style"));
    const reference = new HfTokenizer(json, tokenizerConfigJson(ours, 512));
    // For this component the reference hard-codes a JavaScript regex whose \s differs from the
    // Oniguruma \s of Rust tokenizers (U+0085, U+FEFF); we follow Rust, so skip those two.
    for (const text of corpus.filter((text) => !/[\u0085\ufeff]/.test(text))) {
      assert.deepEqual(
        ours.encode(text),
        reference.encode(text).ids,
        JSON.stringify({ text, addPrefixSpace }),
      );
    }
  }
});

Deno.test("ignore_merges encodes a word that is in the vocabulary as one token", () => {
  const json = trainedJson();
  json.model.vocab["ĠXQZ"] = 680;
  json.model.ignore_merges = true;
  const ours = Result.getOrThrow(Tokenizer.fromJson(json, "ignore-merges"));
  assert.deepEqual(ours.encode(" XQZ"), [680]);
  const reference = new HfTokenizer(json, tokenizerConfigJson(ours, 512));
  for (const text of [...corpus, " XQZ"]) {
    assert.deepEqual(ours.encode(text), reference.encode(text).ids);
  }
});

Deno.test("tokenizer features this implementation does not reproduce are rejected by name", () => {
  const metaspace = trainedJson();
  metaspace.pre_tokenizer = {
    type: "Metaspace",
    replacement: "▁",
    prepend_scheme: "always",
    split: true,
  };
  assert.match(rejection(metaspace), /pre_tokenizer/);
  const fallback = trainedJson();
  fallback.model.byte_fallback = true;
  assert.match(rejection(fallback), /byte_fallback/);
  const wordPiece = trainedJson();
  wordPiece.model.type = "WordPiece";
  assert.match(rejection(wordPiece), /type/);
  const stripped = trainedJson();
  stripped.added_tokens[0].lstrip = true;
  assert.match(rejection(stripped), /lstrip\/rstrip\/single_word/);
  const template = trainedJson();
  template.post_processor = {
    type: "TemplateProcessing",
    single: [],
    pair: [],
    special_tokens: {},
  };
  assert.match(rejection(template), /post_processor/);
  const wordRegex = trainedJson();
  wordRegex.pre_tokenizer.pretokenizers[0].pattern.Regex = "\\w+|\\s+";
  assert.match(rejection(wordRegex), /unsupported regex construct "\\w"/);
});

Deno.test("an incomplete byte alphabet or a merge of unknown tokens is rejected", () => {
  const missingByte = trainedJson();
  delete missingByte.model.vocab["Ġ"];
  assert.match(rejection(missingByte), /lacks the byte-level symbol "Ġ"/);
  const badMerge = trainedJson();
  badMerge.model.merges.push("Ġzz qq");
  assert.match(rejection(badMerge), /merge \d+ \("Ġzz qq"\) uses a token not in the vocabulary/);
});

Deno.test("loadTokenizer names the file when it is not JSON", async () => {
  const path = `${await Deno.makeTempDir()}/tokenizer.json`;
  await Deno.writeTextFile(path, "{ not json");
  const error = await Effect.runPromise(Effect.flip(loadTokenizer(path)));
  assert.equal(error._tag, "TokenizerInvalid");
  assert.match(error.message, /tokenizer\.json: not JSON/);
});

Deno.test("decode drops ids that have no token, as Hugging Face does", () => {
  const tokenizer = Result.getOrThrow(Tokenizer.fromJson(trainedJson(), "t"));
  const ids = tokenizer.encode("cube");
  assert.equal(tokenizer.decode([100000, ...ids, 100001]), "cube");
  assert.equal(tokenizer.idToToken(100000), undefined);
});
