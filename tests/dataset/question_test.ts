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

Deno.test("finaliseDraft names the full option list whatever order the distractors come in", () => {
  const a = finaliseDraft(draft(["left half", "top left"]), new Map(), makeRng(1));
  const b = finaliseDraft(draft(["top left", "left half"]), new Map(), makeRng(2));
  assert.equal(a.optionList, "center | left half | top left");
  assert.equal(b.optionList, a.optionList);
});

Deno.test("finaliseDraft's option list holds the distractors that were not shown too", () => {
  const many = ["top left", "top center", "top right", "middle left", "middle right"];
  const question = finaliseDraft(draft(many), new Map(), makeRng(1));
  assert.equal(question.options.length, 4);
  assert.equal(question.optionList, [...many, "center"].sort().join(" | "));
});
