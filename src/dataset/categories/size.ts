/**
 * `size` questions: which object is larger or smaller, by the volume of its shape. Volume depends
 * on the shape (a cube is three times a cone of the same scale), so each draft's form names what
 * is asked and, where the answer is not an object's name, the shapes in the order the question
 * names them: the balancer then makes every answer equally frequent for every shape combination
 * (see `answerGroupOf`), and the shape words do not give the answer away.
 *
 * @module
 */
import { DEFAULT_RELATION_MARGINS, objectVolume } from "../../scene/relations.ts";
import type { PlacedObject } from "../../scene/types.ts";
import {
  type CategoryGenerator,
  nameableObjects,
  namedPairs,
  objectName,
  type QuestionDraft,
} from "../question.ts";

const LOG_MARGIN = Math.log(DEFAULT_RELATION_MARGINS.sizeRatio);

const logRatio = (a: PlacedObject, b: PlacedObject): number =>
  Math.log(objectVolume(a) / objectVolume(b));

/** Proposes pairwise and three-way size comparisons. */
export const sizeQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const out: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    if (i > j) continue;
    const a = objects[i]!, b = objects[j]!;
    const evidence = [{ quantity: "log volume ratio", value: logRatio(a, b), margin: LOG_MARGIN }];
    const [larger, smaller] = logRatio(a, b) >= 0 ? [a, b] : [b, a];
    const form = rng.int(0, 2);
    if (form === 0) {
      out.push({
        category: "size",
        question: `Which is larger, the ${objectName(a)} or the ${objectName(b)}?`,
        form: "larger",
        correct: objectName(larger),
        distractors: [objectName(smaller)],
        objectIds: [a.id, b.id],
        evidence,
      });
    } else if (form === 1) {
      out.push({
        category: "size",
        question: `Which is smaller, the ${objectName(a)} or the ${objectName(b)}?`,
        form: "smaller",
        correct: objectName(smaller),
        distractors: [objectName(larger)],
        objectIds: [a.id, b.id],
        evidence,
      });
    } else {
      const aLarger = larger === a;
      out.push({
        category: "size",
        question: `Is the ${objectName(a)} bigger or smaller than the ${objectName(b)}?`,
        form: `bigger or smaller: ${a.shape} than ${b.shape}`,
        correct: aLarger ? "bigger" : "smaller",
        distractors: [aLarger ? "smaller" : "bigger"],
        objectIds: [a.id, b.id],
        evidence,
      });
    }
  }
  const named = rng.shuffle(nameableObjects(context));
  for (let t = 0; t + 2 < named.length; t += 3) {
    const trio = named.slice(t, t + 3).map((k) => objects[k]!)
      .sort((x, y) => objectVolume(y) - objectVolume(x));
    const [first, second, third] = trio as [PlacedObject, PlacedObject, PlacedObject];
    out.push({
      category: "size",
      question: `Which is the largest: the ${
        rng.shuffle(trio).map(objectName).join(", the ").replace(/, the ([^,]*)$/, " or the $1")
      }?`,
      form: "largest",
      correct: objectName(first),
      distractors: [objectName(second), objectName(third)],
      objectIds: trio.map((o) => o.id),
      evidence: [{
        quantity: "log volume ratio",
        value: logRatio(first, second),
        margin: LOG_MARGIN,
      }],
    });
  }
  return out;
};
