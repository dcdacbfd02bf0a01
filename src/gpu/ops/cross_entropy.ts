/**
 * Softmax cross-entropy, per-token log-probabilities and entropies over logit rows, fused into
 * one pass per row, and the gradients with respect to the logits (kernels/cross_entropy_fwd.wgsl,
 * kernels/cross_entropy_bwd.wgsl). Logits larger than one storage binding are processed in row
 * blocks; everything stays on the GPU (the mean loss is a 2-element tensor, read back when the
 * caller chooses).
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { rowChunks } from "./row_chunks.ts";
import { threadsPerRow } from "./row_reduce.ts";

/** Target id of a row that takes no part in the loss (the u32 image of PyTorch's −100). */
export const IGNORE_INDEX = 0xffffffff;

/** Per-row outputs of `tokenLogProbs`, each [N] f32. */
export interface TokenStats {
  /** log Σ_v exp(z[n, v]) with z = logits / temperature. */
  readonly lse: Tensor;
  /** z[n, target[n]] − lse[n]; 0 for ignored rows, NaN for a target ≥ V. */
  readonly logp: Tensor;
  /** Entropy of softmax(z[n]) in nats (for logging; it has no backward). */
  readonly entropy: Tensor;
}

/** Options shared by the forward and backward ops. */
export interface TemperatureOption {
  /** Logits are divided by this before the softmax; default 1. */
  readonly temperature?: number;
}

const checkLogits = (op: string, logits: Tensor, targets: Tensor) => {
  const [rows, vocab] = logits.shape;
  if (logits.shape.length !== 2 || rows === undefined || vocab === undefined || vocab === 0) {
    throw new ShapeMismatch({ op, detail: `logits must be [N, V], got [${logits.shape}]` });
  }
  expectShape(op, "logits", logits, [rows, vocab]);
  expectShape(op, "targets", targets, [rows], "u32");
  return { rows, vocab };
};

const temperatureOf = (op: string, options: TemperatureOption): number => {
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`${op}: temperature must be a positive finite number, got ${temperature}`);
  }
  return temperature;
};

/** Logit row blocks that fit one binding and one grid dimension (65535 rows). */
const blocksOf = (rec: CommandRecorder, op: string, t: Tensor) =>
  rowChunks(
    op,
    t,
    rec.runtime.maxBindingBytes,
    rec.runtime.device.limits.minStorageBufferOffsetAlignment,
    65535,
  );

/**
 * Records, for logits [N, V] and targets u32 [N], the per-row log-sum-exp, the log-probability of
 * the target and the entropy of softmax(logits / temperature) into `out` (each [N] f32).
 * Rows whose target is `IGNORE_INDEX` get logp 0.
 */
export const tokenLogProbs = (
  rec: CommandRecorder,
  logits: Tensor,
  targets: Tensor,
  out: TokenStats,
  options: TemperatureOption = {},
): void => {
  const op = "tokenLogProbs";
  const { rows, vocab } = checkLogits(op, logits, targets);
  const temperature = temperatureOf(op, options);
  expectShape(op, "lse", out.lse, [rows]);
  expectShape(op, "logp", out.logp, [rows]);
  expectShape(op, "entropy", out.entropy, [rows]);
  const tpr = threadsPerRow(vocab);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "cross_entropy_fwd.wgsl",
    defines: { ROW_STATS: true },
    constants: { TPR: tpr },
  });
  for (const block of blocksOf(rec, op, logits)) {
    rec.dispatch(
      pipeline,
      [block.view, targets, out.lse, out.logp, out.entropy],
      grid1d(block.rows, 256 / tpr),
      packParams([{ u32: block.rows }, { u32: vocab }, { u32: block.first }, {
        f32: temperature,
      }]),
    );
  }
};

/**
 * Records the mean softmax cross-entropy over rows whose target is not `IGNORE_INDEX`:
 * `tokenLogProbs` into `out`, then `out.summary` [2] f32 = [mean loss, number of rows counted]
 * (mean 0 when every row is ignored).
 *
 * @example Mean loss of two rows, one ignored, read back once
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { crossEntropyForward, IGNORE_INDEX } from "./cross_entropy.ts";
 *
 * const summary = await Effect.runPromise(Effect.provide(
 *   Effect.gen(function* () {
 *     const rt = new GpuRuntime(yield* Gpu);
 *     const logits = rt.createTensor([2, 3], "f32", new Float32Array([0, 0, 0, 5, 1, 2]));
 *     const targets = rt.createTensor([2], "u32", new Uint32Array([1, IGNORE_INDEX]));
 *     const stat = () => rt.createTensor([2]);
 *     const out = { lse: stat(), logp: stat(), entropy: stat(), summary: stat() };
 *     const rec = new CommandRecorder(rt);
 *     crossEntropyForward(rec, logits, targets, out);
 *     rec.read(out.summary);
 *     const { arrays } = yield* Effect.promise(() => rec.submit().resolve());
 *     return arrays[0]!;
 *   }),
 *   Gpu.layer,
 * ));
 * // Uniform logits over 3 classes: loss ln 3 on the one counted row.
 * if (Math.abs(summary[0]! - Math.log(3)) > 1e-6 || summary[1] !== 1) throw new Error("loss");
 * ```
 */
export const crossEntropyForward = (
  rec: CommandRecorder,
  logits: Tensor,
  targets: Tensor,
  out: TokenStats & { readonly summary: Tensor },
  options: TemperatureOption = {},
): void => {
  const op = "crossEntropyForward";
  const { rows } = checkLogits(op, logits, targets);
  expectShape(op, "summary", out.summary, [2]);
  tokenLogProbs(rec, logits, targets, out, options);
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel: "cross_entropy_fwd.wgsl", defines: { MEAN_LOSS: true } }),
    [targets, out.logp, out.summary],
    [1],
    packParams([{ u32: rows }]),
  );
};

/** Tensors of `crossEntropyBackward`. */
export interface CrossEntropyBackward {
  /** [N, V] logits of the forward pass. */
  readonly logits: Tensor;
  /** [N] u32 targets (`IGNORE_INDEX` rows get zero gradient). */
  readonly targets: Tensor;
  /** [N] saved by the forward. */
  readonly lse: Tensor;
  /** [2] saved by the forward: [mean loss, rows counted]. */
  readonly summary: Tensor;
  /** [N, V] written: d(gradScale · mean loss)/d logits. */
  readonly dlogits: Tensor;
}

/**
 * Records dlogits = (softmax(z) − onehot(target)) · gradScale / count / temperature for the
 * mean cross-entropy (count read on the GPU from `summary`). `gradScale` is the gradient of the
 * objective with respect to the mean loss (default 1).
 */
export const crossEntropyBackward = (
  rec: CommandRecorder,
  t: CrossEntropyBackward,
  options: TemperatureOption & { readonly gradScale?: number } = {},
): void => {
  const op = "crossEntropyBackward";
  expectShape(op, "summary", t.summary, [2]);
  logitGradient(rec, op, "cross_entropy", t.logits, t.targets, t.lse, t.summary, t.dlogits, {
    temperature: temperatureOf(op, options),
    gradScale: options.gradScale ?? 1,
  });
};

/** Tensors of `tokenLogProbsBackward`. */
export interface TokenLogProbsBackward {
  /** [N, V] logits of the forward pass. */
  readonly logits: Tensor;
  /** [N] u32 targets (`IGNORE_INDEX` rows get zero gradient). */
  readonly targets: Tensor;
  /** [N] saved by `tokenLogProbs`. */
  readonly lse: Tensor;
  /** [N] gradient of the objective with respect to each row's logp. */
  readonly dlogp: Tensor;
  /** [N, V] written. */
  readonly dlogits: Tensor;
}

/**
 * Records dlogits = dlogp · (onehot(target) − softmax(z)) / temperature, the gradient of the
 * per-token log-probabilities (the GRPO policy loss flows through these).
 */
export const tokenLogProbsBackward = (
  rec: CommandRecorder,
  t: TokenLogProbsBackward,
  options: TemperatureOption = {},
): void => {
  const op = "tokenLogProbsBackward";
  expectShape(op, "dlogp", t.dlogp, [t.targets.shape[0] ?? 0]);
  logitGradient(rec, op, "token_logp", t.logits, t.targets, t.lse, t.dlogp, t.dlogits, {
    temperature: temperatureOf(op, options),
    gradScale: 1,
  });
};

const logitGradient = (
  rec: CommandRecorder,
  op: string,
  entryPoint: "cross_entropy" | "token_logp",
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  coef: Tensor,
  dlogits: Tensor,
  { temperature, gradScale }: { temperature: number; gradScale: number },
): void => {
  const { rows, vocab } = checkLogits(op, logits, targets);
  expectShape(op, "lse", lse, [rows]);
  expectShape(op, "dlogits", dlogits, [rows, vocab]);
  const tpr = threadsPerRow(vocab);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "cross_entropy_bwd.wgsl",
    entryPoint,
    constants: { TPR: tpr },
  });
  const inputs = blocksOf(rec, op, logits);
  const outputs = blocksOf(rec, op, dlogits);
  inputs.forEach((block, i) => {
    rec.dispatch(
      pipeline,
      [block.view, targets, lse, coef, outputs[i]!.view],
      grid1d(block.rows, 256 / tpr),
      packParams([
        { u32: block.rows },
        { u32: vocab },
        { u32: block.first },
        { f32: temperature },
        { f32: gradScale },
      ]),
    );
  });
};
