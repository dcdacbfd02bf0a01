import assert from "node:assert/strict";
import { Effect } from "effect";
import { responseTokenWeights } from "../../src/stages/examples.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";

const tokenizer = await Effect.runPromise(
  loadTokenizer(new URL("../../data/tokenizer/tiny/tokenizer.json", import.meta.url).pathname),
);

Deno.test("responseTokenWeights gives the scene JSON weight 1 and every other token the focus weight", () => {
  const observe = "<observe>I see the red cube.</observe>";
  const scene = '<scene>{"objects": [{"id": "red_cube.1", "bbox": [1, 2, 3, 4]}]}</scene>';
  const rest = "<think>It is there.</think><answer>(A) yes</answer>";
  const response = observe + scene + rest;
  const tokens = tokenizer.encode(response);
  const weights = responseTokenWeights(response, tokens, tokenizer, 5);
  assert.equal(weights.length, tokens.length);
  // Rebuild each weight class's text from its tokens.
  const textOf = (w: number) =>
    tokens.map((id, i) => (weights[i] === w ? tokenizer.decode([id]) : "|")).join("")
      .split("|").filter((s) => s !== "");
  assert.ok(textOf(1).join("").includes('"bbox": [1, 2, 3, 4]'));
  assert.ok(textOf(5).join("").includes("I see the red cube."));
  assert.ok(textOf(5).join("").includes("(A) yes"));
  assert.ok(!textOf(5).join("").includes("bbox"));
});
