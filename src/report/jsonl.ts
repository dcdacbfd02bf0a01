/**
 * JSON Lines parsing by byte offset, for files another process is appending to: only lines that
 * end in `\n` are taken, so a partially written last line is left for the next read.
 *
 * @module
 */
import { Result, Schema } from "effect";
import { RunRecordInvalid } from "./errors.ts";

/** Where the next read of a JSON Lines file starts: a byte offset and the 1-based line number there. */
export interface JsonlCursor {
  readonly offset: number;
  readonly line: number;
}

/** The cursor at the start of a file. */
export const startOfFile: JsonlCursor = { offset: 0, line: 1 };

/** A complete line read from a JSON Lines file, without its `\n`. */
export interface JsonlLine {
  readonly line: number;
  readonly text: string;
}

/** The complete lines found in a chunk and the cursor just after the last of them. */
export interface JsonlChunk {
  readonly lines: ReadonlyArray<JsonlLine>;
  readonly next: JsonlCursor;
  /** Bytes after the last `\n` (a line still being written). */
  readonly pendingBytes: number;
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * Splits `bytes` (the file's content from `cursor.offset` on) into complete lines. Blank lines are
 * skipped but counted, so line numbers match what an editor shows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCompleteLines, startOfFile } from "./jsonl.ts";
 * const chunk = splitCompleteLines(new TextEncoder().encode('{"a":1}\n{"a":'), startOfFile);
 * assert(chunk.lines.length === 1 && chunk.next.offset === 8 && chunk.pendingBytes === 5);
 * ```
 */
export const splitCompleteLines = (bytes: Uint8Array, cursor: JsonlCursor): JsonlChunk => {
  const lines: Array<JsonlLine> = [];
  let start = 0;
  let line = cursor.line;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== NEWLINE) continue;
    const text = utf8.decode(bytes.subarray(start, i)).trim();
    if (text.length > 0) lines.push({ line, text });
    line += 1;
    start = i + 1;
  }
  return {
    lines,
    next: { offset: cursor.offset + start, line },
    pendingBytes: bytes.length - start,
  };
};

/**
 * Parses one line as JSON and decodes it with `schema`; a failure names the file and line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result, Schema } from "effect";
 * import { decodeJsonLine } from "./jsonl.ts";
 * const r = decodeJsonLine(Schema.Struct({ a: Schema.Number }), "m.jsonl", { line: 3, text: "{}" });
 * assert(Result.isFailure(r));
 * ```
 */
export const decodeJsonLine = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  file: string,
  { line, text }: JsonlLine,
): Result.Result<S["Type"], RunRecordInvalid> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return Result.fail(
      new RunRecordInvalid({ file, line, reason: `not JSON (${(cause as Error).message})` }),
    );
  }
  return Result.mapError(
    Schema.decodeUnknownResult(schema)(json),
    (error) => new RunRecordInvalid({ file, line, reason: error.message }),
  );
};
