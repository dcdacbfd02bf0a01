import assert from "node:assert/strict";
import {
  fitQuestionAware,
  type McRecord,
  optionPriorBaseline,
  questionAwareBaseline,
} from "../../src/dataset/blind_baseline.ts";
import { makeRng } from "../../src/domain/random.ts";

const LETTERS = "ABCD";

/** A record whose options are `options` in this order with `answer` the correct text. */
const record = (
  options: string[],
  answer: string,
  category: McRecord["category"] = "relation",
) => ({
  category,
  options,
  answer_only: LETTERS[options.indexOf(answer)]!,
});

Deno.test("optionPriorBaseline finds the answer when the distractors give it away", () => {
  // "left of" is correct whenever it is shown: vertical distractors are always false.
  const rng = makeRng(1);
  const make = () => {
    const options = rng.shuffle(["left of", "above", "below", "on top of"]);
    return record(options, "left of");
  };
  const train = Array.from({ length: 200 }, make);
  const heldOut = Array.from({ length: 50 }, make);
  const score = optionPriorBaseline(train, heldOut);
  assert.equal(score.overall.accuracy, 1);
  assert.equal(score.overall.chance, 0.25);
  assert.equal(score.perCategory.relation?.count, 50);
});

Deno.test("optionPriorBaseline stays near chance when every option text is right equally often", () => {
  const rng = makeRng(2);
  const texts = ["left of", "right of", "in front of", "behind"];
  const make = () => {
    const options = rng.shuffle([...texts]);
    return record(options, options[rng.int(0, 3)]!);
  };
  const score = optionPriorBaseline(
    Array.from({ length: 2000 }, make),
    Array.from({ length: 2000 }, make),
  );
  assert.ok(Math.abs(score.overall.accuracy - 0.25) < 0.04, `${score.overall.accuracy}`);
});

Deno.test("optionPriorBaseline fits each category on its own and scores only held-out categories", () => {
  const train = [
    record(["yes", "no"], "yes", "existence"),
    record(["yes", "no"], "yes", "existence"),
    record(["bigger", "smaller"], "smaller", "size"),
  ];
  const heldOut = [
    record(["yes", "no"], "no", "existence"),
    record(["no", "yes"], "yes", "existence"),
  ];
  const score = optionPriorBaseline(train, heldOut);
  assert.deepEqual(Object.keys(score.perCategory), ["existence"]);
  assert.equal(score.perCategory.existence?.accuracy, 0.5);
  assert.equal(score.overall.chance, 0.5);
});

Deno.test("optionPriorBaseline splits tied options evenly instead of picking the first shown", () => {
  // "bigger" and "smaller" are right equally often in training: their rates tie exactly.
  const train = [record(["bigger", "smaller"], "bigger"), record(["smaller", "bigger"], "smaller")];
  const answerFirst = [
    record(["bigger", "smaller"], "bigger"),
    record(["smaller", "bigger"], "smaller"),
  ];
  const score = optionPriorBaseline(train, answerFirst);
  assert.equal(score.overall.accuracy, 0.5);
});

/** A record that the question-aware baseline reads: `record` plus its question. */
const asked = (
  question_only: string,
  options: string[],
  answer: string,
  category: McRecord["category"] = "size",
) => ({ ...record(options, answer, category), question_only });

Deno.test("fitQuestionAware gives each option its log odds relative to the category's share of correct options", () => {
  // One four-option question, "left of" right: p = 1/4. "left of" has features ("left", "0:where")
  // and ("of", "0:where"), each seen once and correct: r = (1 + 1/4) / 2 = 5/8, and
  // logit(5/8) - logit(1/4) = log(5/3) + log(3) = log(5) each. The wrong options' features:
  // r = (0 + 1/4) / 2 = 1/8, logit(1/8) - logit(1/4) = log(3/7). "of" is shared by "left of" and
  // "right of", so it counts once correct and once wrong: r = (1 + 1/4) / 3 = 5/12, log(15/7).
  const options = ["left of", "right of", "above", "below"];
  const score = fitQuestionAware([asked("Where?", options, "left of", "relation")]);
  const [left, right, above, below] = score(asked("Where?", options, "above", "relation"));
  const close = (actual: number | undefined, expected: number) =>
    assert.ok(Math.abs(actual! - expected) < 1e-12, `${actual} vs ${expected}`);
  close(left, Math.log(5) + Math.log(15 / 7));
  close(right, Math.log(3 / 7) + Math.log(15 / 7));
  close(above, Math.log(3 / 7));
  close(below, Math.log(3 / 7));
});

Deno.test("fitQuestionAware adds nothing for words that are right as often as chance, however many", () => {
  // Every option right once in four questions: each feature's rate is exactly p = 1/4.
  const options = ["in front of", "behind", "left of", "right of"];
  const train = options.map((answer) => asked("Where is it?", options, answer, "relation"));
  assert.deepEqual(fitQuestionAware(train)(train[0]!), [0, 0, 0, 0]);
  // A category never seen in training scores every option 0 as well.
  assert.deepEqual(fitQuestionAware(train)(asked("Larger?", ["a", "b"], "a")), [0, 0]);
});

Deno.test("questionAwareBaseline finds answers that only the question's shape words give away", () => {
  // The cube is always the larger: every option text is right half the time (the option prior is
  // at chance), but "larger" with "cube" (or "smaller" with "cone") gives the answer.
  const rng = makeRng(3);
  const make = () => {
    const larger = rng.next() < 0.5;
    const [c1, c2] = rng.shuffle(["red", "blue", "green", "cyan"]);
    const options = rng.shuffle([`${c1} cube`, `${c2} cone`]);
    const question = `Which is ${larger ? "larger" : "smaller"}, the ${options[0]} or the ${
      options[1]
    }?`;
    return asked(question, options, larger ? `${c1} cube` : `${c2} cone`);
  };
  const train = Array.from({ length: 400 }, make), heldOut = Array.from({ length: 200 }, make);
  assert.ok(Math.abs(optionPriorBaseline(train, heldOut).overall.accuracy - 0.5) < 0.1);
  assert.equal(questionAwareBaseline(train, heldOut).overall.accuracy, 1);
});

Deno.test("questionAwareBaseline tells which object a word belongs to by its position", () => {
  // The same words in both questions; only their order says whether the cube comes first.
  const cubeFirst = asked(
    "Is the cube bigger or smaller than the cone?",
    ["bigger", "smaller"],
    "bigger",
  );
  const coneFirst = asked(
    "Is the cone bigger or smaller than the cube?",
    ["bigger", "smaller"],
    "smaller",
  );
  const score = questionAwareBaseline([cubeFirst, coneFirst], [coneFirst, cubeFirst]);
  assert.equal(score.overall.accuracy, 1);
  assert.equal(score.perCategory.size?.chance, 0.5);
});

Deno.test("questionAwareBaseline splits tied options evenly", () => {
  // Nothing learnt about these words: both options score 0 and share the credit.
  const train = [asked("Which is larger?", ["cube", "cone"], "cube")];
  const heldOut = [
    asked("Is it near?", ["yes", "no"], "no"),
    asked("Is it far?", ["no", "yes"], "no"),
  ];
  assert.equal(questionAwareBaseline(train, heldOut).overall.accuracy, 0.5);
});
