/**
 * Elementwise ops (kernels/elementwise_fwd.wgsl, kernels/elementwise_bwd.wgsl): add (with an
 * optional broadcast row vector), in-place scaled add (residual stream, gradient accumulation),
 * scale, SiLU and SwiGLU forward and backward.
 *
 * Each op reads and writes vec4 when the element count (and broadcast row length) is a multiple of
 * 4, one f32 per invocation otherwise, and splits tensors larger than one storage binding into
 * contiguous chunks.
 *
 * @module
 */
import { TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { assertDisjoint } from "./disjoint.ts";

/** Options shared by every elementwise op. */
export interface ElementwiseOptions {
  /** Binding limit to split against; defaults to the device's. Smaller values force splitting. */
  readonly maxBindingBytes?: number;
}

const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/** `length` elements of `t` from element `start`, as a 1-D tensor of its own. */
const slice = (t: Tensor, start: number, length: number): Tensor => ({
  ...t,
  shape: [length],
  offset: t.offset + start * 4,
});

interface Launch {
  readonly op: string;
  readonly kernel: "elementwise_fwd.wgsl" | "elementwise_bwd.wgsl";
  readonly entryPoint: string;
  /** Tensors of `count` elements, in binding order. */
  readonly tensors: ReadonlyArray<Tensor>;
  readonly count: number;
  /** A broadcast row (bound whole, after the first tensor) and its length. */
  readonly row?: Tensor;
  readonly alpha?: number;
}

const launch = (rec: CommandRecorder, l: Launch, options: ElementwiseOptions): void => {
  const rowLength = l.row === undefined ? 1 : numel(l.row.shape);
  const vec4 = l.count % 4 === 0 && rowLength % 4 === 0;
  const width = vec4 ? 4 : 1;
  const pipeline = rec.runtime.pipelines.get({
    kernel: l.kernel,
    entryPoint: l.entryPoint,
    defines: { VEC4: vec4 },
  });
  const limit = options.maxBindingBytes ?? rec.runtime.maxBindingBytes;
  const alignElements = rec.runtime.device.limits.minStorageBufferOffsetAlignment / 4;
  // Chunk starts keep binding offsets aligned, whole vec4s and whole broadcast rows.
  const granule = lcm(lcm(alignElements, width), rowLength);
  const chunk = l.count * 4 <= limit ? l.count : Math.floor(limit / 4 / granule) * granule;
  if (chunk <= 0) throw new TensorTooLarge({ op: l.op, bytes: granule * 4, limit });
  for (let start = 0; start < l.count; start += chunk) {
    const length = Math.min(chunk, l.count - start);
    const views = l.tensors.map((t) => l.count <= chunk ? t : slice(t, start, length));
    const bindings = l.row === undefined ? views : [views[0]!, l.row, ...views.slice(1)];
    const params = packParams([
      { u32: length / width },
      { u32: rowLength / width },
      { f32: l.alpha ?? 1 },
    ]);
    rec.dispatch(pipeline, bindings, grid1d(length / width, 256), params);
  }
};

const sameShape = (op: string, named: ReadonlyArray<readonly [string, Tensor]>): number => {
  const shape = named[0]![1].shape;
  for (const [name, t] of named) expectShape(op, name, t, shape);
  return numel(shape);
};

/**
 * Records `out = a + b`. Shapes (f32): a [..., N]; b either a's shape or a row [N] broadcast over
 * every row; out a's shape (a third tensor: WebGPU forbids binding one buffer twice when written).
 *
 * @example Add a bias row to every row
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { add } from "./elementwise.ts";
 *
 * const program = Effect.gen(function* () {
 *   const rt = new GpuRuntime(yield* Gpu);
 *   const x = rt.createTensor([2, 2], "f32", new Float32Array([1, 2, 3, 4]));
 *   const row = rt.createTensor([2], "f32", new Float32Array([10, 20]));
 *   const y = rt.createTensor([2, 2]);
 *   const rec = new CommandRecorder(rt);
 *   add(rec, x, row, y);
 *   rec.read(y);
 *   return yield* Effect.promise(() => rec.submit().resolve());
 * });
 * const { arrays } = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * if (arrays[0]!.join() !== "11,22,13,24") throw new Error(`got ${arrays[0]}`);
 * ```
 */
export const add = (
  rec: CommandRecorder,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: ElementwiseOptions = {},
): void => {
  const op = "add";
  const broadcast = b.shape.length === 1 && a.shape.length > 1;
  if (broadcast) {
    expectShape(op, "b", b, [a.shape.at(-1)!]);
    const count = sameShape(op, [["a", a], ["out", out]]);
    assertDisjoint(op, [["out", out]], [["a", a], ["b", b]]);
    if (count === 0) return;
    launch(rec, {
      op,
      kernel: "elementwise_fwd.wgsl",
      entryPoint: "add_row",
      tensors: [a, out],
      row: b,
      count,
    }, options);
    return;
  }
  const count = sameShape(op, [["a", a], ["b", b], ["out", out]]);
  assertDisjoint(op, [["out", out]], [["a", a], ["b", b]]);
  if (count === 0) return;
  launch(rec, {
    op,
    kernel: "elementwise_fwd.wgsl",
    entryPoint: "add",
    tensors: [a, b, out],
    count,
  }, options);
};

/**
 * Records `y += alpha · x` in place (residual add into the stream, gradient accumulation).
 * Shapes (f32): x and y equal.
 */
export const addScaled = (
  rec: CommandRecorder,
  x: Tensor,
  y: Tensor,
  alpha = 1,
  options: ElementwiseOptions = {},
): void => {
  const count = sameShape("addScaled", [["x", x], ["y", y]]);
  assertDisjoint("addScaled", [["y", y]], [["x", x]]);
  if (count === 0) return;
  launch(rec, {
    op: "addScaled",
    kernel: "elementwise_fwd.wgsl",
    entryPoint: "add_scaled",
    tensors: [x, y],
    count,
    alpha,
  }, options);
};

/** Records `y = alpha · x`. Shapes (f32): x and y equal, distinct tensors. */
export const scale = (
  rec: CommandRecorder,
  x: Tensor,
  y: Tensor,
  alpha: number,
  options: ElementwiseOptions = {},
): void => {
  const count = sameShape("scale", [["x", x], ["y", y]]);
  assertDisjoint("scale", [["y", y]], [["x", x]]);
  if (count === 0) return;
  launch(rec, {
    op: "scale",
    kernel: "elementwise_fwd.wgsl",
    entryPoint: "scale",
    tensors: [x, y],
    count,
    alpha,
  }, options);
};

/** Records `y = silu(x) = x·sigmoid(x)`. Shapes (f32): x and y equal. */
export const siluForward = (
  rec: CommandRecorder,
  x: Tensor,
  y: Tensor,
  options: ElementwiseOptions = {},
): void => {
  const count = sameShape("siluForward", [["x", x], ["y", y]]);
  assertDisjoint("siluForward", [["y", y]], [["x", x]]);
  if (count === 0) return;
  launch(rec, {
    op: "siluForward",
    kernel: "elementwise_fwd.wgsl",
    entryPoint: "silu_fwd",
    tensors: [x, y],
    count,
  }, options);
};

/** Records `dx = dy · silu'(x)`. Shapes (f32): x, dy, dx equal. */
export const siluBackward = (
  rec: CommandRecorder,
  x: Tensor,
  dy: Tensor,
  dx: Tensor,
  options: ElementwiseOptions = {},
): void => {
  const count = sameShape("siluBackward", [["x", x], ["dy", dy], ["dx", dx]]);
  assertDisjoint("siluBackward", [["dx", dx]], [["x", x], ["dy", dy]]);
  if (count === 0) return;
  launch(rec, {
    op: "siluBackward",
    kernel: "elementwise_bwd.wgsl",
    entryPoint: "silu_bwd",
    tensors: [x, dy, dx],
    count,
  }, options);
};

/** Records `y = silu(gate) · up` (Qwen2's gated MLP). Shapes (f32): gate, up, y equal. */
export const swigluForward = (
  rec: CommandRecorder,
  gate: Tensor,
  up: Tensor,
  y: Tensor,
  options: ElementwiseOptions = {},
): void => {
  const count = sameShape("swigluForward", [["gate", gate], ["up", up], ["y", y]]);
  assertDisjoint("swigluForward", [["y", y]], [["gate", gate], ["up", up]]);
  if (count === 0) return;
  launch(rec, {
    op: "swigluForward",
    kernel: "elementwise_fwd.wgsl",
    entryPoint: "swiglu",
    tensors: [gate, up, y],
    count,
  }, options);
};

/**
 * Records the SwiGLU backward: `dgate = dy · up · silu'(gate)`, `dup = dy · silu(gate)`.
 * Shapes (f32): gate, up, dy, dgate, dup equal.
 */
export const swigluBackward = (
  rec: CommandRecorder,
  gate: Tensor,
  up: Tensor,
  dy: Tensor,
  dgate: Tensor,
  dup: Tensor,
  options: ElementwiseOptions = {},
): void => {
  const op = "swigluBackward";
  const count = sameShape(op, [
    ["gate", gate],
    ["up", up],
    ["dy", dy],
    ["dgate", dgate],
    ["dup", dup],
  ]);
  assertDisjoint(op, [["dgate", dgate], ["dup", dup]], [["gate", gate], ["up", up], ["dy", dy]]);
  if (count === 0) return;
  launch(rec, {
    op,
    kernel: "elementwise_bwd.wgsl",
    entryPoint: "swiglu_bwd",
    tensors: [gate, up, dy, dgate, dup],
    count,
  }, options);
};
