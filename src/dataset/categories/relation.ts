/**
 * `relation` questions: where one object is with respect to another ("left of", "behind",
 * "on top of", …). Every option list is exchangeable: each of its options is the answer of some
 * questions, and the balancer makes each equally often the answer, so the options alone never
 * tell which one is correct.
 *
 * @module
 */
import type { Rng } from "../../domain/random.ts";
import { toCameraFrame } from "../../scene/camera.ts";
import {
  DEFAULT_RELATION_MARGINS,
  pairPredicates,
  type Predicate,
  verticalGap,
} from "../../scene/relations.ts";
import {
  type CategoryGenerator,
  type Evidence,
  namedPairs,
  objectName,
  type QuestionDraft,
  type SceneContext,
} from "../question.ts";

/** Predicates a relation question may use as its answer. */
export const RELATION_ANSWERS = [
  "left of",
  "right of",
  "in front of",
  "behind",
  "on top of",
  "above",
  "below",
] as const satisfies ReadonlyArray<Predicate>;
/** One of {@link RELATION_ANSWERS}. */
export type RelationAnswer = typeof RELATION_ANSWERS[number];

/** The vertical answer predicates (only stacks give them). */
const VERTICAL: ReadonlySet<RelationAnswer> = new Set(["on top of", "above", "below"]);

/** The four horizontal predicates: the option list of questions about aligned pairs. */
export const HORIZONTAL_RELATIONS = ["left of", "right of", "in front of", "behind"] as const;

/**
 * Camera-frame offsets (world units) this small make both predicates of their axis clearly false
 * ("directly in front of" is neither left of nor right of). A third of the smaller margin.
 */
export const ALIGNED_OFFSET = DEFAULT_RELATION_MARGINS.lateral / 3;

/** What decides the options of a relation question about an ordered pair of objects. */
export interface PairRelation {
  /** Every predicate that holds from the first object to the second (`pairPredicates`). */
  readonly holding: ReadonlyArray<Predicate>;
  /** |lateral offset| ≤ {@link ALIGNED_OFFSET}: neither "left of" nor "right of". */
  readonly alignedLateral: boolean;
  /** |depth offset| ≤ {@link ALIGNED_OFFSET}: neither "in front of" nor "behind". */
  readonly alignedDepth: boolean;
  /** Whether the second object rests on the first ("below" is then opposed by "on top of"). */
  readonly otherRestsOnThis: boolean;
}

/**
 * The clear opposite of a holding answer predicate. "below" is opposed by "on top of" when the
 * other object rests on this one and by "above" otherwise.
 */
export const oppositeOf = (answer: RelationAnswer, otherRestsOnThis: boolean): RelationAnswer => {
  switch (answer) {
    case "left of":
      return "right of";
    case "right of":
      return "left of";
    case "in front of":
      return "behind";
    case "behind":
      return "in front of";
    case "on top of":
    case "above":
      return "below";
    case "below":
      return otherRestsOnThis ? "on top of" : "above";
  }
};

/** A relation question's answer and its clearly false distractors. */
export interface RelationOptions {
  readonly correct: RelationAnswer;
  readonly distractors: ReadonlyArray<RelationAnswer>;
}

/**
 * Chooses the answer and options of a relation question, or null when no answer predicate holds.
 *
 * - A vertical relation (only stacks give them, so it is asked whenever it holds): the answer
 *   and its opposite ("on top of" / "below").
 * - One horizontal axis holds and the pair is aligned on the other: all four horizontal
 *   predicates, of which exactly one holds.
 * - Otherwise a holding horizontal predicate and its opposite.
 *
 * Why not the answer, its opposite and a predicate of another axis: such a list ({left of,
 * right of, behind}) always has its answer in the opposite pair, so a blind model halves the
 * choice. Each list here can go with any of its options as the answer (the balancer then makes
 * them equally frequent), so no model reading the options alone beats chance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeRng } from "../../domain/random.ts";
 * import { relationOptions } from "./relation.ts";
 * // Directly in front of the other object: left and right are both clearly false.
 * const options = relationOptions({
 *   holding: ["in front of"], alignedLateral: true, alignedDepth: false, otherRestsOnThis: false,
 * }, makeRng(1));
 * assert.deepEqual(options, {
 *   correct: "in front of", distractors: ["left of", "right of", "behind"],
 * });
 * ```
 */
export const relationOptions = (pair: PairRelation, rng: Rng): RelationOptions | null => {
  const answers = RELATION_ANSWERS.filter((p) => pair.holding.includes(p));
  const vertical = answers.filter((p) => p === "on top of" || p === "above" || p === "below");
  if (vertical.length > 0) {
    const correct = rng.pick(vertical);
    return { correct, distractors: [oppositeOf(correct, pair.otherRestsOnThis)] };
  }
  const lateral = answers.find((p) => p === "left of" || p === "right of");
  const depth = answers.find((p) => p === "in front of" || p === "behind");
  const aligned = lateral !== undefined && pair.alignedDepth
    ? lateral
    : depth !== undefined && pair.alignedLateral
    ? depth
    : undefined;
  if (aligned !== undefined) {
    return { correct: aligned, distractors: HORIZONTAL_RELATIONS.filter((p) => p !== aligned) };
  }
  if (answers.length === 0) return null;
  const correct = rng.pick(answers);
  return { correct, distractors: [oppositeOf(correct, pair.otherRestsOnThis)] };
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
  predicate: RelationAnswer,
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

/**
 * Two-option questions proposed per scene beyond the four-option ones: few, so that the
 * per-scene limit keeps the rarer four-option questions (they need an aligned pair).
 */
const EXTRA_TWO_OPTION_DRAFTS = 2;

/**
 * Proposes a relation question for every nameable pair with a clear relation, except that
 * two-option questions are capped at the number of four-option ones plus
 * {@link EXTRA_TWO_OPTION_DRAFTS}.
 */
export const relationQuestions: CategoryGenerator = (context, rng) => {
  const { scene } = context.rendered;
  const four: QuestionDraft[] = [], two: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    const a = scene.objects[i]!, b = scene.objects[j]!;
    const ca = toCameraFrame(scene.camera, a.position);
    const cb = toCameraFrame(scene.camera, b.position);
    const options = relationOptions({
      holding: pairPredicates(scene.camera, scene.objects, i, j),
      alignedLateral: Math.abs(ca[0] - cb[0]) <= ALIGNED_OFFSET,
      alignedDepth: Math.abs(ca[2] - cb[2]) <= ALIGNED_OFFSET,
      otherRestsOnThis: b.supportedBy === i,
    }, rng);
    if (options === null) continue;
    // Only flat tops carry, so "on top of" / "below" follows from the shapes (a sphere is never
    // below a cube): vertical answers are balanced per ordered shape pair, and a pair whose
    // shapes allow only one of them is not asked at all (the balancer holds its group at zero).
    const vertical = VERTICAL.has(options.correct);
    (options.distractors.length === 1 ? two : four).push({
      category: "relation",
      question: rng.pick(PHRASINGS)(objectName(a), objectName(b)),
      ...(vertical ? { form: `${a.shape} over ${b.shape}` } : {}),
      correct: options.correct,
      distractors: options.distractors,
      objectIds: [a.id, b.id],
      evidence: evidenceFor(context, i, j, options.correct),
    });
  }
  return [...four, ...two.slice(0, four.length + EXTRA_TWO_OPTION_DRAFTS)];
};
