import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { StvqaRecord } from "../../src/dataset/record.ts";
import { inQuestionOrder, responseTokenWeights, sftResponse } from "../../src/stages/examples.ts";
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

Deno.test("sftResponse with the first relation only keeps every object and the cited relation", () => {
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
  const first = sftResponse(record, "first");
  assert.ok(scene(all).relationships.length > 1);
  assert.deepEqual(scene(first).objects, scene(all).objects);
  assert.deepEqual(scene(first).relationships, scene(all).relationships.slice(0, 1));
  assert.equal(thinking(first), thinking(all));
  // "all" is the record's own scene text, byte for byte.
  assert.ok(record.answer_option_text.includes(/<scene>.*<\/scene>/.exec(all)![0]));
});

Deno.test("inQuestionOrder names objects as the question does, unnamed ones after in their order", () => {
  const ids = ["green_arrow.1", "cube.2", "red_cylinder.1", "blue_cone.3"];
  assert.deepEqual(
    inQuestionOrder(ids, "Where is the red cylinder with respect to the green arrow?"),
    ["red_cylinder.1", "green_arrow.1", "cube.2", "blue_cone.3"],
  );
  assert.deepEqual(inQuestionOrder(["b.1", "a.1"], "Anything here?"), ["b.1", "a.1"]);
});
