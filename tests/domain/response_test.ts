import assert from "node:assert/strict";
import { Schema } from "effect";
import { Grounding } from "../../src/domain/grounding.ts";
import { ParsedResponse } from "../../src/domain/response.ts";
import { groundScenes } from "../../src/stages/ground.ts";
import { parseResponse } from "../../src/stages/parse.ts";

Deno.test("parsed responses and groundings survive a JSON round trip through their schemas", () => {
  const text = '<observe>o</observe><scene>{"objects": [{"id": "cube 1", "bbox": [1, 2, 3, 4]}]}' +
    "</scene><think>t</think><answer>A</answer>";
  const parsed = parseResponse(text);
  assert.deepEqual(parsed.failures.map((f) => f.rule), ["object-id"]);
  const roundTrip = Schema.decodeUnknownSync(ParsedResponse)(JSON.parse(JSON.stringify(parsed)));
  assert.deepEqual(roundTrip, parsed);
  const grounding = groundScenes(parsed.response.scene!, parsed.response.scene!, {
    width: 10,
    height: 10,
  }, () => 1);
  assert.deepEqual(
    Schema.decodeUnknownSync(Grounding)(JSON.parse(JSON.stringify(grounding))),
    grounding,
  );
});

Deno.test("a response without tags round-trips although JSON drops its undefined fields", () => {
  const parsed = parseResponse("no tags at all");
  const json = JSON.parse(JSON.stringify(parsed));
  assert.equal("observe" in json.response, false);
  assert.deepEqual(
    Schema.decodeUnknownSync(ParsedResponse)(json).failures,
    parsed.failures,
  );
});

Deno.test("a ParsedResponse with an unknown rule name does not decode", () => {
  const parsed = parseResponse("<answer>A</answer>");
  const tampered = { ...parsed, failures: [{ rule: "made-up", detail: "" }] };
  assert.equal(Schema.decodeUnknownResult(ParsedResponse)(tampered)._tag, "Failure");
});
