/**
 * `existence` questions: is there an object of some colour and shape in the image, or one standing
 * in a given relation to a named object. "No" answers use classes absent from the scene, or a
 * relation whose opposite clearly holds.
 *
 * @module
 */
import { toCameraFrame } from "../../scene/camera.ts";
import { DEFAULT_RELATION_MARGINS } from "../../scene/relations.ts";
import { type Colour, COLOURS, SHAPES } from "../../scene/types.ts";
import {
  type CategoryGenerator,
  namedPairs,
  objectName,
  type QuestionDraft,
  withArticle,
} from "../question.ts";

const yesNo = (yes: boolean) => ({
  correct: yes ? "yes" : "no",
  distractors: [yes ? "no" : "yes"],
});

/** Proposes plain and relational existence questions, with as many "no" as "yes" answers. */
export const existenceQuestions: CategoryGenerator = (context, rng) => {
  const { scene } = context.rendered;
  const objects = scene.objects;
  const out: QuestionDraft[] = [];
  const present = new Set(objects.map(objectName));
  const absent = rng.shuffle(
    (Object.keys(COLOURS) as Colour[]).flatMap((colour) =>
      SHAPES.map((shape) => objectName({ colour, shape }))
    ).filter((name) => !present.has(name)),
  );
  const phrase = (name: string) =>
    rng.next() < 0.5
      ? `Is there ${withArticle(name)} in the image?`
      : `Can you see ${withArticle(name)} in the scene?`;
  [...present].sort().forEach((name, t) => {
    out.push({
      category: "existence",
      question: phrase(name),
      ...yesNo(true),
      objectIds: objects.filter((o) => objectName(o) === name).map((o) => o.id),
      evidence: [],
    });
    const missing = absent[t];
    if (missing !== undefined) {
      out.push({
        category: "existence",
        question: phrase(missing),
        ...yesNo(false),
        objectIds: [],
        evidence: [],
      });
    }
  });
  // Relational: "Is there a red cube to the left of the blue sphere?"; "no" when it is clearly right.
  for (const [i, j] of namedPairs(context, rng).slice(0, 4)) {
    const a = objects[i]!, b = objects[j]!;
    const dx = toCameraFrame(scene.camera, a.position)[0] -
      toCameraFrame(scene.camera, b.position)[0];
    const askLeft = rng.next() < 0.5;
    out.push({
      category: "existence",
      question: `Is there ${withArticle(objectName(a))} to the ${
        askLeft ? "left" : "right"
      } of the ${objectName(b)}?`,
      ...yesNo(askLeft === dx < 0),
      objectIds: [a.id, b.id],
      evidence: [{
        quantity: "lateral offset",
        value: dx,
        margin: DEFAULT_RELATION_MARGINS.lateral,
      }],
    });
  }
  return out;
};
