import assert from "node:assert/strict";
import { type McRecord, optionPriorBaseline } from "../../src/dataset/blind_baseline.ts";
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
