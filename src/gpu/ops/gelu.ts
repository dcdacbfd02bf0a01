/**
 * GELU (exact erf form, PyTorch's `nn.GELU()`), forward and backward; used by the vision merger.
 *
 * @module
 */
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";

/** Records y = gelu(x). Shapes: x, y any equal shapes, f32. */
export const geluForward = (rec: CommandRecorder, x: Tensor, y: Tensor): void => {
  expectShape("geluForward", "y", y, x.shape);
  expectShape("geluForward", "x", x, x.shape);
  const count = numel(x.shape);
  const pipeline = rec.runtime.pipelines.get({ kernel: "gelu_fwd.wgsl" });
  rec.dispatch(pipeline, [x, y], grid1d(count, 256), packParams([{ u32: count }]));
};

/** Records dx = dy · gelu'(x). Shapes: x, dy, dx equal, f32. */
export const geluBackward = (rec: CommandRecorder, x: Tensor, dy: Tensor, dx: Tensor): void => {
  expectShape("geluBackward", "x", x, x.shape);
  expectShape("geluBackward", "dy", dy, x.shape);
  expectShape("geluBackward", "dx", dx, x.shape);
  const count = numel(x.shape);
  const pipeline = rec.runtime.pipelines.get({ kernel: "gelu_bwd.wgsl" });
  rec.dispatch(pipeline, [x, dy, dx], grid1d(count, 256), packParams([{ u32: count }]));
};
