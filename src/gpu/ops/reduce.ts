/**
 * Reductions (kernels/reduce.wgsl): sum along the last axis, sum of a whole tensor, and the
 * global gradient norm over many tensors with the clip scale `min(1, maxNorm / (norm + 1e-6))`
 * computed on the GPU, so that AdamW can read it without a readback.
 *
 * Whole-tensor reductions run in two passes: every tensor (or binding-sized chunk of one) gets a
 * few workgroups that each reduce a contiguous share and write one partial sum into a scratch
 * tensor, then one workgroup sums the partials. The work assignment is fixed, so results are bit-for-bit deterministic.
 *
 * @module
 */
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import type { GpuRuntime } from "../runtime.ts";
import { byteLength, describe, expectShape, numel, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { isCpuAdapter } from "../adapter.ts";
import { assertDisjoint } from "./disjoint.ts";

const KERNEL = "reduce.wgsl";
/**
 * Elements one partial workgroup reduces before another is added: 4096 on GPUs (16 per
 * invocation); 65536 (256 KiB, cache-sized) on CPU adapters, where a workgroup's barriers are
 * coroutine switches of one thread and few long workgroups beat many short ones.
 */
const elementsPerGroup = (rt: GpuRuntime): number => isCpuAdapter(rt.device) ? 65536 : 4096;
/** Cap on partial workgroups per tensor chunk; beyond it each workgroup's share grows. */
const MAX_GROUPS = 1024;

/** Indices of the values `gradClipStats` writes. */
export const CLIP_STATS = { sumOfSquares: 0, norm: 1, clipScale: 2 } as const;

/** Options of the whole-tensor reductions. */
export interface ReduceOptions {
  /** Binding limit to split against; defaults to the device's. Smaller values force splitting. */
  readonly maxBindingBytes?: number;
}

interface PartialPass {
  readonly view: Tensor;
  readonly n: number;
  /** First scratch slot this pass writes. */
  readonly offset: number;
  readonly groups: number;
}

/** One partial pass per binding-sized chunk of every tensor, with its scratch slots. */
const planPartials = (
  rt: GpuRuntime,
  tensors: ReadonlyArray<Tensor>,
  options: ReduceOptions,
): PartialPass[] => {
  const limit = options.maxBindingBytes ?? rt.maxBindingBytes;
  const align = rt.device.limits.minStorageBufferOffsetAlignment / 4;
  const chunk = Math.floor(limit / 4 / align) * align;
  const passes: PartialPass[] = [];
  let offset = 0;
  for (const t of tensors) {
    const n = numel(t.shape);
    for (let start = 0; start < n; start += chunk) {
      const length = Math.min(chunk, n - start);
      const view = n <= chunk ? t : { ...t, shape: [length], offset: t.offset + start * 4 };
      const groups = Math.min(MAX_GROUPS, Math.ceil(length / elementsPerGroup(rt)));
      passes.push({ view, n: length, offset, groups });
      offset += groups;
    }
  }
  return passes;
};

/**
 * Elements the scratch tensor of `sumAll` / `gradClipStats` needs for these tensors (one per
 * partial workgroup). Allocate it once and reuse it every step.
 */
export const reductionScratchElements = (
  rt: GpuRuntime,
  tensors: ReadonlyArray<Tensor>,
  options: ReduceOptions = {},
): number => Math.max(1, planPartials(rt, tensors, options).reduce((s, p) => s + p.groups, 0));

const checkScratch = (op: string, scratch: Tensor, needed: number): void => {
  if (scratch.dtype !== "f32" || scratch.shape.length !== 1 || scratch.shape[0]! < needed) {
    throw new ShapeMismatch({
      op,
      detail: `scratch is ${describe(scratch)}, needs at least [${needed}] f32`,
    });
  }
};

const recordPartials = (
  rec: CommandRecorder,
  entryPoint: "partial_sum" | "partial_sumsq",
  passes: ReadonlyArray<PartialPass>,
  scratch: Tensor,
): number => {
  const pipeline = rec.runtime.pipelines.get({ kernel: KERNEL, entryPoint });
  for (const pass of passes) {
    if (pass.n === 0) continue;
    const params = packParams([
      { u32: pass.n },
      { u32: pass.offset },
      { u32: pass.groups },
      { u32: 0 },
      { f32: 0 },
      { f32: 1 },
    ]);
    rec.dispatch(pipeline, [pass.view, scratch], [pass.groups], params);
  }
  return passes.reduce((s, p) => s + p.groups, 0);
};

/**
 * Records `out[0] = Σ x` over every element of `x`.
 *
 * Shapes (f32): x any shape; out [1]; scratch [≥ reductionScratchElements(rt, [x])].
 */
export const sumAll = (
  rec: CommandRecorder,
  x: Tensor,
  out: Tensor,
  scratch: Tensor,
  options: ReduceOptions = {},
): void => {
  const op = "sumAll";
  expectShape(op, "x", x, x.shape, "f32");
  expectShape(op, "out", out, [1], "f32");
  assertDisjoint(op, [["scratch", scratch], ["out", out]], [["x", x]]);
  const passes = planPartials(rec.runtime, [x], options);
  const slots = passes.reduce((s, p) => s + p.groups, 0);
  checkScratch(op, scratch, Math.max(1, slots));
  recordPartials(rec, "partial_sum", passes, scratch);
  const params = packParams([
    { u32: slots },
    { u32: 0 },
    { u32: 1 },
    { u32: 0 },
    { f32: 0 },
    { f32: 1 },
  ]);
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel: KERNEL, entryPoint: "combine_sum" }),
    [scratch, out],
    [1],
    params,
  );
};

/**
 * Records the global gradient norm of `grads` (times `gradScale`) and its clip scale into `stats`:
 * `stats[CLIP_STATS.sumOfSquares] = s²·Σ g²`, `stats[CLIP_STATS.norm] = s·√(Σ g²)`,
 * `stats[CLIP_STATS.clipScale] = min(1, maxNorm / (norm + 1e-6))` (1 when `maxNorm` is Infinity).
 *
 * Shapes (f32): grads any shapes; scratch [≥ reductionScratchElements(rt, grads)]; stats [3].
 */
export const gradClipStats = (
  rec: CommandRecorder,
  grads: ReadonlyArray<Tensor>,
  scratch: Tensor,
  stats: Tensor,
  options: ReduceOptions & {
    /** Clip threshold on the global norm (Infinity: never clip). */
    readonly maxNorm: number;
    /** The gradients' true scale (e.g. 1 / micro-batches), as passed to AdamW; default 1. */
    readonly gradScale?: number;
  },
): void => {
  const op = "gradClipStats";
  grads.forEach((g, i) => expectShape(op, `grads[${i}]`, g, g.shape, "f32"));
  expectShape(op, "stats", stats, [3], "f32");
  if (!(options.maxNorm > 0)) {
    throw new RangeError(`${op}: maxNorm must be positive, got ${options.maxNorm}`);
  }
  assertDisjoint(
    op,
    [["scratch", scratch], ["stats", stats]],
    grads.map((g, i) => [`grads[${i}]`, g] as const),
  );
  const passes = planPartials(rec.runtime, grads, options);
  const slots = passes.reduce((s, p) => s + p.groups, 0);
  checkScratch(op, scratch, Math.max(1, slots));
  recordPartials(rec, "partial_sumsq", passes, scratch);
  const params = packParams([
    { u32: slots },
    { u32: 0 },
    { u32: 1 },
    { u32: 0 },
    { f32: options.maxNorm },
    { f32: options.gradScale ?? 1 },
  ]);
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel: KERNEL, entryPoint: "clip_stats" }),
    [scratch, stats],
    [1],
    params,
  );
};

/**
 * Records `out[...] = Σ_j x[..., j]`, the sum along the last axis (one workgroup per row).
 *
 * Shapes (f32): x [..., N] with N > 0; out [...] (x's leading axes; [1] for a 1-D x).
 */
export const sumRows = (rec: CommandRecorder, x: Tensor, out: Tensor): void => {
  const op = "sumRows";
  const n = x.shape.at(-1);
  if (n === undefined || n === 0) {
    throw new ShapeMismatch({ op, detail: `x is ${describe(x)}, needs a non-empty last axis` });
  }
  const lead = x.shape.length === 1 ? [1] : x.shape.slice(0, -1);
  expectShape(op, "x", x, x.shape, "f32");
  expectShape(op, "out", out, lead, "f32");
  assertDisjoint(op, [["out", out]], [["x", x]]);
  const limit = rec.runtime.maxBindingBytes;
  if (byteLength(x) > limit) throw new TensorTooLarge({ op, bytes: byteLength(x), limit });
  const rows = numel(lead);
  const params = packParams([
    { u32: n },
    { u32: 0 },
    { u32: 0 },
    { u32: rows },
    { f32: 0 },
    { f32: 1 },
  ]);
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel: KERNEL, entryPoint: "sum_rows" }),
    [x, out],
    grid1d(rows, 1),
    params,
  );
};
