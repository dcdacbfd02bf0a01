/**
 * `reach` questions: contact between objects (resting on, supporting, touching, not touching),
 * our synthetic counterpart of the paper's touching/holding/interaction questions.
 *
 * @module
 */
import { DEFAULT_RELATION_MARGINS, surfaceGap } from "../../scene/relations.ts";
import { type CategoryGenerator, namedPairs, objectName, type QuestionDraft } from "../question.ts";

/** Gaps are judged against this threshold, half-way between contact and the sampler's min gap. */
const CONTACT_THRESHOLD = 0.1;
const CONTACT_MARGIN = 0.08;

const STATES = ["resting on it", "supporting it", "touching its side", "not touching it"] as const;

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
 * "not touching" and "no" do not dominate: most pairs in a scene are apart).
 */
export const reachQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const touching: QuestionDraft[] = [], apart: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    const a = objects[i]!, b = objects[j]!;
    const gap = surfaceGap(a, b);
    const contact = gap <= DEFAULT_RELATION_MARGINS.touching;
    const state = a.supportedBy === j
      ? STATES[0]
      : b.supportedBy === i
      ? STATES[1]
      : contact
      ? STATES[2]
      : STATES[3];
    const evidence = [{
      quantity: "surface gap",
      value: gap - CONTACT_THRESHOLD,
      margin: CONTACT_MARGIN,
    }];
    const names = [objectName(a), objectName(b)] as const;
    const draft: QuestionDraft = rng.next() < 0.5
      ? {
        category: "reach",
        question: rng.pick(WHAT_PHRASINGS)(...names),
        correct: state,
        distractors: STATES.filter((s) => s !== state),
        objectIds: [a.id, b.id],
        evidence,
      }
      : {
        category: "reach",
        question: rng.pick(TOUCH_PHRASINGS)(...names),
        correct: contact ? "yes" : "no",
        distractors: [contact ? "no" : "yes"],
        objectIds: [a.id, b.id],
        evidence,
      };
    (contact ? touching : apart).push(draft);
  }
  return [...touching, ...apart.slice(0, touching.length)];
};
