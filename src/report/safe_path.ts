/**
 * Confinement of paths to a run folder. Rollout records name their images by run-relative
 * path, and the dashboard serves files by such paths, so both must refuse anything that could
 * reach outside the folder: absolute paths, `..`, backslashes, NUL bytes, and symlinks whose
 * target lies outside.
 *
 * @module
 */
import { join, sep } from "node:path";

/**
 * The `/`-separated segments of a run-relative path, or `undefined` when the path is empty,
 * absolute, or has `.`/`..`/empty segments, backslashes or control characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runRelativeSegments } from "./safe_path.ts";
 * assert(runRelativeSegments("rollouts/images/a.png")?.length === 3);
 * assert(runRelativeSegments("../secret") === undefined);
 * ```
 */
export const runRelativeSegments = (path: string): ReadonlyArray<string> | undefined => {
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused here
  if (path.length === 0 || path.includes("\\") || /[\u0000-\u001f]/.test(path)) return undefined;
  const segments = path.split("/");
  const bad = segments.some((s) => s === "" || s === "." || s === ".." || /^[A-Za-z]:$/.test(s));
  return bad ? undefined : segments;
};

/**
 * The real path of `relative` inside the run folder `root`, or `undefined` when the path is not
 * a clean run-relative path, does not exist, or resolves (through symlinks) outside `root`.
 */
export const resolveInsideRun = async (
  root: string,
  relative: string,
): Promise<string | undefined> => {
  const segments = runRelativeSegments(relative);
  if (segments === undefined) return undefined;
  try {
    const realRoot = await Deno.realPath(root);
    const real = await Deno.realPath(join(realRoot, ...segments));
    return real.startsWith(realRoot + sep) ? real : undefined;
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound || cause instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw cause;
  }
};
