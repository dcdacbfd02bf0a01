/**
 * A terminal progress bar for training loops: redrawn in place on a terminal, one plain line per
 * update otherwise (CI logs), always on stderr so stdout stays for results.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * "[#######.............]  7/20 text": a bar of `width` cells for `done` of `total`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressBar } from "./progress.ts";
 * assert.equal(progressBar(1, 4, "loss 2.1", 8), "[##......] 1/4 loss 2.1");
 * ```
 */
export const progressBar = (done: number, total: number, text: string, width = 24): string => {
  const filled = Math.round((Math.min(done, total) / Math.max(total, 1)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${text}`;
};

/** Shows progress `done`/`total` with `text`; `finish` ends the line on a terminal. */
export const showProgress = (done: number, total: number, text: string): void => {
  const bar = progressBar(done, total, text);
  const terminal = Deno.stderr.isTerminal();
  Deno.stderr.writeSync(encoder.encode(terminal ? `\r\x1b[2K${bar}` : `${bar}\n`));
  if (terminal && done >= total) Deno.stderr.writeSync(encoder.encode("\n"));
};
