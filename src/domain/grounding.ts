/**
 * The result of the `ground` stage: which predicted object and relation answers which
 * ground-truth one, with the similarities and overlaps that decided it. The reward is computed
 * from this; the trainer logs it.
 *
 * @module
 */

/** A predicted object assigned to a ground-truth object by the Hungarian matching. */
export interface ObjectMatch {
  /** Index into the ground-truth objects. */
  readonly groundTruth: number;
  /** Index into the predicted objects. */
  readonly prediction: number;
  /** Cosine similarity of the two cleaned labels, in [−1, 1] (1 for identical labels). */
  readonly labelSimilarity: number;
  /** `(CIoU + 1) / 2` of the normalised boxes; about [−0.25, 1] for ordered boxes. */
  readonly mappedCiou: number;
  /** Plain IoU of the normalised boxes (used by the strict variant). */
  readonly iou: number;
  /** L1 distance of the normalised boxes (used by the strict variant). */
  readonly l1: number;
  /** The matching cost `2·(1 − labelSimilarity) + 1·(1 − mappedCiou)`. */
  readonly cost: number;
}

/** A predicted relation assigned to a ground-truth relation by the triplet matching. */
export interface TripletMatch {
  readonly groundTruth: number;
  readonly prediction: number;
  readonly subjectSimilarity: number;
  readonly predicateSimilarity: number;
  readonly objectSimilarity: number;
  /** `0.3·subject + 0.3·object + 0.4·predicate`; the matching cost is `1 − similarity`. */
  readonly similarity: number;
}

/** Object and relation counts of both scene graphs. */
export interface SceneCounts {
  readonly predictedObjects: number;
  readonly groundTruthObjects: number;
  readonly predictedRelations: number;
  readonly groundTruthRelations: number;
}

/** Everything the reward needs to know about how a predicted scene graph lines up with the truth. */
export interface Grounding {
  /** One entry per matched ground-truth object, in ground-truth order. */
  readonly objectMatches: ReadonlyArray<ObjectMatch>;
  /** One entry per matched ground-truth relation, in ground-truth order. */
  readonly tripletMatches: ReadonlyArray<TripletMatch>;
  readonly counts: SceneCounts;
}
