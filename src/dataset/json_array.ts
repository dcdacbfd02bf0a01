/**
 * Streams the elements of a top-level JSON array from a file without holding the whole text in
 * memory: Visual Genome's `scene_graphs.json` is larger than the longest string V8 can hold.
 * Elements are cut at depth-1 commas (strings and escapes respected) and parsed one at a time.
 *
 * @module
 */

/** One array element: its 0-based position and the parsed value (or the parse error). */
export type ArrayElement =
  | { readonly index: number; readonly value: unknown }
  | { readonly index: number; readonly error: string };

/**
 * Yields each element of the top-level JSON array in `path`. Throws (with the file name) when the
 * file does not start with `[` or ends inside the array; a malformed element is yielded as an
 * `error` so the caller can name it.
 */
export async function* streamJsonArray(path: string): AsyncGenerator<ArrayElement> {
  const file = await Deno.open(path, { read: true });
  const reader = file.readable.pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))
    .getReader();
  let started = false, finished = false;
  let depth = 0, inString = false, escaped = false;
  let element = "";
  let index = 0;
  const emit = (): ArrayElement | undefined => {
    const text = element.trim();
    element = "";
    if (text.length === 0) return undefined;
    try {
      return { index: index++, value: JSON.parse(text) };
    } catch (cause) {
      return { index: index++, error: String(cause) };
    }
  };
  try {
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (!started) {
          if (c === "[") {
            started = true;
            start = i + 1;
          } else if (!/\s/.test(c)) {
            throw new SyntaxError(`${path}: expected a JSON array, found ${JSON.stringify(c)}`);
          }
          continue;
        }
        if (finished) {
          if (!/\s/.test(c)) throw new SyntaxError(`${path}: text after the closing ]`);
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (c === "\\") escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") {
          if (depth === 0) {
            element += chunk.slice(start, i);
            const last = emit();
            if (last !== undefined) yield last;
            finished = true;
            continue;
          }
          depth--;
        } else if (c === "," && depth === 0) {
          element += chunk.slice(start, i);
          start = i + 1;
          const next = emit();
          if (next !== undefined) yield next;
        }
      }
      if (started && !finished) element += chunk.slice(start);
    }
    if (!started || !finished) throw new SyntaxError(`${path}: the JSON array is not closed`);
  } finally {
    // Cancelling closes the file too, also when the consumer stops early.
    await reader.cancel().catch(() => undefined);
  }
}
