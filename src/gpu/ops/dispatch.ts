/**
 * Helpers shared by op launchers: splitting a large 1-D grid over two dimensions and packing
 * uniform parameters.
 *
 * @module
 */
import type { Workgroups } from "../recorder.ts";

/** Work-group counts for `n` items at `perGroup` items each, folded into y past the 65535 limit. */
export const grid1d = (n: number, perGroup: number, maxPerDim = 65535): Workgroups => {
  const groups = Math.ceil(n / perGroup);
  if (groups <= maxPerDim) return [groups, 1, 1];
  return [maxPerDim, Math.ceil(groups / maxPerDim), 1];
};

/** Packs u32/i32/f32 fields into a uniform block (each field 4 bytes, in order). */
export const packParams = (
  fields: ReadonlyArray<{ u32: number } | { i32: number } | { f32: number }>,
) => {
  const view = new DataView(
    new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16)),
  );
  fields.forEach((field, i) => {
    if ("u32" in field) view.setUint32(4 * i, field.u32, true);
    else if ("i32" in field) view.setInt32(4 * i, field.i32, true);
    else view.setFloat32(4 * i, field.f32, true);
  });
  return new Uint8Array(view.buffer);
};
