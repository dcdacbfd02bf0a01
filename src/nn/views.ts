/**
 * Row slices of a tensor without a copy: the vision tower's fused qkv weight seen as separate q,
 * k and v weights.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { BYTES_PER_ELEMENT, numel, type Tensor } from "../gpu/tensor.ts";

/**
 * Rows [start, start + count) of `t` (first axis), as a tensor of shape [count, ...rest]. The byte
 * offset must be a multiple of the device's storage offset alignment; a config whose dimensions
 * break that is reported, not silently copied.
 */
export const rowSlice = (rt: GpuRuntime, t: Tensor, start: number, count: number): Tensor => {
  const rest = t.shape.slice(1);
  const offset = t.offset + start * numel(rest) * BYTES_PER_ELEMENT[t.dtype];
  const align = rt.device.limits.minStorageBufferOffsetAlignment;
  if (offset % align !== 0) {
    throw new RangeError(
      `rowSlice: byte offset ${offset} is not a multiple of this device's storage offset ` +
        `alignment ${align}; choose dimensions with rows of a multiple of ${align} bytes`,
    );
  }
  return { ...t, shape: [count, ...rest], offset };
};
