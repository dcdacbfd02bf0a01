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

/** The named reward variants. */
export const RewardVariant = Schema.Literals([
  "spatial-thinker",
  "sparse",
  "naive-spatial",
  "strict",
]);
/** One of {@link RewardVariant}. */
export type RewardVariant = typeof RewardVariant.Type;

/**
 * Everything that distinguishes one reward variant from another (the named ones are
 * `REWARD_VARIANTS` of `src/stages/reward.ts`). Decode it from configuration files with
 * `Schema.decodeUnknownResult(RewardConfig)`.
 */
export const RewardConfig = Schema.Struct({
  variant: RewardVariant,
  weights: RewardWeights,
  /** `spatial-thinker`: the four-tag rules; `think-answer`: the r1v full-match layout. */
  formatRule: Schema.Literals(["spatial-thinker", "think-answer"]),
  /** Format 0 ⇒ every component 0. */
  gateOnFormat: Schema.Boolean,
  /** Spatial only scored when accuracy is 1. */
  gateSpatialOnAccuracy: Schema.Boolean,
  /** `matched-mciou`: the shipped relaxed score; `objects-and-relations`: the unused strict one. */
  spatialScore: Schema.Literals(["matched-mciou", "objects-and-relations"]),
  /** λ_obj and λ_rel of the count reward (paper Table 7). */
  countWeights: Schema.Struct({ objects: Schema.Finite, relations: Schema.Finite }),
  /** The official `REL_GATING`: spatial 0 when no relation could be matched. */
  relationGating: Schema.Boolean,
  /** Answer used when a response has no `<answer>` pair: `""` (spatial_sgg) or the whole text (r1v). */
  answerWithoutTag: Schema.Literals(["empty", "whole-text"]),
});
/** A decoded {@link RewardConfig}. */
export type RewardConfig = typeof RewardConfig.Type;
