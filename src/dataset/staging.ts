/**
 * Writing a whole output folder atomically: everything goes into a temporary sibling folder that
 * is renamed to the target only when the work succeeded; on any failure (or interruption) the
 * temporary folder is removed, so no partial output is ever left behind.
 *
 * @module
 */
import { Effect } from "effect";
import { DatasetIoError } from "./record.ts";

const exists = (path: string): boolean => {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
};

/**
 * Runs `work` with a fresh temporary folder and renames it to `out` when `work` succeeds. Fails
 * with `DatasetIoError` when `out` already exists (nothing is touched then).
 */
export const withStagingFolder = <A, E, R>(
  out: string,
  work: (staging: string) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | DatasetIoError, R> =>
  Effect.gen(function* () {
    if (exists(out)) {
      return yield* new DatasetIoError({
        path: out,
        reason: "output folder already exists; remove it or choose another --out",
      });
    }
    const staging = `${out}.tmp-${Deno.pid}`;
    const io = (what: string) => (cause: unknown) =>
      new DatasetIoError({ path: staging, reason: `${what}: ${String(cause)}` });
    const run = Effect.gen(function* () {
      yield* Effect.tryPromise({
        try: () => Deno.mkdir(staging, { recursive: true }),
        catch: io("cannot create folder"),
      });
      const result = yield* work(staging);
      yield* Effect.tryPromise({
        try: () => Deno.rename(staging, out),
        catch: io("cannot rename"),
      });
      return result;
    });
    return yield* run.pipe(
      Effect.onError(() =>
        Effect.promise(() => Deno.remove(staging, { recursive: true }).catch(() => undefined))
      ),
    );
  });
