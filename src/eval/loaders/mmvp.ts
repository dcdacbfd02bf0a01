/**
 * MMVP (`MMVP/MMVP`): 300 two-option questions about 150 image pairs. Published as
 * `Questions.csv` with columns `Index`, `Question`, `Options` ("(a) Open (b) Closed") and
 * `Correct Answer` ("(a)"), and the images as `MMVP Images/<Index>.jpg` beside it. Scored per
 * question (the MMVP paper also reports pair accuracy, where both questions of a pair must be
 * right).
 *
 * @module
 */
import { Result, Schema } from "effect";
import { answerLetter, decodeRow, invalidRow, resolveImagePath } from "./fields.ts";
import { type BenchmarkLoader, matching } from "./loader.ts";

const MmvpRow = Schema.Struct({
  Index: Schema.String,
  Question: Schema.String,
  Options: Schema.String,
  "Correct Answer": Schema.String,
});

/**
 * Option texts of an MMVP `Options` cell, e.g. "(a) Open (b) Closed" → ["Open", "Closed"].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mmvpOptions } from "./mmvp.ts";
 * assert.deepEqual(mmvpOptions("(a) Open (b) Closed"), ["Open", "Closed"]);
 * ```
 */
export const mmvpOptions = (cell: string): Array<string> =>
  cell.split(/\(([a-f])\)\s*/i).filter((_, i) => i % 2 === 0).slice(1).map((s) => s.trim());

/** MMVP loader. */
export const mmvp: BenchmarkLoader = {
  name: "mmvp",
  source: "huggingface.co/datasets/MMVP/MMVP: Questions.csv and the 'MMVP Images' folder",
  selectFiles: (paths) => matching(paths, /(^|\/)Questions\.csv$/),
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(MmvpRow, row, at);
      const choices = mmvpOptions(r.Options);
      if (choices.length < 2) {
        return yield* Result.fail(invalidRow(at, `cannot read options from ${r.Options}`));
      }
      const answer = yield* answerLetter(r["Correct Answer"], choices.length, at);
      const index = r.Index.trim();
      return {
        id: index,
        benchmark: "mmvp",
        category: "all",
        question: r.Question.trim(),
        choices,
        answer,
        images: [{ kind: "path", path: resolveImagePath(at.baseDir, `MMVP Images/${index}.jpg`) }],
      };
    }),
};
