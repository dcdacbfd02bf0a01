/**
 * How many invocations share one row in the row-wise kernels (RMSNorm, cross-entropy, sampling,
 * embedding rows, rotary heads): enough that each handles about `ELEMENTS_PER_INVOCATION`
 * elements, at most a whole 256-invocation workgroup. Short rows (hidden size 128) then pack
 * several rows into one workgroup instead of leaving most invocations idle behind the same
 * barriers. Tuned on lavapipe only; real GPUs may prefer a warp or more per row even for short
 * rows (coalescing), which no measurement here has checked.
 *
 * @module
 */

/**
 * Target elements per invocation. On lavapipe fewer invocations per row is always faster (RMSNorm
 * [2400, 128]: 1.5 ms at 2–4 per row, 79 ms at 256); real GPUs want a warp or more on long rows
 * for coalesced reads. 64 gives 2 for hidden 128, 32 (a warp) for hidden 2048, 256 for 151,936.
 */
export const ELEMENTS_PER_INVOCATION = 64;

/**
 * Invocations per row for a row of `length` elements: a power of two in [1, 256].
 *
 * @example
 * ```ts
 * import { threadsPerRow } from "./row_reduce.ts";
 * if (threadsPerRow(128) !== 2 || threadsPerRow(151936) !== 256) throw new Error("unexpected");
 * ```
 */
export const threadsPerRow = (length: number): number => {
  const wanted = Math.ceil(length / ELEMENTS_PER_INVOCATION);
  return Math.min(256, 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(1, wanted)))));
};
