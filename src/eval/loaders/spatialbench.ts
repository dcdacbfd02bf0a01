/**
 * SpatialBench (SpatialBot's benchmark, `RussRobin/SpatialBench`; the paper's harness reads the
 * `hunarbatra/SpatialBench` copy). One JSON array per task — `positional.json`,
 * `existence.json`, `counting.json`, `reach.json`, `size.json` — of `{id?, image, question,
 * answer}`, where `image` is one path or a list of paths relative to the dataset folder. Answers
 * are free-form (yes/no, a word, a count); the task file name is the category. Depth maps
 * (`<source>_d/` folders) are not used: the model is RGB-only, as in the paper.
 *
 * @module
 */
import { Result, Schema } from "effect";
import { baseName, decodeRow, IdCell, idText, resolveImagePath } from "./fields.ts";
import { type BenchmarkLoader, matching } from "./loader.ts";

/** The SpatialBench task files read from a dataset folder. */
export const SPATIALBENCH_TASKS = ["counting", "existence", "positional", "reach", "size"] as const;

const SpatialBenchRow = Schema.Struct({
  id: Schema.optionalKey(IdCell),
  image: Schema.Union([Schema.String, Schema.Array(Schema.String).check(Schema.isMinLength(1))]),
  question: Schema.String,
  answer: Schema.Union([Schema.String, Schema.Number]),
});

/** SpatialBench loader. */
export const spatialBench: BenchmarkLoader = {
  name: "spatialbench",
  source: "huggingface.co/datasets/RussRobin/SpatialBench: " +
    SPATIALBENCH_TASKS.map((t) => `${t}.json`).join(", ") + " and their image folders",
  selectFiles: (paths) =>
    matching(paths, new RegExp(`(^|/)(${SPATIALBENCH_TASKS.join("|")})\\.json$`)),
  toRecord: (row, at) =>
    Result.map(decodeRow(SpatialBenchRow, row, at), (r) => {
      const category = baseName(at.file);
      const paths = typeof r.image === "string" ? [r.image] : r.image;
      return {
        id: r.id === undefined ? `${category}:${at.row}` : idText(r.id),
        benchmark: "spatialbench",
        category,
        question: r.question,
        choices: [],
        answer: String(r.answer).trim(),
        images: paths.map((p) => ({ kind: "path", path: resolveImagePath(at.baseDir, p) })),
      };
    }),
};
