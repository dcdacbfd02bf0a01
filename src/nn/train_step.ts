/**
 * One optimizer step with a NaN guard, shared by SFT and GRPO: the caller records its
 * forward/backward passes (gradients accumulate into the parameters), then the global gradient
 * norm is computed and read back together with the caller's scalars in one wait. Only when every
 * value is finite is the AdamW update recorded and submitted; otherwise the step is skipped and
 * the weights stay as they were.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { AdamW } from "./optimizer.ts";
import type { Vlm } from "./vlm.ts";

/** What a step did. */
export interface StepOutcome {
  /** False when a loss or the gradient norm was NaN/Inf and the update was skipped. */
  readonly applied: boolean;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** The caller's readouts, in the order it returned them. */
  readonly readouts: ReadonlyArray<Float32Array>;
  /** Host seconds spent waiting for the GPU (forward/backward of the step). */
  readonly waitSeconds: number;
}

/**
 * Runs one step: zero gradients, `record` (returns f32 tensors to read back, e.g. loss sums),
 * gradient norm, one readback, then the guarded update at learning rate `lr`.
 */
export const optimizerStep = async (
  vlm: Vlm,
  optimizer: AdamW,
  arena: Arena,
  lr: number,
  record: (rec: CommandRecorder) => ReadonlyArray<Tensor>,
): Promise<StepOutcome> => {
  const rt = vlm.runtime;
  const rec = new CommandRecorder(rt, "step");
  vlm.params.zeroGrads(rec);
  const readouts = record(rec);
  const clip = optimizer.gradientNorm(rec, arena);
  for (const t of readouts) rec.read(t);
  rec.read(clip);
  const started = performance.now();
  const { arrays } = await rec.submit().resolve();
  const waitSeconds = (performance.now() - started) / 1000;
  const values = arrays.map((a) => Float32Array.from(a));
  const gradNorm = values.at(-1)![1]!;
  const finite = values.every((a) => a.every(Number.isFinite));
  if (finite) {
    const update = new CommandRecorder(rt, "update");
    optimizer.update(update, clip, lr);
    update.submit();
  }
  arena.reset();
  return { applied: finite, gradNorm, readouts: values.slice(0, -1), waitSeconds };
};
