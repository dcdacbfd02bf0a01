/**
 * Trains the project's byte-level BPE tokenizer on STVQA record files and writes tokenizer.json
 * and tokenizer_config.json (atomically) into the output folder:
 *
 * ```
 * deno task data --scenes 2000 --out data/generated/tokenizer-corpus --seed 1
 * deno run -A src/text/train_tokenizer_cli.ts --vocab-size 1024 --out data/tokenizer/tiny \
 *   data/generated/tokenizer-corpus/train.jsonl
 * ```
 *
 * The same files and options give byte-identical output.
 *
 * @module
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node";
import { Console, Effect, Schema } from "effect";
import { Argument, Command, Flag } from "effect/cli";
import { fsCall, writeFileAtomic } from "../nn/file_io.ts";
import { corpusFromJsonl, DEFAULT_CORPUS_FIELDS } from "./corpus.ts";
import { QWEN_SPECIAL_TOKENS } from "./special_tokens.ts";
import { Tokenizer, tokenizerJsonText } from "./tokenizer.ts";
import { tokenizerConfigJson } from "./tokenizer_config.ts";
import { trainByteLevelBpe } from "./trainer.ts";

const trainTokenizer = Command.make(
  "train-tokenizer",
  {
    records: Argument.String("records").pipe(
      Argument.variadic({ min: 1 }),
      Argument.withDescription("JSONL record files (e.g. data/generated/…/train.jsonl)"),
    ),
    vocabSize: Flag.Int("vocab-size").pipe(
      Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(256 + 14))),
      Flag.withDescription("Total ids: 256 bytes + learned merges + 14 Qwen special tokens"),
    ),
    out: Flag.String("out").pipe(Flag.withDescription("Output folder, e.g. data/tokenizer/tiny")),
    fields: Flag.String("fields").pipe(
      Flag.withDefault(DEFAULT_CORPUS_FIELDS.join(",")),
      Flag.withDescription("Comma-separated record fields to train on"),
    ),
    maxPositions: Flag.Int("max-positions").pipe(
      Flag.withDefault(2048),
      Flag.withDescription("model_max_length written to tokenizer_config.json"),
    ),
  },
  Effect.fn("train-tokenizer")(function* ({ records, vocabSize, out, fields, maxPositions }) {
    const texts = yield* corpusFromJsonl(records, fields.split(","));
    const json = yield* Effect.fromResult(
      trainByteLevelBpe(texts, { vocabSize, specialTokens: QWEN_SPECIAL_TOKENS }),
    );
    const tokenizer = yield* Effect.fromResult(Tokenizer.fromJson(json, "trained"));
    yield* fsCall(out, "create directory", () => Deno.mkdir(out, { recursive: true }));
    const encoder = new TextEncoder();
    yield* writeFileAtomic(`${out}/tokenizer.json`, [encoder.encode(tokenizerJsonText(tokenizer))]);
    yield* writeFileAtomic(`${out}/tokenizer_config.json`, [
      encoder.encode(`${JSON.stringify(tokenizerConfigJson(tokenizer, maxPositions), null, 2)}\n`),
    ]);
    const tokens = texts.reduce((sum, text) => sum + tokenizer.encode(text).length, 0);
    const bytes = texts.reduce((sum, text) => sum + encoder.encode(text).length, 0);
    yield* Console.log(
      `${texts.length} texts, ${bytes} bytes → ${tokens} tokens (${(bytes / tokens).toFixed(2)} ` +
        `bytes/token); ${json.model.merges.length} merges, vocabulary ${tokenizer.vocabSize}; ` +
        `wrote ${out}/tokenizer.json and tokenizer_config.json`,
    );
  }),
).pipe(Command.withDescription("Train a byte-level BPE tokenizer on record files"));

if (import.meta.main) {
  trainTokenizer.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  );
}
