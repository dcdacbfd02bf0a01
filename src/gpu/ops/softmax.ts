/**
 * Row softmax over the last axis, forward and backward (kernels/softmax_fwd.wgsl,
 * kernels/softmax_bwd.wgsl). One workgroup per row, so it suits rows of tens to thousands of
 * elements (attention scores, logits over a small vocabulary).
 *
 * @module
 */
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { byteLength, describe, expectShape, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";

/** Options of both softmax directions. */
export interface SoftmaxOptions {
  /** Multiplies the input before the softmax (e.g. 1/√d for attention scores); default 1. */
  readonly scale?: number;
  /** Invocations per row (a power of two); default 64. */
  readonly workgroupSize?: number;
}

const rowsAndCols = (op: string, t: Tensor): { rows: number; cols: number } => {
  const cols = t.shape.at(-1);
  if (cols === undefined || cols === 0) {
    throw new ShapeMismatch({ op, detail: `input is ${describe(t)}, needs a non-empty last axis` });
  }
  return { rows: t.shape.slice(0, -1).reduce((a, b) => a * b, 1), cols };
};

const checkBinding = (rec: CommandRecorder, op: string, tensors: ReadonlyArray<Tensor>): void => {
  const limit = rec.runtime.maxBindingBytes;
  for (const t of tensors) {
    if (byteLength(t) > limit) throw new TensorTooLarge({ op, bytes: byteLength(t), limit });
  }
};

const pipelineFor = (rec: CommandRecorder, kernel: string, options: SoftmaxOptions) => {
  const wg = options.workgroupSize ?? 64;
  if (!Number.isInteger(Math.log2(wg)) || wg > 256) {
    throw new RangeError(`softmax: workgroupSize ${wg} is not a power of two ≤ 256`);
  }
  return rec.runtime.pipelines.get({ kernel, constants: { WG: wg } });
};

/**
 * Records `y = softmax(scale · x)` over the last axis.
 *
 * Shapes: x [..., N] f32, y [..., N] f32 (same shape).
 *
 * @example
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { softmaxForward } from "./softmax.ts";
 *
 * const program = Effect.gen(function* () {
 *   const rt = new GpuRuntime(yield* Gpu);
 *   const x = rt.createTensor([1, 2], "f32", new Float32Array([0, Math.log(3)]));
 *   const y = rt.createTensor([1, 2]);
 *   const rec = new CommandRecorder(rt);
 *   softmaxForward(rec, x, y);
 *   rec.read(y);
 *   return yield* Effect.promise(() => rec.submit().resolve());
 * });
 * const { arrays } = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * const [a, b] = arrays[0]!;
 * if (Math.abs(a! - 0.25) > 1e-6 || Math.abs(b! - 0.75) > 1e-6) throw new Error(`got ${a}, ${b}`);
 * ```
 */
export const softmaxForward = (
  rec: CommandRecorder,
  x: Tensor,
  y: Tensor,
  options: SoftmaxOptions = {},
): void => {
  const op = "softmaxForward";
  const { rows, cols } = rowsAndCols(op, x);
  expectShape(op, "x", x, x.shape);
  expectShape(op, "y", y, x.shape);
  checkBinding(rec, op, [x, y]);
  const params = packParams([{ u32: rows }, { u32: cols }, { f32: options.scale ?? 1 }]);
  rec.dispatch(pipelineFor(rec, "softmax_fwd.wgsl", options), [x, y], grid1d(rows, 1), params);
};

/**
 * Records the softmax backward `dx = scale · y ⊙ (dy − Σ_last dy ⊙ y)`, where `y` is the forward
 * output.
 *
 * Shapes: y, dy, dx [..., N] f32 (all the same shape).
 */
export const softmaxBackward = (
  rec: CommandRecorder,
  y: Tensor,
  dy: Tensor,
  dx: Tensor,
  options: SoftmaxOptions = {},
): void => {
  const op = "softmaxBackward";
  const { rows, cols } = rowsAndCols(op, y);
  expectShape(op, "y", y, y.shape);
  expectShape(op, "dy", dy, y.shape);
  expectShape(op, "dx", dx, y.shape);
  checkBinding(rec, op, [y, dy, dx]);
  const params = packParams([{ u32: rows }, { u32: cols }, { f32: options.scale ?? 1 }]);
  rec.dispatch(
    pipelineFor(rec, "softmax_bwd.wgsl", options),
    [y, dy, dx],
    grid1d(rows, 1),
    params,
  );
};
