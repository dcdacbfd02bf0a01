/**
 * Whole-file writes that never leave a half-written file: write beside the target, then rename
 * over it (atomic on one file system).
 *
 * @module
 */
import { Effect } from "effect";
import { RunFileError } from "./errors.ts";

let writes = 0;

/** Writes `data` to `path` through a temporary sibling file and a rename. */
export const writeFileAtomic = Effect.fn("writeFileAtomic")(
  function* (path: string, data: string | Uint8Array) {
    writes += 1;
    const temp = `${path}.tmp-${Deno.pid}-${writes}`;
    yield* Effect.tryPromise({
      try: async () => {
        try {
          if (typeof data === "string") await Deno.writeTextFile(temp, data);
          else await Deno.writeFile(temp, data);
          await Deno.rename(temp, path);
        } catch (cause) {
          await Deno.remove(temp).catch(() => undefined);
          throw cause;
        }
      },
      catch: (cause) => new RunFileError({ file: path, operation: "write", reason: String(cause) }),
    });
  },
);
