/**
 * Elementwise ops of the transformer blocks: the residual add and the SwiGLU gate
 * (silu(gate) ⊙ up) with its backward.
 *
 * @module
 */
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";

const dispatchElementwise = (
  rec: CommandRecorder,
  kernel: string,
  tensors: ReadonlyArray<Tensor>,
  count: number,
) =>
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel }),
    tensors,
    grid1d(count, 256),
    packParams([{ u32: count }]),
  );

/** Records out = a + b. Shapes: a, b, out equal, f32; `out` must be a third tensor. */
export const add = (rec: CommandRecorder, a: Tensor, b: Tensor, out: Tensor): void => {
  for (const [name, t] of [["a", a], ["b", b], ["out", out]] as const) {
    expectShape("add", name, t, a.shape);
  }
  dispatchElementwise(rec, "add.wgsl", [a, b, out], numel(a.shape));
};

/** Records out = silu(gate) ⊙ up. Shapes: gate, up, out equal, f32. */
export const swigluForward = (
  rec: CommandRecorder,
  gate: Tensor,
  up: Tensor,
  out: Tensor,
): void => {
  for (const [name, t] of [["gate", gate], ["up", up], ["out", out]] as const) {
    expectShape("swigluForward", name, t, gate.shape);
  }
  dispatchElementwise(rec, "swiglu_fwd.wgsl", [gate, up, out], numel(gate.shape));
};

/** Records dgate and dup of `swigluForward` for dout. Shapes: all equal, f32. */
export const swigluBackward = (
  rec: CommandRecorder,
  gate: Tensor,
  up: Tensor,
  dout: Tensor,
  dgate: Tensor,
  dup: Tensor,
): void => {
  const named = [["gate", gate], ["up", up], ["dout", dout], ["dgate", dgate], [
    "dup",
    dup,
  ]] as const;
  for (const [name, t] of named) expectShape("swigluBackward", name, t, gate.shape);
  dispatchElementwise(rec, "swiglu_bwd.wgsl", [gate, up, dout, dgate, dup], numel(gate.shape));
};
