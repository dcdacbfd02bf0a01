/**
 * `runs/<name>/config.json`: what a run was started with, written once by the trainer before the
 * first step. Keys beyond these are allowed (decoding keeps only the known ones; reports show the
 * whole file), so trainers can record more settings without changing this contract.
 *
 * @module
 */
import { Schema } from "effect";

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1));
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/** The settings a run was started with. */
export const RunConfig = Schema.Struct({
  name: Schema.NonEmptyString,
  /** ISO-8601 time the run started. */
  createdAt: Schema.String,
  /** The one seed that drives every random choice of the run. */
  seed: Schema.Int,
  model: Schema.String,
  dataset: Schema.String,
  /** Named reward configuration, e.g. `"spatial"` (the paper's gated dense reward) or `"sparse"`. */
  reward: Schema.String,
  steps: PositiveInt,
  promptsPerStep: PositiveInt,
  /** GRPO group size n (rollouts per prompt). */
  groupSize: PositiveInt,
  learningRate: NonNegative,
  klCoef: NonNegative,
  /** A validation row is written every `valEvery` steps. */
  valEvery: PositiveInt,
  /** Rollout samples are written every `rolloutEvery` steps. */
  rolloutEvery: PositiveInt,
}).annotate({ identifier: "RunConfig" });
/** The settings a run was started with. */
export type RunConfig = typeof RunConfig.Type;
