/**
 * The full GRPO actor loss of one (micro-)batch and its gradient with respect to the policy's
 * per-token log-probs — the float64 reference the GPU update kernels are tested against:
 *
 * ```
 * loss = agg(L_pg) + klCoef · agg(k(logp, logRef))        agg = the chosen aggregation mode
 * ∂loss/∂logp_{i,t} = w_{i,t} · (∂L_pg/∂logp + klCoef · ∂k/∂logp)
 * ```
 *
 * @module
 */
import { type AggregationMode, aggregationWeights } from "./aggregation.ts";
import { type KlEstimator, tokenKl } from "./kl.ts";
import { type ClipBranch, type ClipOptions, tokenPolicyLoss } from "./policy_loss.ts";
import { summarizeTokens, type UpdateStatistics } from "./statistics.ts";
import { assertSameShape, type TokenBatch, type TokenMask } from "./token_batch.ts";
import { ShapeMismatch } from "../gpu/errors.ts";

/** Loss settings of a GRPO update. */
export interface GrpoLossOptions extends ClipOptions {
  /** Coefficient of the KL loss; 0 disables it (then `refLogp` is not needed). */
  readonly klCoef: number;
  readonly klEstimator: KlEstimator;
  readonly aggregation: AggregationMode;
  /** L_max for `seq-mean-token-sum-norm` (the rollout's max new tokens). */
  readonly maxResponseLength: number;
}

/** What one update consumes; every [B, T] batch shares the mask's shape. */
export interface GrpoLossInputs {
  /** [B, T] log π_θ of the sampled tokens under the current policy. */
  readonly logp: TokenBatch;
  /** [B, T] log π_old, recomputed by the actor right after the rollout. */
  readonly oldLogp: TokenBatch;
  /** [B, T] log π_ref from the frozen reference policy; required when klCoef > 0. */
  readonly refLogp: TokenBatch | undefined;
  /** [B] one advantage per response, broadcast over its tokens. */
  readonly advantages: Float64Array;
  /** [B, T] response mask. */
  readonly mask: TokenMask;
  /** [B, T] per-token entropy of the policy, only for logging. */
  readonly entropy: TokenBatch | undefined;
}

/** Loss, its parts, the per-token gradient and the logged statistics. */
export interface GrpoLossResult {
  readonly loss: number;
  /** agg(L_pg). */
  readonly policyLoss: number;
  /** agg(k), before multiplying by klCoef (0 when KL is off). */
  readonly klLoss: number;
  /** [B, T] unweighted per-token loss L_pg + klCoef · k; 0 on padded slots. */
  readonly tokenLosses: Float64Array;
  /** [B, T] ∂loss/∂logp; 0 on padded slots. */
  readonly gradLogp: Float64Array;
  readonly statistics: UpdateStatistics;
}

/**
 * GRPO loss and gradient. `weights` are the [B, T] aggregation weights; they default to the
 * weights of this batch alone. For micro-batch gradient accumulation pass the rows of the
 * mini-batch's weights (see `microBatchWeights`), so that the micro-batch results sum exactly to
 * the mini-batch's loss and gradient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpoLoss } from "./grpo_loss.ts";
 * import { padResponses } from "./token_batch.ts";
 * const { batch: logp, mask } = padResponses([[-1, -2], [-1]]);
 * const r = grpoLoss(
 *   { logp, oldLogp: logp, refLogp: logp, advantages: new Float64Array([1, -1]), mask, entropy: undefined },
 *   { clipLow: 0.2, clipHigh: 0.3, dualClip: 3, klCoef: 0.01, klEstimator: "low_var_kl",
 *     aggregation: "token-mean", maxResponseLength: 4 },
 * );
 * assert.ok(Math.abs(r.loss - (-1 - 1 + 1) / 3) < 1e-12);
 * ```
 */
export const grpoLoss = (
  inputs: GrpoLossInputs,
  options: GrpoLossOptions,
  weights: Float64Array = aggregationWeights(
    inputs.mask,
    options.aggregation,
    options.maxResponseLength,
  ),
): GrpoLossResult => {
  const { mask, logp, oldLogp, refLogp, advantages } = inputs;
  const useKl = options.klCoef !== 0;
  assertSameShape("grpoLoss", mask, { logp, oldLogp, ...(refLogp ? { refLogp } : {}) });
  if (useKl && refLogp === undefined) {
    throw new ShapeMismatch({ op: "grpoLoss", detail: "klCoef ≠ 0 but no refLogp was given" });
  }
  if (advantages.length !== mask.rows || weights.length !== mask.values.length) {
    throw new ShapeMismatch({
      op: "grpoLoss",
      detail: `advantages [${advantages.length}] and weights [${weights.length}] must be ` +
        `[${mask.rows}] and [${mask.values.length}]`,
    });
  }
  const n = mask.values.length;
  const gradLogp = new Float64Array(n);
  const tokenLosses = new Float64Array(n);
  const ratios = new Float64Array(n).fill(1);
  const kl = useKl ? new Float64Array(n) : undefined;
  const branches = new Array<ClipBranch>(n).fill("none");
  let policyLoss = 0, klLoss = 0;
  for (let k = 0; k < n; k++) {
    if (mask.values[k] === 0) continue;
    const a = advantages[Math.floor(k / mask.cols)]!;
    const pg = tokenPolicyLoss(logp.values[k]!, oldLogp.values[k]!, a, options);
    ratios[k] = pg.ratio;
    branches[k] = pg.branch;
    const w = weights[k]!;
    policyLoss += w * pg.loss;
    let grad = pg.gradLogp;
    let tokenLoss = pg.loss;
    if (kl !== undefined && refLogp !== undefined) {
      const term = tokenKl(options.klEstimator, logp.values[k]!, refLogp.values[k]!);
      kl[k] = term.value;
      klLoss += w * term.value;
      grad += options.klCoef * term.gradLogp;
      tokenLoss += options.klCoef * term.value;
    }
    tokenLosses[k] = tokenLoss;
    gradLogp[k] = w * grad;
  }
  return {
    loss: policyLoss + options.klCoef * klLoss,
    policyLoss,
    klLoss,
    tokenLosses,
    gradLogp,
    statistics: summarizeTokens(mask, { branches, ratios, kl, entropy: inputs.entropy }),
  };
};
