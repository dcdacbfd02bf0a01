/**
 * `relation` questions: where one object is with respect to another ("left of", "behind",
 * "on top of", …). Distractors are predicates that clearly do not hold: opposites of predicates
 * that do hold, and vertical predicates for objects at the same height.
 *
 * @module
 */
import { toCameraFrame } from "../../scene/camera.ts";
import { DEFAULT_RELATION_MARGINS, pairPredicates, verticalGap } from "../../scene/relations.ts";
import {
  type CategoryGenerator,
  type Evidence,
  namedPairs,
  objectName,
  type QuestionDraft,
  type SceneContext,
} from "../question.ts";

/** Predicates a relation question may use as its answer, with their clear opposites. */
const OPPOSITE: Record<string, string> = {
  "left of": "right of",
  "right of": "left of",
  "in front of": "behind",
  "behind": "in front of",
  "on top of": "below",
  "above": "below",
  "below": "above",
};

const PHRASINGS: ReadonlyArray<(a: string, b: string) => string> = [
  (a, b) => `Where is the ${a} with respect to the ${b}?`,
  (a, b) => `Where is the ${a} relative to the ${b}?`,
  (a, b) => `How is the ${a} positioned in relation to the ${b}?`,
  (a, b) => `What is the spatial relation of the ${a} to the ${b}?`,
];

/** The measured difference behind each answer predicate. */
const evidenceFor = (
  context: SceneContext,
  i: number,
  j: number,
  predicate: string,
): Evidence[] => {
  const { scene } = context.rendered;
  const a = scene.objects[i]!, b = scene.objects[j]!;
  const ca = toCameraFrame(scene.camera, a.position), cb = toCameraFrame(scene.camera, b.position);
  const m = DEFAULT_RELATION_MARGINS;
  switch (predicate) {
    case "left of":
    case "right of":
      return [{ quantity: "lateral offset", value: ca[0] - cb[0], margin: m.lateral }];
    case "in front of":
    case "behind":
      return [{ quantity: "depth offset", value: ca[2] - cb[2], margin: m.depth }];
    case "above":
      return [{ quantity: "vertical clearance", value: verticalGap(a, b), margin: m.vertical }];
    case "below":
      // A support is exactly below what it carries; no margin to check.
      return b.supportedBy === i
        ? []
        : [{ quantity: "vertical clearance", value: verticalGap(a, b), margin: m.vertical }];
    default:
      return [];
  }
};

/** Proposes relation questions for every nameable pair with a clear relation. */
export const relationQuestions: CategoryGenerator = (context, rng) => {
  const { scene } = context.rendered;
  const out: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    const holding = pairPredicates(scene.camera, scene.objects, i, j)
      .filter((p) => p in OPPOSITE);
    if (holding.length === 0) continue;
    const a = scene.objects[i]!, b = scene.objects[j]!;
    // Vertical relations are rare (only stacks give them): ask about them when they hold.
    const vertical = holding.filter((p) => p === "on top of" || p === "above" || p === "below");
    const answer = rng.pick(vertical.length > 0 ? vertical : holding);
    const clearlyFalse = new Set(holding.map((p) => OPPOSITE[p]!));
    // Objects whose heights overlap are neither above nor below each other.
    if (verticalGap(a, b) < -DEFAULT_RELATION_MARGINS.vertical) {
      for (const p of ["above", "below", "on top of"]) clearlyFalse.add(p);
    }
    for (const p of holding) clearlyFalse.delete(p);
    const distractors = [...clearlyFalse].sort();
    if (distractors.length === 0) continue;
    out.push({
      category: "relation",
      question: rng.pick(PHRASINGS)(objectName(a), objectName(b)),
      correct: answer,
      distractors,
      objectIds: [a.id, b.id],
      evidence: evidenceFor(context, i, j, answer),
    });
  }
  return out;
};
