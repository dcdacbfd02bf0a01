/**
 * Aliasing checks for op launchers: WebGPU rejects a dispatch that binds overlapping ranges of one
 * buffer when one binding is writable, and reports it only at submit, far from the cause. Ops
 * check their written tensors against every other tensor first and throw a typed error naming
 * them.
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import { byteLength, type Tensor } from "../tensor.ts";

/** Whether two tensors share any byte of the same buffer. */
export const overlaps = (x: Tensor, y: Tensor): boolean =>
  x.buffer === y.buffer &&
  x.offset < y.offset + byteLength(y) && y.offset < x.offset + byteLength(x);

/**
 * Throws `ShapeMismatch` if a written tensor overlaps any other named tensor (written or read).
 *
 * @example
 * ```ts
 * import { assertDisjoint } from "./disjoint.ts";
 * const buffer = {} as GPUBuffer;
 * const x = { shape: [4], dtype: "f32" as const, buffer, offset: 0 };
 * const y = { shape: [4], dtype: "f32" as const, buffer, offset: 16 };
 * assertDisjoint("scale", [["y", y]], [["x", x]]);
 * let threw = false;
 * try {
 *   assertDisjoint("scale", [["y", x]], [["x", x]]);
 * } catch {
 *   threw = true;
 * }
 * if (!threw) throw new Error("an output aliasing its input must be rejected");
 * ```
 */
export const assertDisjoint = (
  op: string,
  written: ReadonlyArray<readonly [string, Tensor]>,
  read: ReadonlyArray<readonly [string, Tensor]>,
): void => {
  const all = [...written, ...read];
  written.forEach(([name, t], i) => {
    for (const [other, u] of all.slice(i + 1)) {
      if (overlaps(t, u)) {
        throw new ShapeMismatch({ op, detail: `${name} overlaps ${other} in the same buffer` });
      }
    }
  });
};
