/**
 * BLINK (`BLINK-Benchmark/BLINK`, val split; the test answers are hidden). One parquet folder per
 * sub-task, e.g. `Spatial_Relation/val-00000-of-00001.parquet`, with columns `idx`, `question`,
 * `sub_task`, `image_1` … `image_4` (embedded images, unused slots null), `choices`, `answer`
 * ("(A)"). Given the whole dataset folder, the loader reads the four spatial sub-tasks the paper
 * reports (Spatial_Relation, Relative_Depth, Counting, Object_Localization); point it at one
 * sub-task's file to read any other.
 *
 * @module
 */
import { Result, Schema } from "effect";
import type { ImageRef } from "../record.ts";
import { answerLetter, decodeRow, HfImageCell, IdCell, idText, imageFromHfCell } from "./fields.ts";
import { type BenchmarkLoader, matching } from "./loader.ts";

/** The BLINK sub-tasks read when a whole dataset folder is given. */
export const BLINK_SPATIAL_TASKS = [
  "Counting",
  "Object_Localization",
  "Relative_Depth",
  "Spatial_Relation",
] as const;

const ImageSlot = Schema.optional(Schema.NullOr(HfImageCell));

const BlinkRow = Schema.Struct({
  idx: IdCell,
  question: Schema.String,
  sub_task: Schema.String,
  image_1: HfImageCell,
  image_2: ImageSlot,
  image_3: ImageSlot,
  image_4: ImageSlot,
  choices: Schema.Array(Schema.String),
  answer: Schema.String,
});

/** BLINK loader. */
export const blink: BenchmarkLoader = {
  name: "blink",
  source: "huggingface.co/datasets/BLINK-Benchmark/BLINK: <Sub_Task>/val-*.parquet for " +
    BLINK_SPATIAL_TASKS.join(", "),
  selectFiles: (paths) =>
    matching(
      paths,
      new RegExp(`(^|/)(${BLINK_SPATIAL_TASKS.join("|")})/val-[^/]*\\.parquet$`),
    ),
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(BlinkRow, row, at);
      const answer = yield* answerLetter(r.answer, r.choices.length, at);
      const images: Array<ImageRef> = [];
      for (const cell of [r.image_1, r.image_2, r.image_3, r.image_4]) {
        if (cell !== undefined && cell !== null) images.push(yield* imageFromHfCell(cell, at));
      }
      return {
        id: idText(r.idx),
        benchmark: "blink",
        category: r.sub_task,
        question: r.question,
        choices: r.choices,
        answer,
        images,
      };
    }),
};
