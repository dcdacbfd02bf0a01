/**
 * Typed failures of the GPU runtime. Each is a `Schema.TaggedError`, so it can be yielded in
 * Effect code, matched with `Effect.catchTag`, and thrown from plain synchronous code.
 *
 * @module
 */
import { Schema } from "effect";

/** The exact command that gives a Debian machine a CPU WebGPU adapter (Mesa lavapipe). */
export const LAVAPIPE_INSTALL = "apt-get install -y mesa-vulkan-drivers libvulkan1";

/** No WebGPU adapter or device could be obtained; `message` tells the user what to install. */
export class GpuUnavailable extends Schema.TaggedError<GpuUnavailable>()("GpuUnavailable", {
  reason: Schema.String,
}) {
  override get message(): string {
    return `No WebGPU adapter: ${this.reason}. On Debian/Ubuntu install Mesa's CPU Vulkan driver ` +
      `with \`${LAVAPIPE_INSTALL}\` (as root, after apt-get update), or run on a machine with a ` +
      `GPU and a Vulkan, Metal or D3D12 driver.`;
  }
}

/** The device was lost (driver reset, out of memory, destroyed) while work was outstanding. */
export class GpuDeviceLost extends Schema.TaggedError<GpuDeviceLost>()("GpuDeviceLost", {
  reason: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `WebGPU device lost (${this.reason}): ${this.detail}`;
  }
}

/** An op was given tensors whose shapes or dtypes do not fit together. */
export class ShapeMismatch extends Schema.TaggedError<ShapeMismatch>()("ShapeMismatch", {
  op: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.op}: ${this.detail}`;
  }
}

/** A tensor does not fit in one storage binding of this device and the op cannot split it. */
export class TensorTooLarge extends Schema.TaggedError<TensorTooLarge>()("TensorTooLarge", {
  op: Schema.String,
  bytes: Schema.Number,
  limit: Schema.Number,
}) {
  override get message(): string {
    return `${this.op}: tensor of ${this.bytes} bytes exceeds this device's storage binding ` +
      `limit of ${this.limit} bytes`;
  }
}
