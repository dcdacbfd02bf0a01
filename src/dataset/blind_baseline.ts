/**
 * "Blind" baselines: how well the answers of held-out records can be guessed without the image.
 * Far above chance means the text gives the answer away, a flaw VQA benchmarks report as their
 * blind baseline. Both are fitted on a training split and scored on held-out records; a question
 * whose k best options tie scores 1/k when the answer is among them. Pure functions over plain
 * records.
 *
 * - {@link optionPriorBaseline} reads only the option texts.
 * - {@link questionAwareBaseline} also reads the question (its words and where they stand), so it
 *   finds answers that follow from the wording, e.g. "cube" beating "cone" in "Which is larger".
 *
 * @module
 */
import { CATEGORIES, type Category } from "./question.ts";

/** What the option-prior baseline reads of a record. */
export interface McRecord {
  readonly category: Category;
  readonly options: ReadonlyArray<string>;
  /** The correct option's letter, "A" for options[0]. */
  readonly answer_only: string;
}

/** What the question-aware baseline reads of a record: the options and the question text. */
export interface McQuestionRecord extends McRecord {
  /** The question without its options, e.g. "Which is larger, the red cube or the blue cone?". */
  readonly question_only: string;
}

/** Held-out accuracy of a baseline, beside the chance rate of the same records. */
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

/** Scores closer than this count as tied (sums of logs in a different order differ by ~1e-15). */
const TIE = 1e-12;

/**
 * Scores `heldOut` with `scoreOptions` (one score per option, highest picked). Tied options are
 * picked uniformly (expected credit), not by display position: with balanced answers the scores
 * tie exactly, and picking (A) would measure the letter shuffle instead.
 */
const scoreHeldOut = <R extends McRecord>(
  heldOut: ReadonlyArray<R>,
  scoreOptions: (record: R) => ReadonlyArray<number>,
): BlindBaseline => {
  const tally = new Map<Category, { count: number; hits: number; chance: number }>();
  for (const record of heldOut) {
    const scores = scoreOptions(record);
    const best = Math.max(...scores);
    const tied = record.options.flatMap((_, i) => best - scores[i]! <= TIE ? [LETTERS[i]] : []);
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

/**
 * The option prior: for every (category, option text) the training split gives the rate at which
 * that text is the correct option (Laplace smoothed); a held-out question is answered with its
 * highest-rate option.
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
  return scoreHeldOut(heldOut, (record) =>
    record.options.map((option) => {
      const k = key(record.category, option);
      return ((correct.get(k) ?? 0) + 1) / ((shown.get(k) ?? 0) + 2);
    }));
};

/** Lower-case words (letters and digits) of a text. */
const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * The features of one (question, option) pair: every option word paired with every question word
 * and its position ("cube" with "3:larger"). Positions keep which object a word belongs to ("Is
 * the cube bigger or smaller than the cone?" is not "... the cone ... than the cube?").
 */
const pairFeatures = (category: Category, question: ReadonlyArray<string>, option: string) => [
  ...new Set(
    words(option).flatMap((o) => question.map((q, p) => `${category}\u0000${o}\u0000${p}:${q}`)),
  ),
];

/**
 * Fits naive Bayes over (option word, positioned question word) pairs on `train` and returns the
 * scorer: for each option of a record, its log odds of being correct, relative to the category's
 * share of correct (question, option) pairs `p`. Each feature `f` (a pair the option and the
 * question have) adds `logit(r_f) − logit(p)`, where `r_f = (correct_f + p) / (shown_f + 1)` is
 * the rate at which training pairs with `f` are correct, smoothed towards `p` by one pair. This is
 * `log P(f | correct) − log P(f | wrong)`, so a feature as frequent among correct as among wrong
 * pairs adds exactly nothing (as does one never seen), whatever the number of options or words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitQuestionAware } from "./blind_baseline.ts";
 * const r = { category: "size" as const, question_only: "Larger?", options: ["cube", "cone"] };
 * // One training question, "cube" right: p = 1/2, r("cube" with "0:larger") = 1.5 / 2.
 * const score = fitQuestionAware([{ ...r, answer_only: "A" }]);
 * assert.deepEqual(score({ ...r, answer_only: "A" }), [Math.log(3), -Math.log(3)]);
 * ```
 */
export const fitQuestionAware = (
  train: ReadonlyArray<McQuestionRecord>,
): (record: McQuestionRecord) => number[] => {
  // Per feature and per category: how many correct and how many (question, option) pairs.
  const feature = new Map<string, { correct: number; shown: number }>();
  const category = new Map<Category, { correct: number; shown: number }>();
  const count = <K>(m: Map<K, { correct: number; shown: number }>, k: K, correct: boolean) => {
    const n = m.get(k) ?? { correct: 0, shown: 0 };
    n.shown++;
    if (correct) n.correct++;
    m.set(k, n);
  };
  for (const record of train) {
    const question = words(record.question_only);
    record.options.forEach((option, i) => {
      const correct = LETTERS[i] === record.answer_only;
      count(category, record.category, correct);
      for (const f of pairFeatures(record.category, question, option)) count(feature, f, correct);
    });
  }
  const logit = (x: number) => Math.log(x / (1 - x));
  return (record) => {
    const question = words(record.question_only);
    const total = category.get(record.category);
    if (total === undefined) return record.options.map(() => 0);
    const p = total.correct / total.shown;
    return record.options.map((option) =>
      pairFeatures(record.category, question, option).reduce((logOdds, f) => {
        const n = feature.get(f);
        return n === undefined
          ? logOdds
          : logOdds + logit((n.correct + p) / (n.shown + 1)) - logit(p);
      }, 0)
    );
  };
};

/**
 * The question-aware baseline: {@link fitQuestionAware} fitted on `train`, each held-out question
 * answered with its highest-scoring option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { questionAwareBaseline } from "./blind_baseline.ts";
 * const r = (question_only: string, answer_only: string) =>
 *   ({ category: "size" as const, question_only, options: ["red cube", "blue cone"], answer_only });
 * // Each option text is right half the time, but the cube is always the larger one.
 * const train = [r("Which is larger?", "A"), r("Which is smaller?", "B")];
 * const heldOut = [r("Which is smaller?", "B"), r("Which is larger?", "A")];
 * assert.equal(questionAwareBaseline(train, heldOut).overall.accuracy, 1);
 * ```
 */
export const questionAwareBaseline = (
  train: ReadonlyArray<McQuestionRecord>,
  heldOut: ReadonlyArray<McQuestionRecord>,
): BlindBaseline => scoreHeldOut(heldOut, fitQuestionAware(train));
