/**
 * The result of the `ground` stage: which predicted object and relation answers which
 * ground-truth one, with the similarities and overlaps that decided it. The reward is computed
 * from this; the trainer logs it.
 *
 * @module
 */
import { Schema } from "effect";

/** A predicted object assigned to a ground-truth object by the Hungarian matching. */
export const ObjectMatch = Schema.Struct({
  /** Index into the ground-truth objects. */
  groundTruth: Schema.Int,
  /** Index into the predicted objects. */
  prediction: Schema.Int,
  /** Cosine similarity of the two cleaned labels, in [−1, 1] (1 for identical labels). */
  labelSimilarity: Schema.Finite,
  /** `(CIoU + 1) / 2` of the normalised boxes; about [−0.25, 1] for ordered boxes. */
  mappedCiou: Schema.Finite,
  /** Plain IoU of the normalised boxes (used by the strict variant). */
  iou: Schema.Finite,
  /** L1 distance of the normalised boxes (used by the strict variant). */
  l1: Schema.Finite,
  /** The matching cost `2·(1 − labelSimilarity) + 1·(1 − mappedCiou)`. */
  cost: Schema.Finite,
});
/** A decoded {@link ObjectMatch}. */
export type ObjectMatch = typeof ObjectMatch.Type;

/** A predicted relation assigned to a ground-truth relation by the triplet matching. */
export const TripletMatch = Schema.Struct({
  groundTruth: Schema.Int,
  prediction: Schema.Int,
  subjectSimilarity: Schema.Finite,
  predicateSimilarity: Schema.Finite,
  objectSimilarity: Schema.Finite,
  /** `0.3·subject + 0.3·object + 0.4·predicate`; the matching cost is `1 − similarity`. */
  similarity: Schema.Finite,
});
/** A decoded {@link TripletMatch}. */
export type TripletMatch = typeof TripletMatch.Type;

/** Object and relation counts of both scene graphs. */
export const SceneCounts = Schema.Struct({
  predictedObjects: Schema.Int,
  groundTruthObjects: Schema.Int,
  predictedRelations: Schema.Int,
  groundTruthRelations: Schema.Int,
});
/** A decoded {@link SceneCounts}. */
export type SceneCounts = typeof SceneCounts.Type;

/** Everything the reward needs to know about how a predicted scene graph lines up with the truth. */
export const Grounding = Schema.Struct({
  /** One entry per matched ground-truth object, in ground-truth order. */
  objectMatches: Schema.Array(ObjectMatch),
  /** One entry per matched ground-truth relation, in ground-truth order. */
  tripletMatches: Schema.Array(TripletMatch),
  counts: SceneCounts,
});
/** A decoded {@link Grounding}. */
export type Grounding = typeof Grounding.Type;
