/**
 * Reward values: the per-response breakdown that training optimises and logs.
 *
 * @module
 */
import { Schema } from "effect";

/**
 * One response's reward and its components, as the official `spatial_sgg` reward returns them
 * (`spatial` is its `spatial_score`). `overall` is the weighted sum of the other four under the
 * variant's weights and gating.
 */
export const RewardBreakdown = Schema.Struct({
  overall: Schema.Finite,
  format: Schema.Finite,
  count: Schema.Finite,
  accuracy: Schema.Finite,
  spatial: Schema.Finite,
});
/** A decoded {@link RewardBreakdown}. */
export type RewardBreakdown = typeof RewardBreakdown.Type;

/** Weights of the four components in `overall`. */
export const RewardWeights = Schema.Struct({
  format: Schema.Finite,
  count: Schema.Finite,
  accuracy: Schema.Finite,
  spatial: Schema.Finite,
});
/** A decoded {@link RewardWeights}. */
export type RewardWeights = typeof RewardWeights.Type;
