/**
 * `distance` questions: which of two objects is closer to (or farther from) a reference object,
 * by the gap between their surfaces.
 *
 * @module
 */
import { surfaceGap } from "../../scene/relations.ts";
import {
  type CategoryGenerator,
  nameableObjects,
  objectName,
  type QuestionDraft,
} from "../question.ts";

/** Smallest difference of gaps (world units) that a question may rest on. */
export const DISTANCE_MARGIN = 0.5;

/** Proposes one reference-and-two-candidates question per disjoint triple of nameable objects. */
export const distanceQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const named = nameableObjects(context);
  const out: QuestionDraft[] = [];
  for (const r of named) {
    const others = rng.shuffle(named.filter((k) => k !== r));
    for (let t = 0; t + 1 < others.length; t += 2) {
      const ref = objects[r]!, a = objects[others[t]!]!, b = objects[others[t + 1]!]!;
      const diff = surfaceGap(ref, a) - surfaceGap(ref, b);
      const [closer, farther] = diff < 0 ? [a, b] : [b, a];
      const askCloser = rng.next() < 0.6;
      out.push({
        category: "distance",
        question: askCloser
          ? `Which object is closer to the ${objectName(ref)}, the ${objectName(a)} or the ${
            objectName(b)
          }?`
          : `Which is farther from the ${objectName(ref)}, the ${objectName(a)} or the ${
            objectName(b)
          }?`,
        correct: objectName(askCloser ? closer : farther),
        distractors: [objectName(askCloser ? farther : closer)],
        objectIds: [ref.id, a.id, b.id],
        evidence: [{ quantity: "gap difference", value: diff, margin: DISTANCE_MARGIN }],
      });
    }
  }
  return out;
};
