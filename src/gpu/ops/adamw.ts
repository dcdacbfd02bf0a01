/**
 * The AdamW optimizer step (kernels/adamw.wgsl): one dispatch per parameter tensor (per
 * binding-sized chunk of a larger one), with the gradient-clip scale read from the GPU buffer that
 * `gradClipStats` (reduce.ts) wrote, so a whole optimizer step needs no readback.
 *
 * @module
 */
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { assertDisjoint } from "./disjoint.ts";

/** Hyper-parameters of one AdamW step. */
export interface AdamWOptions {
  /** Learning rate of this step. */
  readonly lr: number;
  /** 1-based step count t, for the bias corrections 1 − βᵗ. */
  readonly step: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly eps?: number;
  /** Decoupled weight decay; default 0.01 (PyTorch's AdamW default). */
  readonly weightDecay?: number;
  /** Multiplies the gradient first, e.g. 1 / micro-batches for accumulated gradients; default 1. */
  readonly gradScale?: number;
  /** `gradClipStats` output [3]: its clip scale (index 2) multiplies the gradient. */
  readonly clipStats?: Tensor;
  /** Binding limit to split against; defaults to the device's. Smaller values force splitting. */
  readonly maxBindingBytes?: number;
}

/**
 * Records one AdamW update of `param` in place, updating the moments `m` and `v`.
 *
 * Shapes (f32): param, grad, m, v equal; clipStats [3].
 *
 * @example Clip the gradient norm on the GPU, then take one AdamW step
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { adamw } from "./adamw.ts";
 * import { gradClipStats, reductionScratchElements } from "./reduce.ts";
 *
 * const program = Effect.gen(function* () {
 *   const rt = new GpuRuntime(yield* Gpu);
 *   const p = rt.createTensor([2], "f32", new Float32Array([1, -1]));
 *   const g = rt.createTensor([2], "f32", new Float32Array([3, 4]));
 *   const m = rt.createTensor([2], "f32", new Float32Array(2));
 *   const v = rt.createTensor([2], "f32", new Float32Array(2));
 *   const stats = rt.createTensor([3]);
 *   const scratch = rt.createTensor([reductionScratchElements(rt, [g])]);
 *   const rec = new CommandRecorder(rt);
 *   gradClipStats(rec, [g], scratch, stats, { maxNorm: 1 });
 *   adamw(rec, p, g, m, v, { lr: 0.1, step: 1, weightDecay: 0, clipStats: stats });
 *   rec.read(stats);
 *   rec.read(p);
 *   return yield* Effect.promise(() => rec.submit().resolve());
 * });
 * const { arrays } = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * const [sumsq, norm] = arrays[0]!;
 * // ‖(3, 4)‖ = 5; Adam's first step moves each parameter by lr against its gradient's sign.
 * if (sumsq !== 25 || norm !== 5) throw new Error(`stats ${arrays[0]}`);
 * const [p0, p1] = arrays[1]!;
 * if (Math.abs(p0! - 0.9) > 1e-6 || Math.abs(p1! + 1.1) > 1e-6) throw new Error(`p ${arrays[1]}`);
 * ```
 */
export const adamw = (
  rec: CommandRecorder,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  options: AdamWOptions,
): void => {
  const op = "adamw";
  for (const [name, t] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) {
    expectShape(op, name, t, param.shape, "f32");
  }
  if (options.clipStats !== undefined) expectShape(op, "clipStats", options.clipStats, [3]);
  assertDisjoint(op, [["param", param], ["m", m], ["v", v]], [
    ["grad", grad],
    ...(options.clipStats ? [["clipStats", options.clipStats] as const] : []),
  ]);
  if (!Number.isInteger(options.step) || options.step < 1) {
    throw new ShapeMismatch({ op, detail: `step must be an integer ≥ 1, got ${options.step}` });
  }
  const count = numel(param.shape);
  if (count === 0) return;
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const vec4 = count % 4 === 0;
  const width = vec4 ? 4 : 1;
  const clip = options.clipStats !== undefined;
  const pipeline = rec.runtime.pipelines.get({
    kernel: "adamw.wgsl",
    defines: { VEC4: vec4, CLIP: clip },
  });
  const limit = options.maxBindingBytes ?? rec.runtime.maxBindingBytes;
  const align = rec.runtime.device.limits.minStorageBufferOffsetAlignment / 4;
  const granule = Math.max(align, width);
  const chunk = count * 4 <= limit ? count : Math.floor(limit / 4 / granule) * granule;
  if (chunk <= 0) throw new TensorTooLarge({ op, bytes: count * 4, limit });
  for (let start = 0; start < count; start += chunk) {
    const length = Math.min(chunk, count - start);
    const view = (t: Tensor): Tensor =>
      chunk === count ? t : { ...t, shape: [length], offset: t.offset + start * 4 };
    const params = packParams([
      { u32: length / width },
      { f32: options.lr },
      { f32: beta1 },
      { f32: beta2 },
      { f32: 1 - beta1 },
      { f32: 1 - beta2 },
      { f32: options.eps ?? 1e-8 },
      { f32: options.weightDecay ?? 0.01 },
      { f32: 1 / (1 - beta1 ** options.step) },
      { f32: 1 / Math.sqrt(1 - beta2 ** options.step) },
      { f32: options.gradScale ?? 1 },
    ]);
    const bindings = [view(param), view(grad), view(m), view(v)];
    if (options.clipStats !== undefined) bindings.push(options.clipStats);
    rec.dispatch(pipeline, bindings, grid1d(length / width, 256), params);
  }
};
