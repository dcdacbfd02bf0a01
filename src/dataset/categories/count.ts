/**
 * `count` questions: how many objects of a shape, a colour, or both are in the image. Every
 * counted object must be clearly visible, so a hidden or tiny instance drops the question.
 *
 * @module
 */
import type { PlacedObject } from "../../scene/types.ts";
import type { CategoryGenerator, QuestionDraft } from "../question.ts";

interface CountClass {
  readonly question: string;
  readonly matches: (o: PlacedObject) => boolean;
}

/**
 * Proposes one question per shape, colour and colour-shape class with two or more members, and
 * as many single-member classes (most classes have one member; this keeps "1" from dominating).
 */
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
  const keys = [...classes.keys()].sort();
  const many = keys.filter((k) => objects.filter(classes.get(k)!.matches).length >= 2);
  const single = rng.shuffle(keys.filter((k) => !many.includes(k))).slice(
    0,
    Math.max(1, many.length),
  );
  const out: QuestionDraft[] = [];
  for (const key of [...many, ...single].sort()) {
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
