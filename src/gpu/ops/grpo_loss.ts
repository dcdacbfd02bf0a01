/**
 * The GRPO actor loss on the GPU (kernels/grpo_loss.wgsl): per token the dual-clip PPO surrogate
 * plus kl_coef · a KL estimator, the gradient `dlogp` that `tokenLogProbsBackward` turns into
 * logit gradients, and the batch statistics, all without a readback. The float64 reference is
 * src/rl/grpo_loss.ts.
 *
 * Aggregation is a per-token weight `w`: every mode (token-mean, seq-mean-token-mean, Dr.GRPO) is
 * `loss = Σ_n w_n · L_n`, so one kernel serves them all. The weights are computed on the host by
 * `aggregationWeights` (src/rl/aggregation.ts) over the whole mini-batch and uploaded with the
 * mask and advantages: they depend only on the response mask, which the host already holds after
 * the rollout, and computing them once per mini-batch keeps micro-batch accumulation exact.
 *
 * Statistics are raw sums (see {@link GRPO_STATS}) so micro-batches add up; {@link grpoStatistics}
 * turns a read-back stats tensor into the loss and the token means the trainer logs.
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";

const KERNEL = "grpo_loss.wgsl";
/** Tokens per workgroup of the per-token pass (WG · PER_INVOCATION in the kernel). */
const TOKENS_PER_GROUP = 256 * 16;

/**
 * Slots of the stats tensor: sums and counts over masked-in tokens (the kernel header mirrors
 * them). Counts are f32, exact up to 2^24 tokens per accumulated mini-batch.
 */
export const GRPO_STATS = {
  /** Σ w·L: the loss. */
  loss: 0,
  /** Σ w·L_pg: the policy part of the loss. */
  policyLoss: 1,
  /** Σ w·k: the KL part before kl_coef. */
  klLoss: 2,
  /** Number of masked-in tokens. */
  tokens: 3,
  /** Tokens clipped at 1 + ε_high (A > 0). */
  clippedHigh: 4,
  /** Tokens clipped at 1 − ε_low (A < 0). */
  clippedLow: 5,
  /** Tokens capped by the dual clip (A < 0, ρ > c). */
  clippedDual: 6,
  /** Σ ρ. */
  ratioSum: 7,
  /** min ρ (3.4e38 while no token was seen). */
  ratioMin: 8,
  /** max ρ (−3.4e38 while no token was seen). */
  ratioMax: 9,
  /** Σ k. */
  klSum: 10,
  /** Σ entropy (0 when no entropy was given). */
  entropySum: 11,
} as const;

/** Length of the stats tensor. */
export const GRPO_STAT_COUNT = 12;

/** KL estimators the kernel implements, in the order of their codes in the kernel. */
export const GPU_KL_ESTIMATORS = ["kl", "abs", "mse", "low_var_kl"] as const;

/** Loss settings; a `GrpoLossOptions` of src/rl/grpo_loss.ts fits this shape. */
export interface GrpoLossGpuOptions {
  /** ε_low: the ratio is clipped below at 1 − ε_low. */
  readonly clipLow: number;
  /** ε_high: the ratio is clipped above at 1 + ε_high. */
  readonly clipHigh: number;
  /** Dual-clip constant c (> 1). */
  readonly dualClip: number;
  /** Coefficient of the KL term; 0 leaves KL out entirely (then `refLogp` may be omitted). */
  readonly klCoef: number;
  readonly klEstimator: typeof GPU_KL_ESTIMATORS[number];
  /** Combine into `stats` instead of overwriting it (second and later micro-batches). */
  readonly accumulate?: boolean;
}

/** Per-token inputs, each [N] f32 (N = rows of the teacher-forced batch). */
export interface GrpoLossGpuInputs {
  /** log π_θ of the target tokens (from `tokenLogProbs`). */
  readonly logp: Tensor;
  /** log π_old, recorded right after the rollout. */
  readonly oldLogp: Tensor;
  /** log π_ref of the frozen reference policy; required when klCoef ≠ 0, unused otherwise. */
  readonly refLogp?: Tensor | undefined;
  /** The sequence's group advantage on each of its tokens. */
  readonly advantage: Tensor;
  /** 1 for response tokens that are learned, 0 for prompt and padding. */
  readonly mask: Tensor;
  /** Aggregation weights (`aggregationWeights` rows of the mini-batch); 0 where mask is 0. */
  readonly weight: Tensor;
  /** Per-token entropy (from `tokenLogProbs`), summed into the statistics only. */
  readonly entropy?: Tensor | undefined;
}

/** Tensors `grpoLossGpu` writes. */
export interface GrpoLossGpuOutputs {
  /** [N] w_n · dL_n/dlogp_n: the gradient to feed `tokenLogProbsBackward`; 0 where masked out. */
  readonly dlogp: Tensor;
  /** [N] unweighted per-token loss L_n = L_pg + kl_coef · k; 0 where masked out. */
  readonly tokenLoss: Tensor;
  /** Scratch [grpoLossPartialRows(N), GRPO_STAT_COUNT]: one row of statistics per workgroup. */
  readonly partials: Tensor;
  /** [GRPO_STAT_COUNT] the statistics, overwritten or accumulated. */
  readonly stats: Tensor;
}

/**
 * Rows of the `partials` scratch tensor for N tokens (one per 4096 tokens). Allocate it once per
 * shape and reuse it every step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpoLossPartialRows } from "./grpo_loss.ts";
 * assert.equal(grpoLossPartialRows(4097), 2);
 * ```
 */
export const grpoLossPartialRows = (tokens: number): number =>
  Math.max(1, Math.ceil(tokens / TOKENS_PER_GROUP));

const checkOptions = (op: string, options: GrpoLossGpuOptions): number => {
  const { clipLow, clipHigh, dualClip, klCoef } = options;
  if (!(clipLow >= 0 && clipLow < 1) || !(clipHigh >= 0) || !Number.isFinite(clipHigh)) {
    throw new RangeError(
      `${op}: need 0 ≤ clipLow < 1 and finite clipHigh ≥ 0, got ${clipLow}, ${clipHigh}`,
    );
  }
  if (!(dualClip > 1) || !Number.isFinite(dualClip)) {
    throw new RangeError(`${op}: dualClip must be a finite number > 1, got ${dualClip}`);
  }
  if (!Number.isFinite(klCoef)) throw new RangeError(`${op}: klCoef must be finite, got ${klCoef}`);
  const code = GPU_KL_ESTIMATORS.indexOf(options.klEstimator);
  if (code < 0) throw new RangeError(`${op}: unknown KL estimator ${options.klEstimator}`);
  return code;
};

/**
 * Records the GRPO loss of one (micro-)batch of N tokens: `out.dlogp`, `out.tokenLoss`, and
 * `out.stats` (see {@link GRPO_STATS}), overwritten or, with `accumulate`, combined with what it
 * holds. Every shape is checked before anything is recorded; a mismatch throws `ShapeMismatch`.
 */
export const grpoLossGpu = (
  rec: CommandRecorder,
  inputs: GrpoLossGpuInputs,
  out: GrpoLossGpuOutputs,
  options: GrpoLossGpuOptions,
): void => {
  const op = "grpoLossGpu";
  const n = inputs.logp.shape[0];
  if (inputs.logp.shape.length !== 1 || n === undefined) {
    throw new ShapeMismatch({ op, detail: `logp must be [N], got [${inputs.logp.shape}]` });
  }
  const useKl = options.klCoef !== 0;
  if (useKl && inputs.refLogp === undefined) {
    throw new ShapeMismatch({ op, detail: "klCoef ≠ 0 but no refLogp was given" });
  }
  const perToken: Array<[string, Tensor | undefined]> = [
    ["logp", inputs.logp],
    ["oldLogp", inputs.oldLogp],
    ["refLogp", useKl ? inputs.refLogp : undefined],
    ["advantage", inputs.advantage],
    ["mask", inputs.mask],
    ["weight", inputs.weight],
    ["entropy", inputs.entropy],
    ["dlogp", out.dlogp],
    ["tokenLoss", out.tokenLoss],
  ];
  for (const [name, t] of perToken) if (t !== undefined) expectShape(op, name, t, [n]);
  const groups = grpoLossPartialRows(n);
  expectShape(op, "partials", out.partials, [groups, GRPO_STAT_COUNT]);
  expectShape(op, "stats", out.stats, [GRPO_STAT_COUNT]);
  const estimator = checkOptions(op, options);
  // Absent optional inputs are bound to logp (read-only, never read) so the layout stays fixed.
  const tokens = rec.runtime.pipelines.get({ kernel: KERNEL, defines: { TOKENS: true } });
  rec.dispatch(
    tokens,
    [
      inputs.logp,
      inputs.oldLogp,
      useKl ? inputs.refLogp! : inputs.logp,
      inputs.advantage,
      inputs.mask,
      inputs.weight,
      inputs.entropy ?? inputs.logp,
      out.dlogp,
      out.tokenLoss,
      out.partials,
    ],
    n === 0 ? [0] : grid1d(n, TOKENS_PER_GROUP),
    packParams([
      { u32: n },
      { u32: n === 0 ? 0 : groups },
      { u32: estimator },
      { u32: useKl ? 1 : 0 },
      { u32: inputs.entropy === undefined ? 0 : 1 },
      { f32: 1 - options.clipLow },
      { f32: 1 + options.clipHigh },
      { f32: options.dualClip },
      { f32: options.klCoef },
    ]),
  );
  rec.dispatch(
    rec.runtime.pipelines.get({ kernel: KERNEL, defines: { FINISH: true } }),
    [out.partials, out.stats],
    [1],
    packParams([{ u32: n === 0 ? 0 : groups }, { u32: options.accumulate ? 1 : 0 }]),
  );
};

/** The loss and logged statistics decoded from a read-back stats tensor. */
export interface GrpoStatistics {
  /** Σ w·L. */
  readonly loss: number;
  /** Σ w·L_pg. */
  readonly policyLoss: number;
  /** Σ w·k (before kl_coef). */
  readonly klLoss: number;
  /** Masked-in tokens counted. */
  readonly tokens: number;
  readonly clipFractionHigh: number;
  readonly clipFractionLow: number;
  readonly clipFractionDual: number;
  readonly ratioMean: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  readonly klMean: number;
  /** Token mean of the entropy, undefined when none was given. */
  readonly entropyMean: number | undefined;
}

/**
 * Turns the stats tensor into token means with the conventions of `summarizeTokens`
 * (src/rl/statistics.ts): no tokens gives zero fractions and ratio statistics of 1, never NaN.
 * `withEntropy` says whether entropy was passed to `grpoLossGpu`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpoStatistics } from "./grpo_loss.ts";
 * const s = grpoStatistics([0.5, 0.5, 0, 4, 1, 0, 0, 4.4, 0.9, 1.5, 0, 0], false);
 * assert.ok(s.clipFractionHigh === 0.25 && Math.abs(s.ratioMean - 1.1) < 1e-12);
 * ```
 */
export const grpoStatistics = (stats: ArrayLike<number>, withEntropy: boolean): GrpoStatistics => {
  if (stats.length !== GRPO_STAT_COUNT) {
    throw new ShapeMismatch({
      op: "grpoStatistics",
      detail: `stats has ${stats.length} values, expected ${GRPO_STAT_COUNT}`,
    });
  }
  const at = (slot: number) => stats[slot]!;
  const tokens = at(GRPO_STATS.tokens);
  const mean = (slot: number) => tokens === 0 ? 0 : at(slot) / tokens;
  return {
    loss: at(GRPO_STATS.loss),
    policyLoss: at(GRPO_STATS.policyLoss),
    klLoss: at(GRPO_STATS.klLoss),
    tokens,
    clipFractionHigh: mean(GRPO_STATS.clippedHigh),
    clipFractionLow: mean(GRPO_STATS.clippedLow),
    clipFractionDual: mean(GRPO_STATS.clippedDual),
    ratioMean: tokens === 0 ? 1 : mean(GRPO_STATS.ratioSum),
    ratioMin: tokens === 0 ? 1 : at(GRPO_STATS.ratioMin),
    ratioMax: tokens === 0 ? 1 : at(GRPO_STATS.ratioMax),
    klMean: mean(GRPO_STATS.klSum),
    entropyMean: withEntropy ? mean(GRPO_STATS.entropySum) : undefined,
  };
};
