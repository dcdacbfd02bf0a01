/**
 * `reach` questions: contact between objects (resting on, supporting, touching, not touching),
 * our synthetic counterpart of the paper's touching/holding/interaction questions. Which contacts
 * can happen depends on the shapes (only flat tops carry, only upright round objects touch side
 * by side), so a question offers only the states its two shapes allow, and its form names the
 * shapes: the balancer evens the answers per shape pair and the shape words give nothing away.
 *
 * @module
 */
import { DEFAULT_RELATION_MARGINS, surfaceGap } from "../../scene/relations.ts";
import type { PlacedObject, Shape } from "../../scene/types.ts";
import { type CategoryGenerator, namedPairs, objectName, type QuestionDraft } from "../question.ts";

/** Gaps are judged against this threshold, half-way between contact and the sampler's min gap. */
const CONTACT_THRESHOLD = 0.1;
const CONTACT_MARGIN = 0.08;

const STATES = ["resting on it", "supporting it", "touching its side", "not touching it"] as const;
type State = typeof STATES[number];

/** Shapes with a flat top, the only ones the scene sampler stacks objects on. */
const CARRIERS: ReadonlySet<Shape> = new Set(["cube", "cylinder"]);
/** Upright round shapes, the only ones the scene sampler places side by side in contact. */
const SIDE_TOUCHING: ReadonlySet<Shape> = new Set(["cylinder", "cone"]);

/**
 * The states `a` can be in with respect to `b` given their shapes ("not touching it" always).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { possibleStates } from "./reach.ts";
 * assert.deepEqual(possibleStates({ shape: "sphere" }, { shape: "cube" }), [
 *   "resting on it",
 *   "not touching it",
 * ]);
 * ```
 */
export const possibleStates = (
  a: Pick<PlacedObject, "shape">,
  b: Pick<PlacedObject, "shape">,
): State[] =>
  STATES.filter((state) =>
    state === "resting on it"
      ? CARRIERS.has(b.shape)
      : state === "supporting it"
      ? CARRIERS.has(a.shape)
      : state === "touching its side"
      ? SIDE_TOUCHING.has(a.shape) && SIDE_TOUCHING.has(b.shape)
      : true
  );

const WHAT_PHRASINGS: ReadonlyArray<(a: string, b: string) => string> = [
  (a, b) => `What is the ${a} doing with the ${b}?`,
  (a, b) => `How does the ${a} interact with the ${b}?`,
];
const TOUCH_PHRASINGS: ReadonlyArray<(a: string, b: string) => string> = [
  (a, b) => `Is the ${a} touching the ${b}?`,
  (a, b) => `Is the ${a} in contact with the ${b}?`,
  (a, b) => `Does the ${a} reach the ${b}?`,
];

/**
 * Proposes contact questions: every touching pair, and as many non-touching pairs (so that
 * "not touching" and "no" do not dominate: most pairs in a scene are apart). Pairs whose shapes
 * cannot touch are not asked about (their answer is known from the words), nor the rare pair
 * whose state its shapes should not allow.
 */
export const reachQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const touching: QuestionDraft[] = [], apart: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    const a = objects[i]!, b = objects[j]!;
    const possible = possibleStates(a, b);
    const gap = surfaceGap(a, b);
    const contact = gap <= DEFAULT_RELATION_MARGINS.touching;
    const state = a.supportedBy === j
      ? STATES[0]
      : b.supportedBy === i
      ? STATES[1]
      : contact
      ? STATES[2]
      : STATES[3];
    if (possible.length < 2 || !possible.includes(state)) continue;
    const evidence = [{
      quantity: "surface gap",
      value: gap - CONTACT_THRESHOLD,
      margin: CONTACT_MARGIN,
    }];
    const names = [objectName(a), objectName(b)] as const;
    const form = `${a.shape} with ${b.shape}`;
    const draft: QuestionDraft = rng.next() < 0.5
      ? {
        category: "reach",
        question: rng.pick(WHAT_PHRASINGS)(...names),
        form,
        correct: state,
        distractors: possible.filter((s) => s !== state),
        objectIds: [a.id, b.id],
        evidence,
      }
      : {
        category: "reach",
        question: rng.pick(TOUCH_PHRASINGS)(...names),
        form,
        correct: contact ? "yes" : "no",
        distractors: [contact ? "no" : "yes"],
        objectIds: [a.id, b.id],
        evidence,
      };
    (contact ? touching : apart).push(draft);
  }
  return [...touching, ...apart.slice(0, touching.length)];
};
