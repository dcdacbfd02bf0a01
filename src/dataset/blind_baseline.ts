/**
 * The option-prior ("blind") baseline: how well the answers of held-out records can be guessed
 * from the option texts alone, without the image or the question. For every (category, option
 * text) the training split gives the rate at which that text is the correct option (Laplace
 * smoothed); a held-out question is answered with its highest-rate option (ties split evenly: a
 * question whose k best options tie scores 1/k when the answer is among them). Far above chance means
 * the distractors give the answer away, a flaw VQA benchmarks report as their "blind" baseline.
 * Pure function over plain records.
 *
 * @module
 */
import { CATEGORIES, type Category } from "./question.ts";

/** What the baseline reads of a record. */
export interface McRecord {
  readonly category: Category;
  readonly options: ReadonlyArray<string>;
  /** The correct option's letter, "A" for options[0]. */
  readonly answer_only: string;
}

/** Held-out accuracy of the baseline, beside the chance rate of the same records. */
export interface BlindScore {
  readonly count: number;
  readonly accuracy: number;
  /** Mean of 1 / number of options. */
  readonly chance: number;
}

/** Overall and per-category scores (categories without held-out records are left out). */
export interface BlindBaseline {
  readonly overall: BlindScore;
  readonly perCategory: Readonly<Partial<Record<Category, BlindScore>>>;
}

const LETTERS = "ABCDEFGHIJ";

/**
 * Fits the option prior on `train` and scores it on `heldOut`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionPriorBaseline } from "./blind_baseline.ts";
 * const r = (answer_only: string) =>
 *   ({ category: "relation" as const, options: ["left of", "above"], answer_only });
 * // "left of" is always right in training, so the baseline always picks it.
 * const score = optionPriorBaseline([r("A"), r("A")], [r("A"), r("B")]);
 * assert.equal(score.overall.accuracy, 0.5);
 * ```
 */
export const optionPriorBaseline = (
  train: ReadonlyArray<McRecord>,
  heldOut: ReadonlyArray<McRecord>,
): BlindBaseline => {
  const shown = new Map<string, number>();
  const correct = new Map<string, number>();
  const key = (category: Category, option: string) => `${category}\u0000${option}`;
  for (const record of train) {
    record.options.forEach((option, i) => {
      const k = key(record.category, option);
      shown.set(k, (shown.get(k) ?? 0) + 1);
      if (LETTERS[i] === record.answer_only) correct.set(k, (correct.get(k) ?? 0) + 1);
    });
  }
  const rate = (category: Category, option: string) => {
    const k = key(category, option);
    return ((correct.get(k) ?? 0) + 1) / ((shown.get(k) ?? 0) + 2);
  };
  const tally = new Map<Category, { count: number; hits: number; chance: number }>();
  for (const record of heldOut) {
    const rates = record.options.map((o) => rate(record.category, o));
    const best = Math.max(...rates);
    // Tied options are picked uniformly (expected credit), not by display position: with balanced
    // answers the rates tie exactly, and picking (A) would measure the letter shuffle instead.
    const tied = record.options.flatMap((_, i) => rates[i] === best ? [LETTERS[i]] : []);
    const t = tally.get(record.category) ?? { count: 0, hits: 0, chance: 0 };
    t.count++;
    if (tied.includes(record.answer_only)) t.hits += 1 / tied.length;
    t.chance += 1 / record.options.length;
    tally.set(record.category, t);
  }
  const score = (t: { count: number; hits: number; chance: number }): BlindScore => ({
    count: t.count,
    accuracy: t.count === 0 ? 0 : t.hits / t.count,
    chance: t.count === 0 ? 0 : t.chance / t.count,
  });
  const all = [...tally.values()].reduce(
    (a, t) => ({ count: a.count + t.count, hits: a.hits + t.hits, chance: a.chance + t.chance }),
    { count: 0, hits: 0, chance: 0 },
  );
  return {
    overall: score(all),
    perCategory: Object.fromEntries(
      CATEGORIES.filter((c) => tally.has(c)).map((c) => [c, score(tally.get(c)!)]),
    ),
  };
};
