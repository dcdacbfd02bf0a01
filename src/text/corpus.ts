/**
 * Tokenizer training text from JSONL record files: the chosen string fields of every record, in
 * file and line order (so training on the same files is deterministic).
 *
 * @module
 */
import { Effect, Schema } from "effect";
import { type FileIoFailed, readText } from "../nn/file_io.ts";

/** The record fields holding what the model reads and writes: the prompt and the target texts. */
export const DEFAULT_CORPUS_FIELDS: ReadonlyArray<string> = [
  "problem",
  "answer",
  "answer_text",
  "answer_option_text",
];

/** A record line is not JSON or lacks a chosen field; names the file and the 1-based line. */
export class CorpusRecordInvalid extends Schema.TaggedError<CorpusRecordInvalid>()(
  "CorpusRecordInvalid",
  { file: Schema.String, line: Schema.Number, reason: Schema.String },
) {
  override get message(): string {
    return `${this.file}:${this.line}: ${this.reason}`;
  }
}

/**
 * The values of `fields` (each a string) of every record of the JSONL files, in order. Blank
 * lines are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { corpusFromJsonl } from "./corpus.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"problem":"Where?","answer":"(A) left"}\n');
 * const texts = await Effect.runPromise(corpusFromJsonl([path], ["problem", "answer"]));
 * assert(texts.join("|") === "Where?|(A) left");
 * ```
 */
export const corpusFromJsonl = (
  files: ReadonlyArray<string>,
  fields: ReadonlyArray<string> = DEFAULT_CORPUS_FIELDS,
): Effect.Effect<Array<string>, CorpusRecordInvalid | FileIoFailed> =>
  Effect.gen(function* () {
    const texts: Array<string> = [];
    for (const file of files) {
      const lines = (yield* readText(file)).split("\n");
      for (const [index, line] of lines.entries()) {
        if (line.trim() === "") continue;
        const fail = (reason: string) => new CorpusRecordInvalid({ file, line: index + 1, reason });
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (cause) {
          return yield* fail(`not JSON (${String(cause)})`);
        }
        if (typeof record !== "object" || record === null || Array.isArray(record)) {
          return yield* fail("not a JSON object");
        }
        for (const field of fields) {
          const value = (record as Record<string, unknown>)[field];
          if (typeof value !== "string") return yield* fail(`field "${field}" is not a string`);
          texts.push(value);
        }
      }
    }
    return texts;
  });
