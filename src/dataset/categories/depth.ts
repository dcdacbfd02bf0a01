/**
 * `depth` questions: which object is closer to (or farther from) the camera.
 *
 * @module
 */
import {
  type CategoryGenerator,
  nameableObjects,
  namedPairs,
  objectName,
  type QuestionDraft,
} from "../question.ts";

/** Smallest difference of camera distances (world units) that a question may rest on. */
export const DEPTH_MARGIN = 0.5;

/** Proposes pairwise and three-way camera-distance comparisons. */
export const depthQuestions: CategoryGenerator = (context, rng) => {
  const { scene, truth } = context.rendered;
  const objects = scene.objects;
  const out: QuestionDraft[] = [];
  for (const [i, j] of namedPairs(context, rng)) {
    if (i > j) continue;
    const a = objects[i]!, b = objects[j]!;
    const diff = truth[i]!.cameraDistance - truth[j]!.cameraDistance;
    const [near, far] = diff < 0 ? [a, b] : [b, a];
    const evidence = [{
      quantity: "camera distance difference",
      value: diff,
      margin: DEPTH_MARGIN,
    }];
    const form = rng.int(0, 2);
    const names = `the ${objectName(a)} or the ${objectName(b)}`;
    out.push(
      form === 0
        ? {
          category: "depth",
          question: `Which is closer to the camera, ${names}?`,
          correct: objectName(near),
          distractors: [objectName(far)],
          objectIds: [a.id, b.id],
          evidence,
        }
        : form === 1
        ? {
          category: "depth",
          question: `Which is farther from the viewer, ${names}?`,
          correct: objectName(far),
          distractors: [objectName(near)],
          objectIds: [a.id, b.id],
          evidence,
        }
        : {
          category: "depth",
          question: `Is the ${objectName(a)} closer to the camera than the ${objectName(b)}?`,
          correct: diff < 0 ? "yes" : "no",
          distractors: [diff < 0 ? "no" : "yes"],
          objectIds: [a.id, b.id],
          evidence,
        },
    );
  }
  const named = rng.shuffle(nameableObjects(context));
  for (let t = 0; t + 2 < named.length; t += 3) {
    const trio = named.slice(t, t + 3).sort((x, y) =>
      truth[x]!.cameraDistance - truth[y]!.cameraDistance
    );
    const [first, second, third] = trio as [number, number, number];
    out.push({
      category: "depth",
      question: `Which of these is closest to the camera: the ${
        rng.shuffle(trio).map((k) => objectName(objects[k]!)).join(", the ").replace(
          /, the ([^,]*)$/,
          " or the $1",
        )
      }?`,
      correct: objectName(objects[first]!),
      distractors: [objectName(objects[second]!), objectName(objects[third]!)],
      objectIds: trio.map((k) => objects[k]!.id),
      evidence: [{
        quantity: "camera distance difference",
        value: truth[second]!.cameraDistance - truth[first]!.cameraDistance,
        margin: DEPTH_MARGIN,
      }],
    });
  }
  return out;
};
