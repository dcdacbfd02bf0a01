/**
 * RealWorldQA (`visheratin/realworldqa`, test split, 765 questions): parquet files
 * `data/test-*.parquet` with columns `image` (embedded), `question`, `answer`. Options are written
 * inside the question ("A. …" lines) followed by an instruction line; the answer is then a letter.
 * Questions without option lines are free-form (answer a word or number) and are scored by
 * normalised text match. The dataset has no id column: ids are `<file>:<row>`.
 *
 * @module
 */
import { Result, Schema } from "effect";
import { answerLetter, baseName, decodeRow, HfImageCell, imageFromHfCell } from "./fields.ts";
import { type BenchmarkLoader, matching } from "./loader.ts";

const RealWorldQaRow = Schema.Struct({
  image: HfImageCell,
  question: Schema.String,
  answer: Schema.String,
});

/**
 * Splits a RealWorldQA question into its stem and the texts of its "A. …" option lines; text
 * after the options (the answer-format instruction) is dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitInlineOptions } from "./realworldqa.ts";
 * const s = splitInlineOptions("Which is closer?\nA. the car\nB. the tree\nPlease answer with the letter.");
 * assert.deepEqual(s, { question: "Which is closer?", choices: ["the car", "the tree"] });
 * ```
 */
export const splitInlineOptions = (
  text: string,
): { readonly question: string; readonly choices: ReadonlyArray<string> } => {
  const lines = text.split("\n");
  const first = lines.findIndex((l) => /^\s*A[.)]\s+\S/.test(l));
  if (first < 0) return { question: text.trim(), choices: [] };
  const choices: Array<string> = [];
  for (let i = first; i < lines.length; i++) {
    const m = /^\s*([A-F])[.)]\s+(.+?)\s*$/.exec(lines[i]!);
    if (m === null || m[1] !== "ABCDEF"[choices.length]) break;
    choices.push(m[2]!);
  }
  return { question: lines.slice(0, first).join("\n").trim(), choices };
};

/** RealWorldQA loader. */
export const realWorldQa: BenchmarkLoader = {
  name: "realworldqa",
  source: "huggingface.co/datasets/visheratin/realworldqa: data/test-*.parquet",
  selectFiles: (paths) => matching(paths, /(^|\/)test-[^/]*\.parquet$/),
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(RealWorldQaRow, row, at);
      const image = yield* imageFromHfCell(r.image, at);
      const { question, choices } = splitInlineOptions(r.question);
      const answer = choices.length > 0
        ? yield* answerLetter(r.answer, choices.length, at)
        : r.answer.trim();
      return {
        id: `${baseName(at.file)}:${at.row}`,
        benchmark: "realworldqa",
        category: choices.length > 0 ? "multiple-choice" : "free-form",
        question,
        choices,
        answer,
        images: [image],
      };
    }),
};
