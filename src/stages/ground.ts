/**
 * The `ground` stage: lines a predicted scene graph up with the ground truth the way the official
 * reward does. Boxes are divided by the image size; objects are matched by the Hungarian
 * algorithm on `2·(1 − label similarity) + 1·(1 − mCIoU)`; relations by the Hungarian algorithm
 * on `1 − (0.3·subject + 0.3·object + 0.4·predicate similarity)`.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { type Box, iou, l1Distance, mappedCiou, normaliseBox } from "../domain/box.ts";
import type { Grounding, ObjectMatch, TripletMatch } from "../domain/grounding.ts";
import type { ImageSize } from "../domain/image_size.ts";
import type { SceneGraph } from "../domain/scene_graph.ts";
import { defaultLabelSimilarity, type LabelSimilarity } from "../text/label_similarity.ts";
import { WordVectorsUnavailable } from "../text/word_vectors.ts";
import { minCostAssignment } from "./assignment.ts";

/** Weight of label dissimilarity in the object matching cost (`SEM_W`). */
export const LABEL_COST_WEIGHT = 2.0;
/** Weight of box dissimilarity in the object matching cost (`IOU_W`). */
export const BOX_COST_WEIGHT = 1.0;
/** Weights of subject, object and predicate similarity in a triplet's similarity. */
export const TRIPLET_WEIGHTS = { subject: 0.3, object: 0.3, predicate: 0.4 } as const;

/**
 * The mCIoU given to a pair whose coordinates are so large (≈1e150 px) that CIoU overflows to NaN.
 * The official code would crash in SciPy there; we score it like the worst ordered-box overlap.
 */
export const OVERFLOWED_MAPPED_CIOU = -0.25;

/**
 * Matches predicted objects and relations to ground-truth ones.
 *
 * @param size the original image size; both graphs hold pixel boxes.
 * @param similarity label similarity (the word-vector one in production; any function in tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groundScenes } from "./ground.ts";
 * const exact = (a: string, b: string) => (a.split(".")[0] === b.split(".")[0] ? 1 : 0);
 * const cube = { id: "cube.1", bbox: [10, 10, 50, 50] as const };
 * const g = groundScenes(
 *   { objects: [cube], relationships: [] },
 *   { objects: [cube], relationships: [] },
 *   { width: 100, height: 100 },
 *   exact,
 * );
 * assert.ok(Math.abs(g.objectMatches[0]!.mappedCiou - 1) < 1e-6);
 * ```
 */
export const groundScenes = (
  prediction: SceneGraph,
  groundTruth: SceneGraph,
  size: ImageSize,
  similarity: LabelSimilarity,
): Grounding => ({
  objectMatches: matchObjects(prediction, groundTruth, size, similarity),
  tripletMatches: matchTriplets(prediction, groundTruth, similarity),
  counts: {
    predictedObjects: prediction.objects.length,
    groundTruthObjects: groundTruth.objects.length,
    predictedRelations: prediction.relationships.length,
    groundTruthRelations: groundTruth.relationships.length,
  },
});

const matchObjects = (
  prediction: SceneGraph,
  groundTruth: SceneGraph,
  size: ImageSize,
  similarity: LabelSimilarity,
): ObjectMatch[] => {
  const predictions = prediction.objects;
  const truths = groundTruth.objects;
  const P = predictions.length;
  const G = truths.length;
  if (P === 0 || G === 0) return [];
  const normalise = (box: Box) => normaliseBox(box, size.width, size.height);
  const predictedBoxes = predictions.map((o) => normalise(o.bbox));
  const truthBoxes = truths.map((o) => normalise(o.bbox));
  // Row-major [P, G]: prediction i against ground truth j.
  const similarities: number[] = new Array(P * G);
  const overlaps: number[] = new Array(P * G);
  const cost: number[] = new Array(P * G);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < G; j++) {
      const k = i * G + j;
      similarities[k] = similarity(predictions[i]!.id, truths[j]!.id);
      const raw = mappedCiou(predictedBoxes[i]!, truthBoxes[j]!);
      overlaps[k] = Number.isFinite(raw) ? raw : OVERFLOWED_MAPPED_CIOU;
      cost[k] = LABEL_COST_WEIGHT * (1 - similarities[k]!) + BOX_COST_WEIGHT * (1 - overlaps[k]!);
    }
  }
  const matches: ObjectMatch[] = [];
  minCostAssignment(cost, P, G).forEach((j, i) => {
    if (j < 0) return;
    const k = i * G + j;
    matches.push({
      groundTruth: j,
      prediction: i,
      labelSimilarity: similarities[k]!,
      mappedCiou: overlaps[k]!,
      iou: iou(predictedBoxes[i]!, truthBoxes[j]!),
      l1: l1Distance(predictedBoxes[i]!, truthBoxes[j]!),
      cost: cost[k]!,
    });
  });
  return matches.sort(byGroundTruth);
};

const matchTriplets = (
  prediction: SceneGraph,
  groundTruth: SceneGraph,
  similarity: LabelSimilarity,
): TripletMatch[] => {
  const predictions = prediction.relationships;
  const truths = groundTruth.relationships;
  const P = predictions.length;
  const G = truths.length;
  if (P === 0 || G === 0) return [];
  const candidates: TripletMatch[] = new Array(P * G);
  const cost: number[] = new Array(P * G);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < G; j++) {
      const p = predictions[i]!;
      const g = truths[j]!;
      const subjectSimilarity = similarity(p.subject, g.subject);
      const objectSimilarity = similarity(p.object, g.object);
      const predicateSimilarity = similarity(p.predicate, g.predicate);
      const tripletSimilarity = TRIPLET_WEIGHTS.subject * subjectSimilarity +
        TRIPLET_WEIGHTS.object * objectSimilarity +
        TRIPLET_WEIGHTS.predicate * predicateSimilarity;
      cost[i * G + j] = 1 - tripletSimilarity;
      candidates[i * G + j] = {
        groundTruth: j,
        prediction: i,
        subjectSimilarity,
        predicateSimilarity,
        objectSimilarity,
        similarity: tripletSimilarity,
      };
    }
  }
  const matches: TripletMatch[] = [];
  minCostAssignment(cost, P, G).forEach((j, i) => {
    if (j >= 0) matches.push(candidates[i * G + j]!);
  });
  return matches.sort(byGroundTruth);
};

const byGroundTruth = (a: { groundTruth: number }, b: { groundTruth: number }) =>
  a.groundTruth - b.groundTruth;

/** The `ground` stage as a service, so a program can swap in its own matching or similarity. */
export class Grounder extends Context.Service<Grounder, {
  readonly ground: (
    prediction: SceneGraph,
    groundTruth: SceneGraph,
    size: ImageSize,
  ) => Effect.Effect<Grounding>;
  /** The label similarity the matching uses (also for logging and for the reward variants). */
  readonly labelSimilarity: LabelSimilarity;
}>()("spatial-thinker/stages/Grounder") {
  /** Grounding with a given label similarity. */
  static readonly layerWith = (similarity: LabelSimilarity): Layer.Layer<Grounder> =>
    Layer.succeed(
      Grounder,
      Grounder.of({
        ground: (prediction, groundTruth, size) =>
          Effect.sync(() => groundScenes(prediction, groundTruth, size, similarity)),
        labelSimilarity: similarity,
      }),
    );

  /** Grounding with the shared word-vector label similarity; loads (or first builds) the cache. */
  static readonly layer: Layer.Layer<Grounder, WordVectorsUnavailable> = Layer.unwrap(
    Effect.try({
      try: () => Grounder.layerWith(defaultLabelSimilarity()),
      catch: (cause) =>
        cause instanceof WordVectorsUnavailable
          ? cause
          : new WordVectorsUnavailable({ path: "", reason: String(cause) }),
    }),
  );
}
