/**
 * Per-update statistics the trainer logs so a user can see why the gradient is what it is
 * (clip fractions, KL, entropy, ratio spread), not only the loss value. All are token means over
 * real (masked-in) tokens.
 *
 * @module
 */
import type { ClipBranch } from "./policy_loss.ts";
import { assertSameShape, type TokenBatch, type TokenMask } from "./token_batch.ts";

/** Token-level statistics of one policy update (mini- or micro-batch). */
export interface UpdateStatistics {
  /** Number of real tokens the statistics cover. */
  readonly tokens: number;
  /** Share of tokens clipped at 1 + ε_high (A > 0). */
  readonly clipFractionHigh: number;
  /** Share of tokens clipped at 1 − ε_low (A < 0). */
  readonly clipFractionLow: number;
  /** Share of tokens capped by the dual clip (A < 0, ρ > c). */
  readonly clipFractionDual: number;
  /** Mean, min and max of the importance ratio ρ. */
  readonly ratioMean: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Token mean of the KL estimate (0 when no reference log-probs were given). */
  readonly klMean: number;
  /** Token mean of the per-token entropy, or `undefined` when none was given. */
  readonly entropyMean: number | undefined;
}

/** Per-token quantities from which {@link summarizeTokens} computes the statistics. */
export interface TokenRecord {
  /** [B, T] clip branch of each slot. */
  readonly branches: ReadonlyArray<ClipBranch>;
  /** [B, T] importance ratios. */
  readonly ratios: Float64Array;
  /** [B, T] KL estimates, or undefined when KL is off. */
  readonly kl: Float64Array | undefined;
  /** [B, T] per-token entropies (computed from the logits by the caller), or undefined. */
  readonly entropy: TokenBatch | undefined;
}

/**
 * Token means over the masked-in slots. An empty batch gives zero fractions and ratio statistics of 1,
 * never NaN, so a log line stays plottable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeTokens } from "./statistics.ts";
 * import { padResponses } from "./token_batch.ts";
 * const { mask } = padResponses([[0, 0]]);
 * const s = summarizeTokens(mask, {
 *   branches: ["high", "none"], ratios: new Float64Array([1.5, 1]), kl: undefined, entropy: undefined,
 * });
 * assert.ok(s.clipFractionHigh === 0.5 && s.ratioMax === 1.5);
 * ```
 */
export const summarizeTokens = (mask: TokenMask, record: TokenRecord): UpdateStatistics => {
  if (record.entropy !== undefined) {
    assertSameShape("summarizeTokens", mask, { entropy: record.entropy });
  }
  let tokens = 0, high = 0, low = 0, dual = 0, ratioSum = 0, klSum = 0, entropySum = 0;
  let ratioMin = Infinity, ratioMax = -Infinity;
  for (let k = 0; k < mask.values.length; k++) {
    if (mask.values[k] === 0) continue;
    tokens++;
    const branch = record.branches[k];
    if (branch === "high") high++;
    else if (branch === "low") low++;
    else if (branch === "dual") dual++;
    const r = record.ratios[k]!;
    ratioSum += r;
    ratioMin = Math.min(ratioMin, r);
    ratioMax = Math.max(ratioMax, r);
    if (record.kl !== undefined) klSum += record.kl[k]!;
    if (record.entropy !== undefined) entropySum += record.entropy.values[k]!;
  }
  const mean = (x: number) => tokens === 0 ? 0 : x / tokens;
  return {
    tokens,
    clipFractionHigh: mean(high),
    clipFractionLow: mean(low),
    clipFractionDual: mean(dual),
    ratioMean: tokens === 0 ? 1 : ratioSum / tokens,
    ratioMin: tokens === 0 ? 1 : ratioMin,
    ratioMax: tokens === 0 ? 1 : ratioMax,
    klMean: mean(klSum),
    entropyMean: record.entropy === undefined ? undefined : mean(entropySum),
  };
};
