import assert from "node:assert/strict";
import { answerGroupOf, finaliseDraft, type QuestionDraft } from "../../src/dataset/question.ts";
import { makeRng } from "../../src/domain/random.ts";

const draft = (distractors: string[]): QuestionDraft => ({
  category: "instance_location",
  question: "Where in the image is the red cube?",
  correct: "center",
  distractors,
  objectIds: [],
  evidence: [],
});

Deno.test("finaliseDraft groups the answer with its full option list whatever order the distractors come in", () => {
  const a = finaliseDraft(draft(["left half", "top left"]), new Map(), makeRng(1));
  const b = finaliseDraft(draft(["top left", "left half"]), new Map(), makeRng(2));
  assert.deepEqual(a.answerGroup, {
    key: "center | left half | top left",
    answers: ["center", "left half", "top left"],
  });
  assert.deepEqual(b.answerGroup, a.answerGroup);
});

Deno.test("finaliseDraft's answer group holds the distractors that were not shown too", () => {
  const many = ["top left", "top center", "top right", "middle left", "middle right"];
  const question = finaliseDraft(draft(many), new Map(), makeRng(1));
  assert.equal(question.options.length, 4);
  assert.deepEqual(question.answerGroup.answers, [...many, "center"].sort());
});

Deno.test("a draft's form goes into its answer group's key", () => {
  const question = finaliseDraft({ ...draft(["left half"]), form: "half" }, new Map(), makeRng(1));
  assert.equal(question.answerGroup.key, "half: center | left half");
});

Deno.test("options naming the question's objects are balanced as their shapes, a repeated shape numbered", () => {
  const sizeDraft = (
    correct: string,
    distractors: string[],
    objectIds: string[],
  ): QuestionDraft => ({
    category: "size",
    question: "Which is larger?",
    form: "larger",
    correct,
    distractors,
    objectIds,
    evidence: [],
  });
  const pair = finaliseDraft(
    sizeDraft("red cube", ["blue cone"], ["blue_cone.1", "red_cube.1"]),
    new Map(),
    makeRng(1),
  );
  assert.deepEqual(pair.answerGroup, { key: "larger: cone | cube", answers: ["cone", "cube"] });
  assert.equal(pair.groupAnswer, "cube");
  // Two cubes: by option text "blue cube" is "cube" and "red cube" is "cube 2".
  const trio = answerGroupOf(
    sizeDraft("red cube", ["blue cube", "green cone"], [
      "red_cube.1",
      "blue_cube.1",
      "green_cone.1",
    ]),
  );
  assert.deepEqual(trio.group.answers, ["cone", "cube", "cube 2"]);
  assert.equal(trio.answer, "cube 2");
});

Deno.test("options that name no object of the question keep their texts as answers", () => {
  const question = finaliseDraft(draft(["left half"]), new Map(), makeRng(1));
  assert.equal(question.groupAnswer, "center");
});
