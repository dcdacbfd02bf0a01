/**
 * The one record shape every benchmark loader produces, so extraction, scoring and the model
 * never see a benchmark's own layout.
 *
 * @module
 */
import { Schema } from "effect";

/** An image stored inside the benchmark file (parquet `Image` column, base64 TSV cell). */
export const EmbeddedImage = Schema.Struct({
  kind: Schema.Literal("bytes"),
  /** Encoded image file bytes (PNG/JPEG), not pixels. */
  bytes: Schema.Uint8Array,
  /** The file name the benchmark gave the image, if any (keeps the extension). */
  name: Schema.optionalKey(Schema.String),
});

/** An image stored as a file next to the benchmark (absolute or relative to the working dir). */
export const ImageFile = Schema.Struct({
  kind: Schema.Literal("path"),
  path: Schema.String,
});

/** Where to get one image of a record. */
export const ImageRef = Schema.Union([EmbeddedImage, ImageFile]);

/** One of {@link ImageRef}. */
export type ImageRef = typeof ImageRef.Type;

/** Option letters in order; benchmarks here have at most 6 options. */
export const OPTION_LETTERS = ["A", "B", "C", "D", "E", "F"] as const;

/**
 * One evaluation question.
 *
 * `choices` are the option texts without their "(A) " prefixes; then `answer` is the correct
 * option's letter. A free-form question (some RealWorldQA and SpatialBench items) has no choices
 * and `answer` is the reference text.
 */
export const EvalRecord = Schema.Struct({
  /** Unique within its benchmark. */
  id: Schema.String,
  /** Benchmark name as reported, e.g. `cv-bench-2d`. */
  benchmark: Schema.String,
  /** The benchmark's task or category, e.g. `Count`, `Spatial_Relation`. */
  category: Schema.String,
  /** The question without options. */
  question: Schema.String,
  choices: Schema.Array(Schema.String),
  answer: Schema.String,
  /** One or more images, in the order the question refers to them. */
  images: Schema.Array(ImageRef),
});

/** One of {@link EvalRecord}. */
export type EvalRecord = typeof EvalRecord.Type;

/**
 * The question with its options in the "(A) text" form of the SpatialThinker prompts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { questionWithOptions } from "./record.ts";
 * const text = questionWithOptions({ question: "Which is closer?", choices: ["car", "tree"] });
 * assert.equal(text, "Which is closer?\nOptions:\n(A) car\n(B) tree");
 * ```
 */
export const questionWithOptions = (
  record: Pick<EvalRecord, "question" | "choices">,
): string =>
  record.choices.length === 0 ? record.question : `${record.question}\nOptions:\n` +
    record.choices.map((c, i) => `(${OPTION_LETTERS[i]}) ${c}`).join("\n");
