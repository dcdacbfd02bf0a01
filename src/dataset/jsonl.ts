/**
 * Streaming JSON Lines IO for data set records. The reader decodes line by line with a Schema and
 * names the file and line of the first bad record; the writer validates every record before it
 * writes, writes to a temporary file next to the target, and renames it into place only when
 * everything succeeded, so a failure never leaves a partial file behind.
 *
 * @module
 */
import { Effect, Schema, Stream } from "effect";
import { DatasetIoError, RecordDecodeError, StvqaRecord } from "./record.ts";

interface Line {
  readonly number: number;
  readonly text: string;
}

/** Yields the lines of a UTF-8 file one at a time (1-based numbers), without reading it whole. */
async function* fileLines(path: string): AsyncGenerator<Line> {
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoderStream("utf-8", { fatal: true });
  const reader = file.readable.pipeThrough(decoder).getReader();
  let buffer = "", number = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        yield { number: ++number, text: buffer.slice(0, newline).replace(/\r$/, "") };
        buffer = buffer.slice(newline + 1);
      }
    }
    if (buffer.length > 0) yield { number: ++number, text: buffer.replace(/\r$/, "") };
  } finally {
    // Cancelling closes the file too, also when the consumer stops early.
    await reader.cancel().catch(() => undefined);
  }
}

/** The first issue of a Schema error, in one line. */
const describeIssue = (error: unknown): string =>
  String(error instanceof Error ? error.message : error).split("\n").slice(0, 6).join(" ");

/**
 * Streams the records of a JSONL file, decoded with `schema`. Blank lines are skipped. Fails with
 * `RecordDecodeError` (file, line, reason) at the first line that is not valid JSON or not a valid
 * record, and with `DatasetIoError` when the file cannot be read.
 *
 * @example
 * ```ts
 * import { Effect, Schema, Stream } from "effect";
 * import { readJsonl } from "./jsonl.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"n": 1}\n{"n": 2}\n');
 * const rows = await Effect.runPromise(
 *   Stream.runCollect(readJsonl(path, Schema.Struct({ n: Schema.Number }))),
 * );
 * await Deno.remove(path);
 * if (rows.length !== 2) throw new Error("expected two rows");
 * ```
 */
export const readJsonl = <S extends Schema.Decoder<unknown>>(
  path: string,
  schema: S,
): Stream.Stream<S["Type"], RecordDecodeError | DatasetIoError> => {
  const decode = Schema.decodeUnknownResult(schema);
  return Stream.fromAsyncIterable(
    fileLines(path),
    (cause) => new DatasetIoError({ path, reason: `cannot read: ${String(cause)}` }),
  ).pipe(
    Stream.filter((line) => line.text.trim().length > 0),
    Stream.mapEffect((line) => {
      let json: unknown;
      try {
        json = JSON.parse(line.text);
      } catch (cause) {
        return Effect.fail(
          new RecordDecodeError({
            file: path,
            line: line.number,
            reason: `invalid JSON: ${String(cause)}`,
          }),
        );
      }
      const result = decode(json);
      return result._tag === "Success" ? Effect.succeed(result.success) : Effect.fail(
        new RecordDecodeError({
          file: path,
          line: line.number,
          reason: `invalid record: ${describeIssue(result.failure)}`,
        }),
      );
    }),
  );
};

/** The temporary sibling a file is written to before it is renamed into place. */
export const temporaryPath = (path: string): string => `${path}.tmp-${Deno.pid}`;

/**
 * Writes records as JSONL to `path`, atomically: each record is validated with `schema` first
 * (a bad one fails with `RecordDecodeError` naming the target file and the record's 1-based line),
 * lines go to a temporary sibling, and the rename happens only after the last record. On any
 * failure (of the stream too) the temporary file is removed and an existing `path` is untouched.
 * Returns the number of records written.
 */
export const writeJsonl = <S extends Schema.Codec<unknown, unknown>, E = never>(
  path: string,
  schema: S,
  records: Stream.Stream<S["Type"], E>,
  serialise: (encoded: unknown) => string = (encoded) => JSON.stringify(encoded),
): Effect.Effect<number, E | RecordDecodeError | DatasetIoError> => {
  const encode = Schema.encodeUnknownResult(schema as Schema.Codec<unknown, unknown>);
  const decode = Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>);
  const tmp = temporaryPath(path);
  const io = (reason: string) => (cause: unknown) =>
    new DatasetIoError({ path, reason: `${reason}: ${String(cause)}` });
  return Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => Deno.open(tmp, { write: true, create: true, truncate: true }),
      catch: io("cannot create temporary file"),
    }),
    (file) =>
      Effect.gen(function* () {
        const encoder = new TextEncoder();
        let count = 0;
        yield* Stream.runForEach(records, (record) =>
          Effect.gen(function* () {
            count++;
            // Encode, then decode the encoded form: this runs every check of the schema.
            const encoded = encode(record);
            const checked = encoded._tag === "Success" ? decode(encoded.success) : encoded;
            if (checked._tag === "Failure") {
              return yield* new RecordDecodeError({
                file: path,
                line: count,
                reason: `refusing to write an invalid record: ${describeIssue(checked.failure)}`,
              });
            }
            const bytes = encoder.encode(serialise(checked.success) + "\n");
            yield* Effect.tryPromise({
              try: async () => {
                for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
              },
              catch: io("write failed"),
            });
          }));
        yield* Effect.tryPromise({ try: () => file.sync(), catch: io("sync failed") });
        return count;
      }),
    (file, exit) =>
      Effect.promise(async () => {
        file.close();
        if (exit._tag === "Failure") await Deno.remove(tmp).catch(() => undefined);
      }),
  ).pipe(
    Effect.tap(() =>
      Effect.tryPromise({ try: () => Deno.rename(tmp, path), catch: io("rename failed") }).pipe(
        Effect.tapError(() => Effect.promise(() => Deno.remove(tmp).catch(() => undefined))),
      )
    ),
  );
};

/** Streams the STVQA records of a JSONL file (see {@link readJsonl}). */
export const readStvqaRecords = (
  path: string,
): Stream.Stream<StvqaRecord, RecordDecodeError | DatasetIoError> => readJsonl(path, StvqaRecord);
