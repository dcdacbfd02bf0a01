/**
 * CV-Bench (`nyu-visionx/CV-Bench`, test split): 2,638 questions, 2D (Count, Relation) and 3D
 * (Depth, Distance). Published as `test_2d.parquet` / `test_3d.parquet` with embedded images, and
 * as `test.jsonl` whose `filename` column points into `img/`. Columns used: `idx`, `type` ("2D" or
 * "3D"), `task`, `question`, `choices`, `answer` ("(A)"), `image` or `filename`.
 * Reported as two benchmarks, `cv-bench-2d` and `cv-bench-3d`, as the paper does.
 *
 * @module
 */
import { Result, Schema } from "effect";
import type { ImageRef } from "../record.ts";
import {
  answerLetter,
  decodeRow,
  HfImageCell,
  IdCell,
  idText,
  imageFromHfCell,
  invalidRow,
  resolveImagePath,
} from "./fields.ts";
import { type BenchmarkLoader, matching } from "./loader.ts";

const CvBenchRow = Schema.Struct({
  idx: IdCell,
  type: Schema.Literals(["2D", "3D"]),
  task: Schema.String,
  question: Schema.String,
  choices: Schema.Array(Schema.String),
  answer: Schema.String,
  image: Schema.optional(Schema.NullOr(HfImageCell)),
  filename: Schema.optionalKey(Schema.String),
});

/** CV-Bench loader: prefers the parquet files, falls back to `test.jsonl` + `img/`. */
export const cvBench: BenchmarkLoader = {
  name: "cv-bench",
  source: "huggingface.co/datasets/nyu-visionx/CV-Bench: test_2d.parquet and test_3d.parquet " +
    "(or test.jsonl with the img/ folder)",
  selectFiles: (paths) => {
    const parquet = matching(paths, /(^|\/)test_[23]d\.parquet$/);
    return parquet.length > 0 ? parquet : matching(paths, /(^|\/)test\.jsonl$/);
  },
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(CvBenchRow, row, at);
      const answer = yield* answerLetter(r.answer, r.choices.length, at);
      let image: ImageRef;
      if (r.image !== undefined && r.image !== null) image = yield* imageFromHfCell(r.image, at);
      else if (r.filename !== undefined) {
        image = { kind: "path", path: resolveImagePath(at.baseDir, r.filename) };
      } else return yield* Result.fail(invalidRow(at, "neither an image nor a filename column"));
      return {
        id: idText(r.idx),
        benchmark: `cv-bench-${r.type.toLowerCase()}`,
        category: r.task,
        question: r.question,
        choices: r.choices,
        answer,
        images: [image],
      };
    }),
};
