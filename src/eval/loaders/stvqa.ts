/**
 * STVQA-7K validation records (`hunarbatra/STVQA-7K`, val split, 692 questions), and the
 * held-out records our data pipeline writes in the same field layout. Fields used (paper.md
 * §3.4): `question_only`, `options` (option texts), `answer_only` (the letter), `category`, and
 * the image as `images` (Hugging Face Image cell, parquet) or `image` / `image_path` (a path
 * relative to the file's folder, JSONL). The id is `id` when present, else `<image_id>:<record>`
 * (our pipeline asks several questions per image, so `image_id` alone is not unique). Given a
 * folder, the loader reads `val-*.parquet`, else `*val*.jsonl` (`deno task data` writes
 * `val.jsonl`); point it at `test.jsonl` to score the test split.
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

const StvqaRow = Schema.Struct({
  id: Schema.optionalKey(IdCell),
  image_id: Schema.optionalKey(IdCell),
  question_only: Schema.String,
  options: Schema.Array(Schema.String),
  answer_only: Schema.String,
  category: Schema.String,
  images: Schema.optional(Schema.NullOr(HfImageCell)),
  image: Schema.optionalKey(Schema.String),
  image_path: Schema.optionalKey(Schema.String),
});

/** STVQA loader. */
export const stvqa: BenchmarkLoader = {
  name: "stvqa",
  source: "huggingface.co/datasets/hunarbatra/STVQA-7K: the val split parquet " +
    "(data/val-*.parquet), or a JSONL of held-out records from `deno task data`",
  selectFiles: (paths) => {
    const parquet = matching(paths, /(^|\/)val-[^/]*\.parquet$/);
    return parquet.length > 0 ? parquet : matching(paths, /(^|\/)[^/]*val[^/]*\.jsonl$/);
  },
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(StvqaRow, row, at);
      const answer = yield* answerLetter(r.answer_only, r.options.length, at);
      const id = r.id !== undefined
        ? idText(r.id)
        : r.image_id !== undefined
        ? `${idText(r.image_id)}:${at.row}`
        : undefined;
      if (id === undefined) return yield* Result.fail(invalidRow(at, "neither id nor image_id"));
      const path = r.image ?? r.image_path;
      let image: ImageRef;
      if (r.images !== undefined && r.images !== null) image = yield* imageFromHfCell(r.images, at);
      else if (path !== undefined) {
        image = { kind: "path", path: resolveImagePath(at.baseDir, path) };
      } else return yield* Result.fail(invalidRow(at, "no images, image or image_path field"));
      return {
        id,
        benchmark: "stvqa",
        category: r.category,
        question: r.question_only,
        choices: r.options,
        answer,
        images: [image],
      };
    }),
};
