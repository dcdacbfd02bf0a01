import assert from "node:assert/strict";
import { type EvaluatedPrompt, summarize } from "../../src/program/greedy_eval.ts";

const prompt = (
  category: string,
  options: number,
  correct: boolean,
  namesOneOption: boolean,
  objectRecall: number | undefined,
): EvaluatedPrompt => ({
  imageId: "img",
  category,
  options,
  response: "",
  reward: {
    overall: correct ? 0.8 : 0.2,
    format: 1,
    count: 0.5,
    accuracy: correct ? 1 : 0,
    spatial: 0,
  },
  correct,
  namesOneOption,
  objectRecall,
});

Deno.test("summarize: accuracy, chance per category, recall over defined values, valid answers", () => {
  const summary = summarize([
    prompt("relation", 2, true, true, 1),
    prompt("relation", 4, false, true, 0.5),
    prompt("count", 4, false, false, undefined),
    prompt("count", 4, false, false, 0),
  ]);
  assert.equal(summary.count, 4);
  assert.equal(summary.accuracy, 0.25);
  assert.equal(summary.formatRate, 1);
  assert.ok(Math.abs(summary.meanReward - 0.35) < 1e-12);
  assert.equal(summary.objectRecall, 0.5);
  assert.equal(summary.validAnswerRate, 0.5);
  assert.deepEqual(summary.perCategory, {
    relation: { accuracy: 0.5, count: 2, chance: 0.375 },
    count: { accuracy: 0, count: 2, chance: 0.25 },
  });
});

Deno.test("summarize: an empty evaluation is all zeros, not NaN", () => {
  const summary = summarize([]);
  assert.deepEqual(
    [summary.accuracy, summary.formatRate, summary.objectRecall, summary.validAnswerRate],
    [0, 0, 0, 0],
  );
});
