/**
 * STVQA-7K parquet import (the published Hugging Face files): reads rows in chunks with hyparquet
 * (random access, never the whole file), decodes each embedded JPEG with a pure-JS decoder
 * (jpeg-js), writes it as PNG under `images/`, recovers the scene graph from the ground-truth
 * `<scene>` string, and writes our records to `<split>.jsonl`. Output is written atomically.
 *
 * The `images` column may be the `Image` feature (struct {bytes, path}) or a list of them (the
 * first is used). Snappy-compressed and uncompressed files are read natively; other codecs need
 * hyparquet-compressors.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Effect, Result, Schema, Stream } from "effect";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import jpeg from "jpeg-js";
import { SceneGraph } from "../domain/scene_graph.ts";
import { encodeRgbPng } from "../scene/png.ts";
import { writeJsonl } from "./jsonl.ts";
import { CATEGORIES, type Category, LEVELS } from "./question.ts";
import {
  DatasetIoError,
  type RecordDecodeError,
  SourceRecordError,
  StvqaRecord,
} from "./record.ts";
import { withStagingFolder } from "./staging.ts";

/** The HF `Image` feature as stored in parquet. */
const ImageCell = Schema.Struct({
  bytes: Schema.NullOr(Schema.Uint8Array),
  path: Schema.optionalKey(Schema.NullOr(Schema.String)),
});

/** One row of the published parquet (extra columns are ignored). */
export const StvqaParquetRow = Schema.Struct({
  image_id: Schema.Union([Schema.String, Schema.Finite]),
  images: Schema.Union([ImageCell, Schema.Array(ImageCell)]),
  problem: Schema.String,
  question_only: Schema.String,
  question_with_options: Schema.String,
  options: Schema.Array(Schema.String),
  answer: Schema.String,
  answer_only: Schema.String,
  answer_text: Schema.String,
  answer_text_only: Schema.String,
  answer_option_text: Schema.String,
  answer_option_text_only: Schema.String,
  category: Schema.Literals(CATEGORIES),
  level: Schema.Literals(LEVELS),
  rating: Schema.Int,
});
/** A decoded {@link StvqaParquetRow}. */
export type StvqaParquetRow = typeof StvqaParquetRow.Type;

/** What to import. */
export interface StvqaImportOptions {
  readonly parquet: string;
  readonly out: string;
  /** Name of the JSONL file written (`<split>.jsonl`), e.g. "train" or "val". */
  readonly split: string;
  /** Rows read per hyparquet call. */
  readonly chunkRows?: number;
}

/** Counts of an import. */
export interface StvqaImportSummary {
  readonly rows: number;
  readonly images: number;
  readonly records: Readonly<Record<Category, number>>;
  /** Rows whose JPEG size differs from the prompt's `Image size: (W x H)` (the prompt wins). */
  readonly sizeMismatches: number;
}

/** Random access to a file for hyparquet, reading only the byte ranges it asks for. */
const fileBuffer = async (path: string): Promise<AsyncBuffer & { close: () => void }> => {
  const file = await Deno.open(path, { read: true });
  const { size } = await file.stat();
  return {
    byteLength: size,
    slice: async (start: number, end = size) => {
      const out = new Uint8Array(end - start);
      await file.seek(start, Deno.SeekMode.Start);
      for (let off = 0; off < out.length;) {
        const n = await file.read(out.subarray(off));
        if (n === null) throw new RangeError(`${path}: unexpected end of file at ${start + off}`);
        off += n;
      }
      return out.buffer;
    },
    close: () => file.close(),
  };
};

const SCENE = /<scene>(.*?)<\/scene>/s;
const IMAGE_SIZE = /Image size: \((.*?) x (.*?)\)/;
const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

const describe = (error: unknown) =>
  String(error instanceof Error ? error.message : error).split("\n").slice(0, 4).join(" ");

/** Converts one decoded row; fails with the reason when its content is unusable. */
const convertRow = (
  row: StvqaParquetRow,
  rowIndex: number,
): Result.Result<{ record: StvqaRecord; png: Uint8Array; jpegSize: [number, number] }, string> => {
  const imageId = String(row.image_id);
  const cell = Array.isArray(row.images) ? row.images[0] : row.images;
  if (cell === undefined || cell.bytes === null) return Result.fail("no embedded image bytes");
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(cell.bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxMemoryUsageInMB: 1024,
    });
  } catch (cause) {
    return Result.fail(`the embedded image is not a decodable JPEG: ${describe(cause)}`);
  }
  if (row.rating < 1 || row.rating > 10) return Result.fail(`rating ${row.rating} is outside 1–10`);
  const sceneText = row.answer_option_text.match(SCENE)?.[1];
  if (sceneText === undefined) return Result.fail("answer_option_text has no <scene>…</scene>");
  let sceneJson: unknown;
  try {
    sceneJson = JSON.parse(sceneText);
  } catch (cause) {
    return Result.fail(`the <scene> JSON does not parse: ${describe(cause)}`);
  }
  const graph = Schema.decodeUnknownResult(SceneGraph)(sceneJson);
  if (Result.isFailure(graph)) {
    return Result.fail(`the <scene> graph is invalid: ${describe(graph.failure)}`);
  }
  const size = row.problem.match(IMAGE_SIZE);
  const width = size ? Number(size[1]) : decoded.width;
  const height = size ? Number(size[2]) : decoded.height;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    return Result.fail(`the prompt's image size "${size?.[0]}" is not two positive integers`);
  }
  const stem = SAFE_ID.test(imageId) && imageId !== "." && imageId !== ".."
    ? imageId
    : `row${rowIndex}`;
  return Result.succeed({
    record: {
      image_id: imageId,
      problem: row.problem,
      question_only: row.question_only,
      question_with_options: row.question_with_options,
      options: row.options,
      answer: row.answer,
      answer_only: row.answer_only,
      answer_text: row.answer_text,
      answer_text_only: row.answer_text_only,
      answer_option_text: row.answer_option_text,
      answer_option_text_only: row.answer_option_text_only,
      category: row.category,
      level: row.level,
      rating: row.rating,
      image: `images/${stem}.png`,
      width,
      height,
      scene_graph: graph.success,
    },
    png: encodeRgbPng(decoded.data, decoded.width, decoded.height),
    jpegSize: [decoded.width, decoded.height],
  });
};

/** Reads, converts and writes every row of an opened parquet file. */
const importRows = Effect.fnUntraced(function* (
  file: AsyncBuffer,
  options: StvqaImportOptions,
): Effect.fn.Return<StvqaImportSummary, DatasetIoError | SourceRecordError | RecordDecodeError> {
  const { parquet } = options;
  const metadata = yield* Effect.tryPromise({
    try: () => parquetMetadataAsync(file),
    catch: (cause) =>
      new DatasetIoError({ path: parquet, reason: `not a parquet file: ${describe(cause)}` }),
  });
  const rows = Number(metadata.num_rows);
  const chunk = options.chunkRows ?? 64;
  const decodeRow = Schema.decodeUnknownResult(StvqaParquetRow);
  const records = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  let sizeMismatches = 0;
  const written = new Map<string, string>();
  yield* withStagingFolder(options.out, (tmp) =>
    Effect.gen(function* () {
      yield* Effect.tryPromise({
        try: () => Deno.mkdir(`${tmp}/images`),
        catch: (cause) => new DatasetIoError({ path: tmp, reason: String(cause) }),
      });
      const converted = Stream.range(0, Math.ceil(rows / chunk) - 1).pipe(
        Stream.mapEffect((c) =>
          Effect.tryPromise({
            try: () =>
              parquetReadObjects({
                file,
                metadata,
                utf8: false,
                rowStart: c * chunk,
                rowEnd: Math.min(rows, (c + 1) * chunk),
              }),
            catch: (cause) =>
              new SourceRecordError({
                file: parquet,
                record: `rows ${c * chunk}–${Math.min(rows, (c + 1) * chunk) - 1}`,
                reason: `cannot read: ${describe(cause)}`,
              }),
          }).pipe(Effect.map((objects) => objects.map((o, k) => [c * chunk + k, o] as const)))
        ),
        Stream.flattenIterable,
        Stream.mapEffect(([index, raw]) =>
          Effect.gen(function* () {
            const id = (raw as { image_id?: unknown }).image_id;
            const where = `row ${index}${id === undefined ? "" : ` (image_id ${String(id)})`}`;
            const row = decodeRow(raw);
            if (Result.isFailure(row)) {
              return yield* new SourceRecordError({
                file: parquet,
                record: where,
                reason: describe(row.failure),
              });
            }
            const result = convertRow(row.success, index);
            if (Result.isFailure(result)) {
              return yield* new SourceRecordError({
                file: parquet,
                record: where,
                reason: result.failure,
              });
            }
            const { png, jpegSize } = result.success;
            // Rows of one image_id share a file; a row whose pixels differ gets its own, so no
            // image is lost.
            const digest = createHash("sha256").update(png).digest("hex");
            const first = written.get(result.success.record.image);
            const record = first === undefined || first === digest ? result.success.record : {
              ...result.success.record,
              image: result.success.record.image.replace(/\.png$/, `_row${index}.png`),
            };
            if (jpegSize[0] !== record.width || jpegSize[1] !== record.height) sizeMismatches++;
            if (!written.has(record.image)) {
              written.set(record.image, digest);
              yield* Effect.tryPromise({
                try: () => Deno.writeFile(`${tmp}/${record.image}`, png),
                catch: (cause) =>
                  new DatasetIoError({ path: `${tmp}/${record.image}`, reason: String(cause) }),
              });
            }
            records[record.category]++;
            return record;
          })
        ),
      );
      yield* writeJsonl(`${tmp}/${options.split}.jsonl`, StvqaRecord, converted);
    }));
  return { rows, images: written.size, records, sizeMismatches };
});

/**
 * Imports an STVQA parquet file into `options.out` (written atomically; it must not exist yet).
 * A bad row fails the whole import with `SourceRecordError` naming the file, the row and its
 * image_id, and nothing is left behind.
 *
 * @example Import the bundled fixture
 * ```ts
 * import { Effect } from "effect";
 * import { importStvqaParquet } from "./import_stvqa.ts";
 * const dir = await Deno.makeTempDir();
 * const out = `${dir}/stvqa`;
 * const summary = await Effect.runPromise(importStvqaParquet({
 *   parquet: "data/fixtures/stvqa/stvqa_sample.parquet",
 *   out,
 *   split: "train",
 * }));
 * await Deno.remove(dir, { recursive: true });
 * if (summary.rows !== 3) throw new Error("expected the fixture's three rows");
 * ```
 */
export const importStvqaParquet = Effect.fn("importStvqaParquet")(function* (
  options: StvqaImportOptions,
): Effect.fn.Return<StvqaImportSummary, DatasetIoError | SourceRecordError | RecordDecodeError> {
  const { parquet } = options;
  if (!/^[A-Za-z0-9_-]+$/.test(options.split)) {
    return yield* new DatasetIoError({
      path: options.out,
      reason: `invalid split name "${options.split}"`,
    });
  }
  return yield* Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => fileBuffer(parquet),
      catch: (cause) =>
        new DatasetIoError({ path: parquet, reason: `cannot open: ${describe(cause)}` }),
    }),
    (file) => importRows(file, options),
    (file) => Effect.sync(() => file.close()),
  );
});
