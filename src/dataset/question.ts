/**
 * Multiple-choice spatial questions: the nine categories, the draft each category module
 * produces, and how a draft becomes a question (options shuffled reproducibly, answer letter,
 * difficulty level and rating from the evidence the answer rests on).
 *
 * @module
 */
import type { Rng } from "../domain/random.ts";
import type { SceneGraph } from "../domain/scene_graph.ts";
import type { ObjectTruth, PlacedObject, RenderedScene } from "../scene/types.ts";

/** The paper's nine question categories (`category` field of STVQA records). */
export const CATEGORIES = [
  "relation",
  "reach",
  "size",
  "orientation",
  "instance_location",
  "depth",
  "distance",
  "count",
  "existence",
] as const;
/** One of {@link CATEGORIES}. */
export type Category = typeof CATEGORIES[number];

/** Difficulty levels (`level` field). */
export const LEVELS = ["easy", "medium", "hard"] as const;
/** One of {@link LEVELS}. */
export type Level = typeof LEVELS[number];

/**
 * One geometric difference an answer rests on: the answer is only trustworthy when
 * `|value| >= margin` (e.g. the difference of two camera distances against 0.5 units).
 */
export interface Evidence {
  readonly quantity: string;
  readonly value: number;
  readonly margin: number;
}

/** What a category module proposes: the question, its correct option and clearly false ones. */
export interface QuestionDraft {
  readonly category: Category;
  readonly question: string;
  readonly correct: string;
  /** Options that are clearly false; 1–3 of them are shown. */
  readonly distractors: ReadonlyArray<string>;
  /** Ids of every object whose visibility the answer depends on (named or counted). */
  readonly objectIds: ReadonlyArray<string>;
  readonly evidence: ReadonlyArray<Evidence>;
  /**
   * The part of the question that shifts which answers are likely, when there is one (count:
   * a colour-shape pair rarely has three members, a colour often does). The balancer evens the
   * answers of each form separately, so the question's wording does not give the answer away.
   */
  readonly form?: string;
}

/** The answers the balancer makes equally frequent among the questions that share `key`. */
export interface AnswerGroup {
  /** The question's form (if any) and its full option list, e.g. "shape: 0 | 1 | 2 | 3". */
  readonly key: string;
  /** Every answer such a question can have: its full option list, sorted. */
  readonly answers: ReadonlyArray<string>;
}

/** A finished multiple-choice question. */
export interface Question {
  readonly category: Category;
  readonly question: string;
  /** Option texts in display order (without "(A) " prefixes). */
  readonly options: ReadonlyArray<string>;
  /** Index of the correct option. */
  readonly answerIndex: number;
  readonly level: Level;
  /** Clarity rating 1–10 (10: large margins, fully visible objects). */
  readonly rating: number;
  readonly objectIds: ReadonlyArray<string>;
  readonly evidence: ReadonlyArray<Evidence>;
  /**
   * The full option list the answer was drawn against (all nine grid regions when three are
   * shown), with the draft's form: the balancer makes each of its answers equally frequent.
   */
  readonly answerGroup: AnswerGroup;
  /** The answer as its group counts it (one of `answerGroup.answers`; see {@link answerGroupOf}). */
  readonly groupAnswer: string;
}

/** What every category module reads. */
export interface SceneContext {
  readonly rendered: RenderedScene;
  /** The full scene graph (visible objects, all relations). */
  readonly graph: SceneGraph;
  /** `clear[k]`: objects[k] may be named in a question (visible enough and large enough). */
  readonly clear: ReadonlyArray<boolean>;
}

/** A category module: proposes drafts for one scene. */
export type CategoryGenerator = (context: SceneContext, rng: Rng) => QuestionDraft[];

/** "red cube" for `red_cube.1`. */
export const objectName = (o: Pick<PlacedObject, "colour" | "shape">): string =>
  `${o.colour} ${o.shape}`;

/** "a red cube" / "an orange cone". */
export const withArticle = (name: string): string =>
  `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;

/**
 * Indices of objects that can be named: at least partly visible, and the only object of their
 * colour and shape in the whole scene (so "the red cube" refers to exactly one thing, hidden
 * objects included). Whether they are visible enough is the ambiguity filter's call.
 */
export const nameableObjects = (context: SceneContext): number[] => {
  const { scene, truth } = context.rendered;
  const counts = new Map<string, number>();
  for (const o of scene.objects) counts.set(objectName(o), (counts.get(objectName(o)) ?? 0) + 1);
  return scene.objects.flatMap((o, k) =>
    truth[k]!.bbox !== null && counts.get(objectName(o)) === 1 ? [k] : []
  );
};

/** Ordered pairs of distinct nameable objects, shuffled. */
export const namedPairs = (context: SceneContext, rng: Rng): Array<[number, number]> => {
  const named = nameableObjects(context);
  const pairs: Array<[number, number]> = [];
  for (const i of named) for (const j of named) if (i !== j) pairs.push([i, j]);
  return rng.shuffle(pairs);
};

/** Smallest ratio |value| / margin over the evidence (Infinity when there is none). */
export const evidenceSlack = (evidence: ReadonlyArray<Evidence>): number =>
  evidence.reduce((m, e) => Math.min(m, Math.abs(e.value) / e.margin), Infinity);

/** "red cube" for the object id `red_cube.1`. */
const nameOfId = (id: string): string => id.replace(/\.\d+$/, "").replaceAll("_", " ");

/**
 * The draft's {@link AnswerGroup} (its form and its full option list) and its answer within it.
 * Options that name the question's objects ("red cube") count as their shapes ("cube", and
 * "cube 2" for a second cube, by option text): the balancer then makes each object of a shape
 * combination the answer equally often, so neither the shapes in the question (a cube is usually
 * larger than a cone) nor the many colour-shape names tell the answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerGroupOf } from "./question.ts";
 * const largest = {
 *   category: "size" as const, question: "Which is the largest: ...?", form: "largest",
 *   correct: "red cube", distractors: ["blue cone", "green cube"],
 *   objectIds: ["red_cube.1", "blue_cone.1", "green_cube.1"], evidence: [],
 * };
 * assert.deepEqual(answerGroupOf(largest), {
 *   group: { key: "largest: cone | cube | cube 2", answers: ["cone", "cube", "cube 2"] },
 *   answer: "cube 2",
 * });
 * ```
 */
export const answerGroupOf = (draft: QuestionDraft): { group: AnswerGroup; answer: string } => {
  const options = [draft.correct, ...draft.distractors].sort();
  const named = draft.objectIds.map(nameOfId);
  const labels = options.every((o) => named.includes(o)) ? shapeLabels(options) : options;
  const answers = [...labels].sort();
  const list = answers.join(" | ");
  return {
    group: { key: draft.form === undefined ? list : `${draft.form}: ${list}`, answers },
    answer: labels[options.indexOf(draft.correct)]!,
  };
};

/** "cube" for "red cube", numbered from the second of a shape on: "cube", "cube 2". */
const shapeLabels = (names: ReadonlyArray<string>): string[] => {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const shape = name.split(" ").at(-1)!;
    const k = (seen.get(shape) ?? 0) + 1;
    seen.set(shape, k);
    return k === 1 ? shape : `${shape} ${k}`;
  });
};

/** Option letters. */
export const LETTERS = ["A", "B", "C", "D"] as const;

/**
 * Turns a draft into a question: keeps up to `maxOptions − 1` distractors, shuffles the options
 * with `rng`, and derives level and rating from the evidence slack and object visibility.
 */
export const finaliseDraft = (
  draft: QuestionDraft,
  truthById: ReadonlyMap<string, ObjectTruth>,
  rng: Rng,
  maxOptions = 4,
): Question => {
  const distractors = rng.shuffle(draft.distractors).slice(0, maxOptions - 1);
  const options = rng.shuffle([draft.correct, ...distractors]);
  const slack = evidenceSlack(draft.evidence);
  const visibility = draft.objectIds.reduce(
    (m, id) => Math.min(m, truthById.get(id)?.visibleFraction ?? 1),
    1,
  );
  // Harder: a thin margin, more options, more objects to find, partly hidden objects.
  const difficulty = (slack < 2 ? 2 : slack < 4 ? 1 : 0) + (options.length >= 4 ? 1 : 0) +
    (draft.objectIds.length >= 3 ? 1 : 0) + (visibility < 0.85 ? 1 : 0);
  const level: Level = difficulty === 0 ? "easy" : difficulty <= 2 ? "medium" : "hard";
  const clarity = Number.isFinite(slack) ? Math.min(1, Math.log2(slack) / 3) : 0.75;
  const seen = Math.min(1, Math.max(0, (visibility - 0.6) / 0.4));
  const rating = Math.max(1, Math.min(10, 1 + Math.round(6 * clarity + 3 * seen)));
  const { group, answer } = answerGroupOf(draft);
  return {
    category: draft.category,
    question: draft.question,
    options,
    answerIndex: options.indexOf(draft.correct),
    level,
    rating,
    objectIds: draft.objectIds,
    evidence: draft.evidence,
    answerGroup: group,
    groupAnswer: answer,
  };
};
