/**
 * The PPO clipped surrogate with asymmetric clipping and dual clip, per token, as in the paper's
 * code (EasyR1 `compute_policy_loss`, ε_low 0.2, ε_high 0.3, c = 3):
 *
 * ```
 * ρ      = exp(logp − oldLogp)
 * L_clip = max(−A·ρ, −A·clamp(ρ, 1−ε_low, 1+ε_high))
 * L      = A < 0 ? min(L_clip, −A·c) : L_clip
 * ```
 *
 * Besides the loss, each function returns which branch was taken and dL/dlogp, so the GPU
 * kernels can be checked slot by slot.
 *
 * @module
 */

/** Clip settings of the surrogate. */
export interface ClipOptions {
  /** ε_low: the ratio is clipped below at 1 − ε_low. */
  readonly clipLow: number;
  /** ε_high: the ratio is clipped above at 1 + ε_high. */
  readonly clipHigh: number;
  /** Dual-clip constant c (> 1): caps the loss of a negative-advantage token at −A·c. */
  readonly dualClip: number;
}

/**
 * Which branch of the surrogate decided a token's loss.
 * - `none`: the unclipped term −A·ρ (gradient flows).
 * - `high`: A > 0 and ρ > 1 + ε_high, loss −A·(1+ε_high), no gradient.
 * - `low`: A < 0 and ρ < 1 − ε_low, loss −A·(1−ε_low), no gradient.
 * - `dual`: A < 0 and ρ > c, loss −A·c, no gradient.
 */
export type ClipBranch = "none" | "high" | "low" | "dual";

/** One token's surrogate loss, its branch and dL/dlogp. */
export interface TokenPolicyLoss {
  readonly ratio: number;
  readonly loss: number;
  readonly branch: ClipBranch;
  readonly gradLogp: number;
}

/**
 * log ρ is clamped to [−20, 20] before exp (as current EasyR1 and veRL do) so that a token with
 * A = 0 can never produce 0·∞ = NaN; the clamp only bites at ratios beyond e^20.
 */
export const LOG_RATIO_CLAMP = 20;

/**
 * Clipped surrogate loss of one token with advantage `advantage`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenPolicyLoss } from "./policy_loss.ts";
 * const opts = { clipLow: 0.2, clipHigh: 0.3, dualClip: 3 };
 * const t = tokenPolicyLoss(Math.log(1.5), 0, 1, opts);
 * assert.ok(t.branch === "high" && Math.abs(t.loss + 1.3) < 1e-12 && t.gradLogp === 0);
 * ```
 */
export const tokenPolicyLoss = (
  logp: number,
  oldLogp: number,
  advantage: number,
  options: ClipOptions,
): TokenPolicyLoss => {
  const logRatio = logp - oldLogp;
  const clampedLogRatio = Math.min(LOG_RATIO_CLAMP, Math.max(-LOG_RATIO_CLAMP, logRatio));
  const ratio = Math.exp(clampedLogRatio);
  // d ratio / d logp: zero where the safety clamp holds log ρ fixed.
  const dRatio = clampedLogRatio === logRatio ? ratio : 0;
  const a = advantage;
  if (a === 0) return { ratio, loss: 0, branch: "none", gradLogp: 0 };
  const lo = 1 - options.clipLow;
  const hi = 1 + options.clipHigh;
  if (a > 0 && ratio > hi) return { ratio, loss: -a * hi, branch: "high", gradLogp: 0 };
  if (a < 0 && ratio < lo) return { ratio, loss: -a * lo, branch: "low", gradLogp: 0 };
  if (a < 0 && ratio > options.dualClip) {
    return { ratio, loss: -a * options.dualClip, branch: "dual", gradLogp: 0 };
  }
  return { ratio, loss: -a * ratio, branch: "none", gradLogp: -a * dRatio };
};
