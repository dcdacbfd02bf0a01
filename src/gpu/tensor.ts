/**
 * Tensors: a typed view of a region of a GPU buffer. Shapes are row-major; the last dimension is
 * contiguous.
 *
 * @module
 */
import { ShapeMismatch } from "./errors.ts";

/**
 * Element types our kernels read and write. `bf16` (and `f16` weights) are stored two per u32 word,
 * element 2i in the low half; kernels unpack them to f32.
 */
export type DType = "f32" | "f16" | "bf16" | "u32" | "i32";

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  u32: 4,
  i32: 4,
};

/** A dense tensor living in `buffer` from byte `offset` on. */
export interface Tensor {
  readonly shape: ReadonlyArray<number>;
  readonly dtype: DType;
  readonly buffer: GPUBuffer;
  /** Byte offset into `buffer`; a multiple of the device's storage offset alignment. */
  readonly offset: number;
}

/** Number of elements of a shape. */
export const numel = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1);

/** Bytes occupied by a tensor's elements. */
export const byteLength = (t: Pick<Tensor, "shape" | "dtype">): number =>
  numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];

/** "[2, 3, 4] f32", for error messages. */
export const describe = (t: Pick<Tensor, "shape" | "dtype">): string =>
  `[${t.shape.join(", ")}] ${t.dtype}`;

/** Throws `ShapeMismatch` unless `t` has exactly `shape` (`-1` matches any size) and `dtype`. */
export const expectShape = (
  op: string,
  name: string,
  t: Pick<Tensor, "shape" | "dtype">,
  shape: ReadonlyArray<number>,
  dtype: DType = "f32",
): void => {
  const fits = t.shape.length === shape.length &&
    t.shape.every((d, i) => shape[i] === -1 || shape[i] === d) && t.dtype === dtype;
  if (!fits) {
    throw new ShapeMismatch({
      op,
      detail: `${name} is ${describe(t)}, expected [${
        shape.map((d) => d === -1 ? "*" : d).join(", ")
      }] ${dtype}`,
    });
  }
};

/** A view of `t` with another shape of the same element count (no copy). */
export const reshape = (t: Tensor, shape: ReadonlyArray<number>): Tensor => {
  if (numel(shape) !== numel(t.shape)) {
    throw new ShapeMismatch({
      op: "reshape",
      detail: `cannot view ${describe(t)} as [${shape.join(", ")}]`,
    });
  }
  return { ...t, shape };
};
