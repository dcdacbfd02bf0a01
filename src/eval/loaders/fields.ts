/**
 * Helpers shared by the benchmark loaders: decoding a raw row against a layout schema, reading
 * Hugging Face `Image` cells, and turning "(A)" answers into letters. Every failure names the
 * file and record.
 *
 * @module
 */
import { Result, Schema, SchemaIssue } from "effect";
import { BenchmarkRecordInvalid } from "../errors.ts";
import { type ImageRef, OPTION_LETTERS } from "../record.ts";
import type { Row } from "../tables.ts";

/** Where a row came from: the file, its 1-based record number, and the folder images hang off. */
export interface RowLocation {
  readonly file: string;
  readonly row: number;
  /** Folder that relative image paths in this file are resolved against. */
  readonly baseDir: string;
}

/** The error for a row at `at`. */
export const invalidRow = (at: RowLocation, reason: string): BenchmarkRecordInvalid =>
  new BenchmarkRecordInvalid({ file: at.file, row: at.row, reason });

/** Decodes `row` against a layout schema; the error lists every mismatching column. */
export const decodeRow = <S extends Schema.Decoder<unknown>>(
  schema: S,
  row: Row,
  at: RowLocation,
): Result.Result<S["Type"], BenchmarkRecordInvalid> => {
  const decoded = Schema.decodeUnknownResult(schema)(row, { errors: "all" });
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success);
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues;
  return Result.fail(
    invalidRow(
      at,
      issues.map((i) => `${(i.path ?? []).map(String).join(".") || "row"}: ${i.message}`).join(
        "; ",
      ),
    ),
  );
};

/** An id column: string, or an integer (parquet INT64 columns decode to bigint). */
export const IdCell = Schema.Union([Schema.String, Schema.Number, Schema.BigInt]);

/** A Hugging Face `datasets` Image cell: `{bytes, path}`, either may be null. */
export const HfImageCell = Schema.Struct({
  bytes: Schema.optional(Schema.NullOr(Schema.Uint8Array)),
  path: Schema.optional(Schema.NullOr(Schema.String)),
});

/** Joins a relative image path onto the folder of the file that named it. */
export const resolveImagePath = (baseDir: string, path: string): string =>
  path.startsWith("/") ? path : `${baseDir}/${path}`;

/**
 * The image of a Hugging Face Image cell: the embedded bytes when present, else the file path
 * (relative paths resolve against the benchmark file's folder).
 */
export const imageFromHfCell = (
  cell: typeof HfImageCell.Type,
  at: RowLocation,
): Result.Result<ImageRef, BenchmarkRecordInvalid> => {
  if (cell.bytes !== undefined && cell.bytes !== null && cell.bytes.length > 0) {
    return Result.succeed(
      cell.path !== undefined && cell.path !== null
        ? { kind: "bytes", bytes: cell.bytes, name: cell.path }
        : { kind: "bytes", bytes: cell.bytes },
    );
  }
  if (cell.path !== undefined && cell.path !== null && cell.path !== "") {
    return Result.succeed({ kind: "path", path: resolveImagePath(at.baseDir, cell.path) });
  }
  return Result.fail(invalidRow(at, "image cell has neither bytes nor a path"));
};

/**
 * The letter of an answer written "(A)", "A", "A." or "(a)", checked against the number of
 * choices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { answerLetter } from "./fields.ts";
 * const r = answerLetter("(b)", 3, { file: "f", row: 1, baseDir: "." });
 * assert.ok(Result.isSuccess(r) && r.success === "B");
 * ```
 */
export const answerLetter = (
  answer: string,
  choiceCount: number,
  at: RowLocation,
): Result.Result<string, BenchmarkRecordInvalid> => {
  const m = /^\s*\(?([A-Fa-f])[).]?\s*$/.exec(answer);
  const letter = m?.[1]?.toUpperCase();
  const index = letter === undefined ? -1 : OPTION_LETTERS.indexOf(letter as "A");
  if (index < 0 || index >= choiceCount) {
    return Result.fail(
      invalidRow(
        at,
        `answer ${JSON.stringify(answer)} is not one of the letters of ${choiceCount} choices`,
      ),
    );
  }
  return Result.succeed(letter!);
};

/** Ids as strings: bigint and number ids print without a decimal point. */
export const idText = (id: typeof IdCell.Type): string => String(id);

/** The last path component without its extension. */
export const baseName = (file: string): string => file.split("/").pop()!.replace(/\.[^.]+$/, "");
