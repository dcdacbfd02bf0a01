/**
 * Fill a tensor with one 32-bit value (zeros for gradients, NaN to poison outputs in tests).
 *
 * @module
 */
import type { CommandRecorder } from "../recorder.ts";
import { numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";

const bitsOf = (value: number): number => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true);
};

/**
 * Records `t[:] = value` for a 32-bit tensor (f32 bit pattern for f32, the integer otherwise).
 * A tensor larger than one storage binding (a 3B embedding's gradient) is filled in chunks.
 */
export const fill = (rec: CommandRecorder, t: Tensor, value: number): void => {
  if (t.dtype === "f16" || t.dtype === "bf16") {
    throw new TypeError(`fill: ${t.dtype} tensors are not supported`);
  }
  const pipeline = rec.runtime.pipelines.get({ kernel: "fill.wgsl" });
  const count = numel(t.shape);
  const bits = t.dtype === "f32" ? bitsOf(value) : value >>> 0;
  const limit = rec.runtime.maxBindingBytes;
  const align = rec.runtime.device.limits.minStorageBufferOffsetAlignment / 4;
  const chunk = count * 4 <= limit ? count : Math.floor(limit / 4 / align) * align;
  for (let start = 0; start < count; start += chunk) {
    const length = Math.min(chunk, count - start);
    const view = chunk === count ? t : { ...t, shape: [length], offset: t.offset + start * 4 };
    rec.dispatch(
      pipeline,
      [view],
      grid1d(length, 256),
      packParams([{ u32: length }, { u32: bits }]),
    );
  }
};
