/**
 * 3DSRBench (`ccvl/3DSRBench`; the paper's harness reads the `hunarbatra/3DSRBench` copy) in the
 * VLMEvalKit table layout: columns `index`, `question`, `A`, `B`, `C`, `D` (unused options empty
 * or null), `answer` (a letter), `category` (height, location, orientation, multi_object), and the
 * image as `image` (base64 text in the TSV; a Hugging Face Image cell or raw bytes in parquet) or
 * `image_path`. Scored per question; VLMEvalKit's "circular" variant (a question counts only if
 * every rotation of its options is right) is not applied here.
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

const OptionCell = Schema.optional(Schema.NullOr(Schema.Union([Schema.String, Schema.Number])));

const ThreeDsrRow = Schema.Struct({
  index: IdCell,
  question: Schema.String,
  A: OptionCell,
  B: OptionCell,
  C: OptionCell,
  D: OptionCell,
  answer: Schema.String,
  category: Schema.String,
  image: Schema.optional(
    Schema.NullOr(Schema.Union([Schema.String, Schema.Uint8Array, HfImageCell])),
  ),
  image_path: Schema.optional(Schema.NullOr(Schema.String)),
});

/** Decodes standard base64 text; `undefined` when the text is not base64. */
const base64Bytes = (text: string): Uint8Array | undefined => {
  try {
    const bin = atob(text.replace(/\s+/g, ""));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
};

/** 3DSRBench loader. */
export const threeDsrBench: BenchmarkLoader = {
  name: "3dsrbench",
  source: "huggingface.co/datasets/ccvl/3DSRBench (VLMEvalKit .tsv) or hunarbatra/3DSRBench " +
    "(test parquet)",
  selectFiles: (paths) => matching(paths, /\.(tsv|parquet)$/),
  toRecord: (row, at) =>
    Result.gen(function* () {
      const r = yield* decodeRow(ThreeDsrRow, row, at);
      const options = [r.A, r.B, r.C, r.D].map((o) =>
        o === undefined || o === null ? "" : String(o).trim()
      );
      const last = options.findLastIndex((o) => o !== "");
      const choices = options.slice(0, last + 1);
      if (choices.length < 2 || choices.some((c) => c === "")) {
        return yield* Result.fail(invalidRow(at, "options A–D must be a contiguous run of ≥ 2"));
      }
      const answer = yield* answerLetter(r.answer, choices.length, at);
      let image: ImageRef;
      if (typeof r.image === "string" && r.image !== "") {
        const bytes = base64Bytes(r.image);
        if (bytes === undefined) return yield* Result.fail(invalidRow(at, "image is not base64"));
        image = { kind: "bytes", bytes };
      } else if (r.image instanceof Uint8Array) image = { kind: "bytes", bytes: r.image };
      else if (r.image !== undefined && r.image !== null && typeof r.image === "object") {
        image = yield* imageFromHfCell(r.image, at);
      } else if (r.image_path !== undefined && r.image_path !== null) {
        image = { kind: "path", path: resolveImagePath(at.baseDir, r.image_path) };
      } else return yield* Result.fail(invalidRow(at, "no image or image_path"));
      return {
        id: idText(r.index),
        benchmark: "3dsrbench",
        category: r.category,
        question: r.question,
        choices,
        answer,
        images: [image],
      };
    }),
};
