/**
 * `count` questions: how many objects of a shape, a colour, or both are in the image, from zero
 * (a class absent from the scene) to {@link MAX_COUNT}. Every counted object must be clearly
 * visible, so a hidden or tiny instance drops the question.
 *
 * @module
 */
import type { Rng } from "../../domain/random.ts";
import { type Colour, COLOURS, type PlacedObject, SHAPES } from "../../scene/types.ts";
import type { CategoryGenerator, QuestionDraft } from "../question.ts";

/** Number of numeric options of a count question. */
export const COUNT_OPTIONS = 4;

/**
 * The largest count asked. Larger counts are rare (a class needs five clearly visible members),
 * and a window around a rare answer would hold it less often than its neighbours.
 */
export const MAX_COUNT = 4;

/**
 * The options of a count question: {@link COUNT_OPTIONS} consecutive counts within
 * 0..{@link MAX_COUNT} around the answer `n`, the window drawn uniformly from those that hold `n`.
 * With the windows fixed (0–3 and 1–4) and the balancer spreading picks evenly over each window's
 * answers, every count is correct in exactly a quarter of the questions that show it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeRng } from "../../domain/random.ts";
 * import { countWindow } from "./count.ts";
 * assert.deepEqual(countWindow(0, makeRng(1)), [0, 1, 2, 3]);
 * assert.deepEqual(countWindow(4, makeRng(1)), [1, 2, 3, 4]);
 * ```
 */
export const countWindow = (n: number, rng: Rng): number[] => {
  if (!(Number.isInteger(n) && n >= 0 && n <= MAX_COUNT)) {
    throw new RangeError(`a count question's answer must be in 0..${MAX_COUNT}, got ${n}`);
  }
  const lowest = Math.max(0, n - COUNT_OPTIONS + 1);
  const highest = Math.min(n, MAX_COUNT - COUNT_OPTIONS + 1);
  const start = rng.int(lowest, highest);
  return Array.from({ length: COUNT_OPTIONS }, (_, k) => start + k);
};

interface CountClass {
  /** What is counted: "shape", "colour" or "colour and shape" (the draft's form). */
  readonly form: string;
  readonly question: string;
  readonly matches: (o: Pick<PlacedObject, "colour" | "shape">) => boolean;
}

/** The class question of a shape, a colour or a colour-shape key ("shape:cube", …). */
const countClass = (key: string, rng: Rng): CountClass => {
  const [kind, value] = key.split(":") as [string, string];
  if (kind === "shape") {
    return {
      form: "shape",
      question: rng.next() < 0.5
        ? `How many ${value}s are there in the image?`
        : `How many ${value}s can you see?`,
      matches: (x) => x.shape === value,
    };
  }
  if (kind === "colour") {
    return {
      form: "colour",
      question: `How many ${value} objects are in the scene?`,
      matches: (x) => x.colour === value,
    };
  }
  const [colour, shape] = value.split("_") as [string, string];
  return {
    form: "colour and shape",
    question: `Count the ${colour} ${shape}s. How many are there?`,
    matches: (x) => x.colour === colour && x.shape === shape,
  };
};

const classKeys = (o: Pick<PlacedObject, "colour" | "shape">): string[] => [
  `shape:${o.shape}`,
  `colour:${o.colour}`,
  `both:${o.colour}_${o.shape}`,
];

/**
 * Proposes one question per shape, colour and colour-shape class with two to {@link MAX_COUNT}
 * members, as many single-member classes (most classes have one member; this keeps "1" from
 * dominating), and one class absent from the scene (answer 0).
 */
export const countQuestions: CategoryGenerator = (context, rng) => {
  const objects = context.rendered.scene.objects;
  const present = [...new Set(objects.flatMap(classKeys))].sort();
  const classes = new Map(present.map((key) => [key, countClass(key, rng)]));
  const size = (key: string) => objects.filter(classes.get(key)!.matches).length;
  const many = present.filter((k) => size(k) >= 2 && size(k) <= MAX_COUNT);
  const single = rng.shuffle(present.filter((k) => size(k) === 1)).slice(
    0,
    Math.max(1, many.length),
  );
  const allClasses = (Object.keys(COLOURS) as Colour[]).flatMap((colour) =>
    SHAPES.flatMap((shape) => classKeys({ colour, shape }))
  );
  const absent = [...new Set(allClasses)].filter((k) => !classes.has(k)).sort();
  // Kind first, so that colour-shape pairs (the most numerous classes) do not make "Count the
  // red cubes" the usual zero question.
  const kinds = [...new Set(absent.map((k) => k.split(":")[0]!))];
  const none = kinds.length === 0
    ? []
    : [rng.pick(absent.filter((k) => k.startsWith(`${rng.pick(kinds)}:`)))];
  for (const key of none) classes.set(key, countClass(key, rng));
  const out: QuestionDraft[] = [];
  for (const key of [...many, ...single, ...none].sort()) {
    const { form, question, matches } = classes.get(key)!;
    const matching = objects.filter(matches);
    const n = matching.length;
    out.push({
      category: "count",
      question,
      // A colour-shape pair rarely has three members, a colour often does: balance each form.
      form,
      correct: String(n),
      distractors: countWindow(n, rng).filter((v) => v !== n).map(String),
      objectIds: matching.map((o) => o.id),
      evidence: [],
    });
  }
  return out;
};
