import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { StvqaRecord } from "../../src/dataset/record.ts";
import {
  citedRelationship,
  inQuestionOrder,
  responseTokenWeights,
  sftResponse,
} from "../../src/stages/examples.ts";
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

Deno.test("sftResponse with the cited relation only keeps every object and the relation the reasoning cites", () => {
  const record = Schema.decodeUnknownSync(StvqaRecord)(
    JSON.parse(
      Deno.readTextFileSync(
        new URL("../../data/fixtures/stvqa/synthetic_record.json", import.meta.url),
      ),
    ),
  );
  const scene = (text: string) => JSON.parse(/<scene>(.*)<\/scene>/.exec(text)![1]!);
  const thinking = (text: string) => /<think>.*<\/think>/.exec(text)![0];
  const all = sftResponse(record, "all");
  const cited = sftResponse(record, "cited");
  assert.ok(scene(all).relationships.length > 1);
  assert.deepEqual(scene(cited).objects, scene(all).objects);
  assert.equal(scene(cited).relationships.length, 1);
  const [relation] = scene(cited).relationships;
  assert.ok(
    scene(all).relationships.some((r: unknown) => JSON.stringify(r) === JSON.stringify(relation)),
  );
  assert.equal(thinking(cited), thinking(all));
  assert.ok(thinking(cited).includes(` is ${relation.predicate} `));
  // "all" is the record's own scene text, byte for byte.
  assert.ok(record.answer_option_text.includes(/<scene>.*<\/scene>/.exec(all)![0]));
});

const rel = (subject: string, predicate: string, object: string) => ({
  subject,
  predicate,
  object,
});

Deno.test("citedRelationship picks the relationship that decides the answer", () => {
  const arrowCube = [
    rel("green_arrow.1", "left of", "red_cube.1"),
    rel("green_arrow.1", "behind", "red_cube.1"),
    rel("green_arrow.1", "smaller than", "red_cube.1"),
    rel("green_arrow.1", "farther from the camera than", "red_cube.1"),
  ];
  const cases: Array<
    [category: string, question: string, answer: string, cited: string | undefined]
  > = [
    // The answer names the predicate.
    ["relation", "Where is the green arrow relative to the red cube?", "(B) behind", "behind"],
    // The question names it ("to the left of"); the answer is yes/no.
    ["existence", "Is there a green arrow to the left of the red cube?", "(A) yes", "left of"],
    // Neither does ("bigger"): the category's predicates decide.
    [
      "size",
      "Is the green arrow bigger or smaller than the red cube?",
      "(A) smaller",
      "smaller than",
    ],
    [
      "depth",
      "Is the green arrow closer to the camera than the red cube?",
      "(A) no",
      "farther from the camera than",
    ],
    // Nothing matches: the first relationship.
    ["orientation", "Is the green arrow facing the red cube?", "(A) no", "left of"],
    // Count questions cite none: their reason is the number.
    ["count", "How many green objects are there?", "(A) 1", undefined],
  ];
  for (const [category, question, answer, cited] of cases) {
    assert.equal(
      citedRelationship(arrowCube, category, question, answer)?.predicate,
      cited,
      category,
    );
  }
  assert.equal(citedRelationship([], "relation", "Where is it?", "(A) above"), undefined);
});

Deno.test("citedRelationship prefers a relationship involving the object the answer names", () => {
  const relationships = [
    rel("orange_sphere.1", "near", "yellow_arrow.1"),
    rel("red_cube.1", "near", "yellow_arrow.1"),
  ];
  const question = "Which object is closer to the yellow arrow, the red cube or the orange sphere?";
  assert.deepEqual(
    citedRelationship(relationships, "distance", question, "(B) red cube"),
    relationships[1],
  );
});

Deno.test("inQuestionOrder names objects as the question does, unnamed ones after in their order", () => {
  const ids = ["green_arrow.1", "cube.2", "red_cylinder.1", "blue_cone.3"];
  assert.deepEqual(
    inQuestionOrder(ids, "Where is the red cylinder with respect to the green arrow?"),
    ["red_cylinder.1", "green_arrow.1", "cube.2", "blue_cone.3"],
  );
  assert.deepEqual(inQuestionOrder(["b.1", "a.1"], "Anything here?"), ["b.1", "a.1"]);
});
