import assert from "node:assert/strict";
import {
  answerSpan,
  extractChoice,
  extractFreeForm,
  freeFormMatches,
} from "../../src/eval/extract.ts";

const CHOICES = ["behind", "in front of", "left of", "top left of"];
const letter = (output: string, choices: ReadonlyArray<string> = CHOICES) => {
  const e = extractChoice(output, choices);
  return e.kind === "choice" ? e.letter : e.kind === "failed" ? `failed:${e.reason}` : "text";
};

Deno.test("answerSpan takes the content of the last complete answer tag", () => {
  assert.equal(answerSpan("<answer>(A)</answer> wait <answer>(C) left of</answer>"), "(C) left of");
});

Deno.test("answerSpan reads a lone closing tag, a lone opening tag and an Answer: cue", () => {
  assert.equal(
    answerSpan("<think>t</think> (B) in front of </answer>"),
    "<think>t</think> (B) in front of",
  );
  assert.equal(answerSpan("<think>t</think><answer> (B) in front of </answer>"), "(B) in front of");
  assert.equal(answerSpan("<answer> B and then it stopped"), "B and then it stopped");
  assert.equal(answerSpan("Let me think. Answer: A. Final Answer: D"), "D");
});

Deno.test("extractChoice reads option letters with and without parentheses", () => {
  assert.equal(letter("<answer>(B)</answer>"), "B");
  assert.equal(letter("<answer>B</answer>"), "B");
  assert.equal(letter("<answer>B)</answer>"), "B");
  assert.equal(letter("<answer>B.</answer>"), "B");
  assert.equal(letter("<answer>(b)</answer>"), "B");
  assert.equal(letter("<answer>b</answer>"), "B");
});

Deno.test("extractChoice reads a letter followed by its option text", () => {
  assert.equal(letter("<answer>(A) behind</answer>"), "A");
  assert.equal(letter("<answer>C. left of</answer>"), "C");
  assert.equal(letter("<answer>D) top left of</answer>"), "D");
});

Deno.test("extractChoice reads the option text alone, ignoring case and punctuation", () => {
  assert.equal(letter("<answer>In Front Of.</answer>"), "B");
  assert.equal(letter("<answer> {behind} </answer>"), "A");
});

Deno.test("extractChoice finds the answer among surrounding words", () => {
  assert.equal(letter("<answer>The man is (B) in front of the bike</answer>"), "B");
  assert.equal(letter("I think the answer is C."), "C");
  assert.equal(letter("<answer>The lamp is behind the sofa.</answer>"), "A");
});

Deno.test("extractChoice prefers the longer option whose text contains a shorter one", () => {
  assert.equal(letter("<answer>it is top left of the cup</answer>"), "D");
});

Deno.test("extractChoice fails instead of defaulting to A when no option matches", () => {
  assert.equal(letter("<answer>beside</answer>"), "failed:no-match");
  assert.equal(letter("<answer>(E)</answer>"), "failed:no-match");
  assert.equal(letter("I am not sure."), "failed:no-match");
  assert.equal(letter("A dog sits there."), "failed:no-match");
});

Deno.test("extractChoice fails on an empty answer", () => {
  assert.equal(letter("<answer>  </answer>"), "failed:empty");
  assert.equal(letter(""), "failed:empty");
});

Deno.test("extractChoice fails when the answer names two options or contradicts itself", () => {
  assert.equal(letter("<answer>behind or in front of</answer>"), "failed:ambiguous");
  assert.equal(letter("<answer>(A) or (B)</answer>"), "failed:ambiguous");
  assert.equal(letter("<answer>(A) in front of</answer>"), "failed:ambiguous");
});

Deno.test("extractChoice reads numeric options by whole number, not by digit", () => {
  const counts = ["1", "2", "12"];
  assert.equal(letter("<answer>There are 12 chairs</answer>", counts), "C");
  assert.equal(letter("<answer>2</answer>", counts), "B");
});

Deno.test("extractFreeForm normalises case, punctuation and number words", () => {
  assert.deepEqual(extractFreeForm("<answer> Two. </answer>"), { kind: "text", text: "2" });
  assert.deepEqual(extractFreeForm("<answer></answer>"), { kind: "failed", reason: "empty" });
});

Deno.test("freeFormMatches accepts a matching first word for one-word references only", () => {
  assert.ok(freeFormMatches("yes, the cup is on the left", "Yes"));
  assert.ok(freeFormMatches("3 apples", "three"));
  assert.ok(!freeFormMatches("no", "Yes"));
  assert.ok(freeFormMatches("on the left", "On the left."));
  assert.ok(!freeFormMatches("on the right side", "on the right"));
});
