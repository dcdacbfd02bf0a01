/**
 * Reading a benchmark file into plain rows, whatever its container: parquet (the Hugging Face
 * layout), JSONL, a JSON array, CSV or TSV. Binary parquet columns (embedded images) stay bytes.
 *
 * @module
 */
import { Effect, Result } from "effect";
import { parquetReadObjects } from "hyparquet";
import { BenchmarkRecordInvalid, EvalFileError } from "./errors.ts";

/** One row of a benchmark table, keyed by column name. */
export type Row = Readonly<Record<string, unknown>>;

/** The containers a benchmark file can come in, decided by its extension. */
export type TableFormat = "parquet" | "jsonl" | "json" | "csv" | "tsv";

/** The table format of a file name, or `undefined` for an extension we do not read. */
export const tableFormatOf = (file: string): TableFormat | undefined => {
  const ext = file.toLowerCase().split(".").pop();
  switch (ext) {
    case "parquet":
    case "jsonl":
    case "json":
    case "csv":
    case "tsv":
      return ext;
    default:
      return undefined;
  }
};

/**
 * Every row of `file`. A malformed JSONL line or a CSV row with the wrong number of cells is a
 * `BenchmarkRecordInvalid` naming the file and row.
 */
export const readTable = Effect.fn("readTable")(function* (
  file: string,
): Effect.fn.Return<ReadonlyArray<Row>, EvalFileError | BenchmarkRecordInvalid> {
  const format = tableFormatOf(file);
  if (format === undefined) {
    return yield* new EvalFileError({
      file,
      reason: "unsupported extension (expected .parquet, .jsonl, .json, .csv or .tsv)",
    });
  }
  const bytes = yield* Effect.tryPromise({
    try: () => Deno.readFile(file),
    catch: (cause) => new EvalFileError({ file, reason: String(cause) }),
  });
  if (format === "parquet") {
    return yield* Effect.tryPromise({
      try: () =>
        parquetReadObjects({
          file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
          utf8: false,
        }) as Promise<Array<Row>>,
      catch: (cause) =>
        new EvalFileError({ file, reason: `not a readable parquet file: ${cause}` }),
    });
  }
  const text = new TextDecoder().decode(bytes);
  switch (format) {
    case "jsonl":
      return yield* Effect.fromResult(parseJsonl(file, text));
    case "json":
      return yield* Effect.try({
        try: () => {
          const value: unknown = JSON.parse(text);
          if (!Array.isArray(value)) throw new Error("expected a JSON array of records");
          return value as Array<Row>;
        },
        catch: (cause) => new EvalFileError({ file, reason: String(cause) }),
      });
    case "csv":
    case "tsv":
      return yield* Effect.fromResult(
        rowsFromCells(file, parseDelimited(text, format === "csv" ? "," : "\t")),
      );
  }
});

/** Parses JSONL; blank lines are skipped, any other unparsable line is an error. */
export const parseJsonl = (
  file: string,
  text: string,
): Result.Result<ReadonlyArray<Row>, BenchmarkRecordInvalid> => {
  const rows: Array<Row> = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error("expected a JSON object");
      }
      rows.push(value as Row);
    } catch (cause) {
      return Result.fail(new BenchmarkRecordInvalid({ file, row: i + 1, reason: String(cause) }));
    }
  }
  return Result.succeed(rows);
};

/**
 * RFC 4180 parsing: fields may be quoted, quotes inside quoted fields are doubled, quoted fields
 * may span lines. Returns every record's cells, header included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDelimited } from "./tables.ts";
 * assert.deepEqual(parseDelimited('a,b\n1,"x, ""y"""\n', ","), [["a", "b"], ["1", 'x, "y"']]);
 * ```
 */
export const parseDelimited = (
  text: string,
  delimiter: string,
): Array<Array<string>> => {
  const records: Array<Array<string>> = [];
  let cells: Array<string> = [];
  let cell = "";
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === "")) records.push(cells);
    cells = [];
    cell = "";
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === "") quoted = true;
    else if (ch === delimiter) {
      cells.push(cell);
      cell = "";
    } else if (ch === "\n") endRecord();
    else if (ch !== "\r") cell += ch;
    i++;
  }
  if (cell !== "" || cells.length > 0) endRecord();
  return records;
};

const rowsFromCells = (
  file: string,
  records: Array<Array<string>>,
): Result.Result<ReadonlyArray<Row>, BenchmarkRecordInvalid> => {
  const [header, ...body] = records;
  if (header === undefined) return Result.succeed([]);
  const rows: Array<Row> = [];
  for (let r = 0; r < body.length; r++) {
    const cells = body[r]!;
    if (cells.length !== header.length) {
      return Result.fail(
        new BenchmarkRecordInvalid({
          file,
          row: r + 1,
          reason: `${cells.length} cells but the header has ${header.length}`,
        }),
      );
    }
    rows.push(Object.fromEntries(header.map((h, c) => [h.trim(), cells[c]!])));
  }
  return Result.succeed(rows);
};
