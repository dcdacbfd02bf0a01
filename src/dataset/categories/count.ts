/**
 * `count` questions: how many objects of a shape, a colour, or both are in the image. Every
 * counted object must be clearly visible, so a hidden or tiny instance drops the question.
 *
 * @module
 */
import type { SceneObject } from "../../scene/types.ts";
import type { CategoryGenerator, QuestionDraft } from "../question.ts";

interface CountClass {
  readonly question: string;
  readonly matches: (o: SceneObject) => boolean;
}

/** Proposes one question per shape, colour and colour-shape class present in the scene. */
export const countQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const classes = new Map<string, CountClass>();
  for (const o of objects) {
    classes.set(`shape:${o.shape}`, {
      question: rng.next() < 0.5
        ? `How many ${o.shape}s are there in the image?`
        : `How many ${o.shape}s can you see?`,
      matches: (x) => x.shape === o.shape,
    });
    classes.set(`colour:${o.colour}`, {
      question: `How many ${o.colour} objects are in the scene?`,
      matches: (x) => x.colour === o.colour,
    });
    classes.set(`both:${o.colour}_${o.shape}`, {
      question: `Count the ${o.colour} ${o.shape}s. How many are there?`,
      matches: (x) => x.colour === o.colour && x.shape === o.shape,
    });
  }
  const out: QuestionDraft[] = [];
  for (const key of [...classes.keys()].sort()) {
    const { question, matches } = classes.get(key)!;
    const matching = objects.filter(matches);
    const n = matching.length;
    const wrong = rng.shuffle([n - 2, n - 1, n + 1, n + 2, n + 3].filter((v) => v >= 0));
    out.push({
      category: "count",
      question,
      correct: String(n),
      distractors: wrong.slice(0, 3).map(String),
      objectIds: matching.map((o) => o.id),
      evidence: [],
    });
  }
  return out;
};
