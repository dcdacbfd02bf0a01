/**
 * The rollout-sample contract of a run folder: every `rolloutEvery` steps the trainer writes
 * `runs/<name>/rollouts/step-000010.jsonl`, one sampled rollout per line, each with its image
 * (copied into the run folder), the model's raw response, the parsed prediction, the ground
 * truth and the reward breakdown. Files are written whole (temp file + rename), so a reader
 * never sees half of one.
 *
 * Response text and predicted ids are untrusted model output: renderers must escape them.
 *
 * @module
 */
import { Schema } from "effect";
import { RewardBreakdown } from "../domain/reward.ts";

/** `[x1, y1, x2, y2]` in absolute pixels of the original image (the paper's box convention). */
export const PixelBox = Schema.Tuple([
  Schema.Finite,
  Schema.Finite,
  Schema.Finite,
  Schema.Finite,
]);
/** `[x1, y1, x2, y2]` in absolute pixels. */
export type PixelBox = typeof PixelBox.Type;

/** A scene-graph object: id such as `"bike.1"` and its pixel box. */
export const SceneObject = Schema.Struct({ id: Schema.String, bbox: PixelBox });
/** A scene-graph object. */
export type SceneObject = typeof SceneObject.Type;

/** A scene-graph relation between two object ids. */
export const SceneRelation = Schema.Struct({
  subject: Schema.String,
  predicate: Schema.String,
  object: Schema.String,
});
/** A scene-graph relation. */
export type SceneRelation = typeof SceneRelation.Type;

/** Objects and relations of a scene graph (ground truth, or what the model predicted). */
export const SceneGraphRecord = Schema.Struct({
  objects: Schema.Array(SceneObject),
  relationships: Schema.Array(SceneRelation),
});
/** Objects and relations of a scene graph. */
export type SceneGraphRecord = typeof SceneGraphRecord.Type;

/** An image stored inside the run folder, with its pixel size (boxes are in these pixels). */
export const RunImage = Schema.Struct({
  /** Relative to the run folder, `/`-separated, e.g. `rollouts/images/vg-2371.png`. */
  path: Schema.NonEmptyString,
  width: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  height: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
});
/** An image stored inside the run folder. */
export type RunImage = typeof RunImage.Type;

/** One sampled rollout: one line of `rollouts/step-NNNNNN.jsonl`. */
export const RolloutSample = Schema.Struct({
  step: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  promptId: Schema.NonEmptyString,
  /** Index of this rollout inside its GRPO group (0 … n-1). */
  sampleIndex: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  category: Schema.String,
  question: Schema.String,
  groundTruthAnswer: Schema.String,
  image: RunImage,
  /** The model's raw decoded text: untrusted. */
  response: Schema.String,
  /** Parsed `<scene>`; `null` when the response could not be parsed (see `parseFailure`). */
  predicted: Schema.NullOr(SceneGraphRecord),
  /** Which parse rule failed, or `null` when the response parsed. */
  parseFailure: Schema.NullOr(Schema.String),
  groundTruth: SceneGraphRecord,
  /** This rollout's reward, as the reward stage computed it. */
  reward: RewardBreakdown,
  /** GRPO advantage of this rollout inside its group. */
  advantage: Schema.Finite,
}).annotate({ identifier: "RolloutSample" });
/** One sampled rollout. */
export type RolloutSample = typeof RolloutSample.Type;
