/**
 * The few file operations checkpoints need, as Effects with one typed error: positioned reads
 * (so multi-GB files are never loaded whole), sequential writes with fsync, and atomic
 * replacement (write a temp file, fsync, rename).
 *
 * @module
 */
import { Effect, Schema } from "effect";

/** A filesystem operation failed; names the path and the operation. */
export class FileIoFailed extends Schema.TaggedError<FileIoFailed>()("FileIoFailed", {
  path: Schema.String,
  operation: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.operation} ${this.path}: ${this.reason}`;
  }
}

const ioTry = <A>(path: string, operation: string, run: () => Promise<A>) =>
  Effect.tryPromise({
    try: run,
    catch: (cause) =>
      new FileIoFailed({
        path,
        operation,
        reason: cause instanceof Error ? cause.message : String(cause),
      }),
  });

/**
 * Runs `use` with an open file, closing it afterwards whatever happens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { withFile } from "./file_io.ts";
 * const size = withFile(import.meta.filename!, { read: true }, (f) => Effect.promise(() => f.stat()));
 * assert((await Effect.runPromise(size)).size > 0);
 * ```
 */
export const withFile = <A, E>(
  path: string,
  options: Deno.OpenOptions,
  use: (file: Deno.FsFile) => Effect.Effect<A, E>,
): Effect.Effect<A, E | FileIoFailed> =>
  Effect.acquireUseRelease(
    ioTry(path, "open", () => Deno.open(path, options)),
    use,
    (file) => Effect.sync(() => file.close()),
  );

/**
 * Reads exactly `length` bytes at byte `offset` of an open file (fails on a short file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readAt, withFile } from "./file_io.ts";
 * const path = import.meta.filename!;
 * const head = withFile(path, { read: true }, (f) => readAt(f, path, 0, 4));
 * assert((await Effect.runPromise(head)).length === 4);
 * ```
 */
export const readAt = (
  file: Deno.FsFile,
  path: string,
  offset: number,
  length: number,
): Effect.Effect<Uint8Array, FileIoFailed> =>
  ioTry(path, `read ${length} bytes at ${offset} of`, async () => {
    const out = new Uint8Array(length);
    await file.seek(offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < length) {
      const n = await file.read(out.subarray(filled));
      if (n === null) throw new Error(`file ends after ${offset + filled} bytes`);
      filled += n;
    }
    return out;
  });

/**
 * Writes all of `chunks` in order to an open file (no buffering of the whole content).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { withFile, writeChunks } from "./file_io.ts";
 * const path = await Deno.makeTempFile();
 * await Effect.runPromise(withFile(path, { write: true }, (f) =>
 *   writeChunks(f, path, [new Uint8Array([1, 2])])));
 * assert((await Deno.readFile(path)).length === 2);
 * ```
 */
export const writeChunks = (
  file: Deno.FsFile,
  path: string,
  chunks: Iterable<Uint8Array>,
): Effect.Effect<void, FileIoFailed> =>
  ioTry(path, "write", async () => {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
  });

/**
 * Writes a file atomically: the content goes to `<path>.tmp-<pid>`, is fsynced, then renamed over
 * `path`, so readers see either the old or the new file, never a partial one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { writeFileAtomic } from "./file_io.ts";
 * const path = (await Deno.makeTempDir()) + "/a.txt";
 * await Effect.runPromise(writeFileAtomic(path, [new TextEncoder().encode("hi")]));
 * assert(await Deno.readTextFile(path) === "hi");
 * ```
 */
export const writeFileAtomic = (
  path: string,
  chunks: Iterable<Uint8Array>,
): Effect.Effect<void, FileIoFailed> => {
  const temp = `${path}.tmp-${Deno.pid}`;
  return withFile(
    temp,
    { write: true, create: true, truncate: true },
    (file) =>
      Effect.andThen(writeChunks(file, temp, chunks), ioTry(temp, "fsync", () => file.sync())),
  ).pipe(
    Effect.andThen(ioTry(path, "rename into place", () => Deno.rename(temp, path))),
    Effect.tapError(() => Effect.promise(() => Deno.remove(temp).catch(() => undefined))),
  );
};

/**
 * Reads a whole (small) text file such as a config.json.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readText } from "./file_io.ts";
 * assert((await Effect.runPromise(readText(import.meta.filename!))).length > 0);
 * ```
 */
export const readText = (path: string): Effect.Effect<string, FileIoFailed> =>
  ioTry(path, "read", () => Deno.readTextFile(path));

/**
 * Fsyncs a directory so that renames inside it survive a power loss.
 *
 * @example
 * ```ts
 * import { Effect } from "effect";
 * import { syncDirectory } from "./file_io.ts";
 * await Effect.runPromise(syncDirectory(await Deno.makeTempDir()));
 * ```
 */
export const syncDirectory = (path: string): Effect.Effect<void, FileIoFailed> =>
  withFile(path, { read: true }, (dir) => ioTry(path, "fsync directory", () => dir.sync()));

/** Runs a Deno filesystem call as an Effect failing with `FileIoFailed`. */
export const fsCall = ioTry;
