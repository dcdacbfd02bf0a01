import assert from "node:assert/strict";
import { finaliseDraft, type QuestionDraft } from "../../src/dataset/question.ts";
import { makeRng } from "../../src/domain/random.ts";

const draft = (distractors: string[]): QuestionDraft => ({
  category: "instance_location",
  question: "Where in the image is the red cube?",
  correct: "center",
  distractors,
  objectIds: [],
  evidence: [],
});

Deno.test("finaliseDraft keys the answer within its option list when every option is shown", () => {
  const a = finaliseDraft(draft(["left half", "top left"]), new Map(), makeRng(1));
  const b = finaliseDraft(draft(["top left", "left half"]), new Map(), makeRng(2));
  assert.equal(a.answerKey, "center among center | left half | top left");
  assert.equal(b.answerKey, a.answerKey);
});

Deno.test("finaliseDraft keys the answer alone when the shown distractors are a random subset", () => {
  const many = ["top left", "top center", "top right", "middle left", "middle right"];
  const question = finaliseDraft(draft(many), new Map(), makeRng(1));
  assert.equal(question.options.length, 4);
  assert.equal(question.answerKey, "center");
});
