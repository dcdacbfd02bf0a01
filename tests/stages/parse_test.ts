import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { Box } from "../../src/domain/box.ts";
import type { FormatRule } from "../../src/domain/response.ts";
import { ObjectId } from "../../src/domain/scene_graph.ts";
import {
  hasThinkAnswerLayout,
  Parser,
  parseResponse,
  passesItemRules,
  readTag,
} from "../../src/stages/parse.ts";
import { GROUND_TRUTH_SCENE, groundTruthString, responseString, seededRandom } from "./fixtures.ts";

const rulesOf = (text: string): FormatRule[] => parseResponse(text).failures.map((f) => f.rule);
const withObjects = (objects: unknown, relationships: unknown = []) =>
  responseString({ objects, relationships }, "(A) behind");

Deno.test("a well-formed response has no failures and trimmed tag contents", () => {
  const parsed = parseResponse(responseString(GROUND_TRUTH_SCENE, "(A) behind"));
  assert.deepEqual(parsed.failures, []);
  assert.equal(parsed.response.answer, "(A) behind");
  assert.equal(parsed.response.observe, "A man stands behind a bike.");
  assert.deepEqual(parsed.response.scene, GROUND_TRUTH_SCENE);
  assert.equal(parsed.sceneListsObjects, true);
});

Deno.test("tag order is not checked and text outside the tags is allowed", () => {
  const text = 'Sure! <answer>(B) left</answer> then <think>t</think> and <scene>{"objects": []}' +
    "</scene><observe>o</observe> bye";
  assert.deepEqual(rulesOf(text), []);
});

Deno.test("a missing, unclosed or repeated tag breaks that tag's rule only", () => {
  const good = responseString(GROUND_TRUTH_SCENE, "(A) behind");
  assert.deepEqual(rulesOf(good.replace("<observe>", "")), ["observe-tag"]);
  assert.deepEqual(rulesOf(good.replace("</think>", "")), ["think-tag"]);
  assert.deepEqual(rulesOf(good + "<answer>"), ["answer-tag"]);
  assert.deepEqual(rulesOf(good + " <think>again</think>"), ["think-tag"]);
});

Deno.test("the first tag pair is read, like Python's non-greedy search", () => {
  assert.deepEqual(readTag("<a>1</a><a>2</a>", "a"), { content: "1", openings: 2 });
  assert.deepEqual(readTag("<a>1<a>2</a>", "a"), { content: "1<a>2", openings: 2 });
  assert.deepEqual(readTag("x</a><a>", "a"), { content: undefined, openings: 1 });
});

Deno.test("scene text that is not JSON, not an object, or empty breaks the scene rules", () => {
  assert.deepEqual(rulesOf(responseString("{objects: []}", "A")), ["scene-json"]);
  assert.deepEqual(rulesOf(responseString("[1, 2]", "A")), ["scene-object"]);
  assert.deepEqual(rulesOf(responseString("42", "A")), ["scene-object"]);
  assert.deepEqual(rulesOf(responseString("{}", "A")), ["scene-object"]);
});

Deno.test("a non-empty scene without objects passes the format but lists no objects", () => {
  const parsed = parseResponse(responseString({ relationships: [] }, "A"));
  assert.deepEqual(parsed.failures, []);
  assert.equal(parsed.sceneListsObjects, false);
  assert.deepEqual(parsed.response.scene, { objects: [], relationships: [] });
  assert.deepEqual(rulesOf(responseString({ note: "unknown keys are fine" }, "A")), []);
});

Deno.test("objects must have exactly id and bbox", () => {
  assert.deepEqual(rulesOf(withObjects([{ id: "a.1", bbox: [1, 2, 3, 4], score: 0.9 }])), [
    "object-keys",
  ]);
  assert.deepEqual(rulesOf(withObjects([{ id: "a.1" }])), ["object-keys"]);
  assert.deepEqual(rulesOf(withObjects(["a.1"])), ["object-keys"]);
  assert.deepEqual(rulesOf(withObjects({ "a.1": [1, 2, 3, 4] })), ["objects-list"]);
});

Deno.test("object ids must match name.N", () => {
  for (const id of ["traffic light.1", "t-shirt.1", "cube", "cube.x", "2.1", "cube.1 ", 7]) {
    assert.deepEqual(rulesOf(withObjects([{ id, bbox: [1, 2, 3, 4] }])), ["object-id"], `${id}`);
  }
  for (const id of ["traffic_light.12", "_.0", "Cube.3"]) {
    assert.deepEqual(rulesOf(withObjects([{ id, bbox: [1, 2, 3, 4] }])), [], id);
  }
});

Deno.test("a bbox must be exactly four finite numbers", () => {
  for (const bbox of [[1, 2, 3], [1, 2, 3, 4, 5], [1, 2, "3", 4], [1, 2, 3, null], "1,2,3,4"]) {
    assert.deepEqual(rulesOf(withObjects([{ id: "a.1", bbox }])), ["object-bbox"], `${bbox}`);
  }
  const overflow = responseString('{"objects": [{"id": "a.1", "bbox": [1, 2, 3, 1e999]}]}', "A");
  assert.deepEqual(rulesOf(overflow), ["object-bbox"]);
  assert.deepEqual(rulesOf(withObjects([{ id: "a.1", bbox: [-5.5, 0, 1e4, 2.25] }])), []);
});

Deno.test("relations need valid subject and object ids and a string predicate; extra keys pass", () => {
  const relation = (fields: Record<string, unknown>) => withObjects([], [fields]);
  assert.deepEqual(
    rulesOf(relation({ subject: "man.1", predicate: "on", object: "ghost.9", weight: 1 })),
    [],
    "ids need not name listed objects and extra keys are allowed",
  );
  assert.deepEqual(rulesOf(relation({ subject: "man 1", predicate: "on", object: "a.1" })), [
    "relation-id",
  ]);
  assert.deepEqual(rulesOf(relation({ subject: "man.1", predicate: 3, object: "a.1" })), [
    "relation-predicate",
  ]);
  assert.deepEqual(rulesOf(relation({ subject: "man.1", object: "a.1" })), ["relation-keys"]);
  assert.deepEqual(rulesOf(withObjects([], "man.1 on a.1")), ["relationships-list"]);
});

Deno.test("repeated object ids break unique-ids", () => {
  const objects = [{ id: "a.1", bbox: [1, 2, 3, 4] }, { id: "a.1", bbox: [5, 6, 7, 8] }];
  const parsed = parseResponse(withObjects(objects));
  assert.deepEqual(parsed.failures.map((f) => f.rule), ["unique-ids"]);
  assert.match(parsed.failures[0]!.detail, /a\.1/);
});

Deno.test("failures name the offending item and count the others", () => {
  const objects = [
    { id: "a.1", bbox: [1, 2, 3, 4] },
    { id: "bad one.1", bbox: [1, 2, 3, 4] },
    { id: "bad two.1", bbox: [1, 2, 3, 4] },
  ];
  const [failure] = parseResponse(withObjects(objects)).failures;
  assert.equal(failure?.rule, "object-id");
  assert.match(failure!.detail, /^objects\[1\]\.id: .*\(and 1 more\)$/);
});

Deno.test("a ground-truth string parses with its scene and answer and lacks observe and think", () => {
  const parsed = parseResponse(groundTruthString(GROUND_TRUTH_SCENE, "(A) behind"));
  assert.deepEqual(parsed.failures.map((f) => f.rule), ["observe-tag", "think-tag"]);
  assert.deepEqual(parsed.response.scene, GROUND_TRUTH_SCENE);
  assert.equal(parsed.response.answer, "(A) behind");
});

Deno.test("a scene whose ids break the pattern is still read for computing", () => {
  const scene = { objects: [{ id: "traffic light.1", bbox: [1, 2, 3, 4], extra: true }] };
  const parsed = parseResponse(groundTruthString(scene, "A"));
  assert.deepEqual(parsed.response.scene?.objects, [{ id: "traffic light.1", bbox: [1, 2, 3, 4] }]);
  assert.ok(parsed.failures.some((f) => f.rule === "object-id"));
  assert.ok(parsed.failures.some((f) => f.rule === "object-keys"));
});

Deno.test("the think-answer layout is a full match of <think>…</think>\\s*<answer>…</answer>", () => {
  assert.equal(hasThinkAnswerLayout("<think>a</think>\n <answer>b</answer>"), true);
  assert.equal(hasThinkAnswerLayout("<think></think><answer></answer>"), true);
  assert.equal(hasThinkAnswerLayout("<think>a</think>x</think> <answer>b</answer>"), true);
  assert.equal(hasThinkAnswerLayout("<think>a</think>x<answer>b</answer>"), false);
  assert.equal(hasThinkAnswerLayout(" <think>a</think><answer>b</answer>"), false);
  assert.equal(hasThinkAnswerLayout("<think>a</think><answer>b</answer>\n"), false);
  assert.equal(hasThinkAnswerLayout("<think></answer>"), false);
  assert.equal(hasThinkAnswerLayout("<think></think><answer></answer>".slice(0, 27)), false);
});

Deno.test("parse never throws on hostile input", () => {
  const hostile = [
    "",
    "<scene>" + "[".repeat(200_000) + "</scene>",
    "<scene>" + '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000) + "</scene>",
    '<answer>\ud800\udfff\ud800</answer><scene>{"objects": [{"id": "\ud800.1"}]}</scene>',
    "<observe>".repeat(100_000),
    "<think>" + "</think> ".repeat(100_000) + "<answer>",
    `<scene>{"objects": [${'{"id": 1},'.repeat(20_000)}{}]}</scene>`,
    "x".repeat(10_000_000) + "<scene>{}</scene>",
  ];
  for (const text of hostile) {
    const parsed = parseResponse(text);
    assert.ok(parsed.failures.length > 0, text.slice(0, 40));
  }
});

Deno.test("parse never throws on random mutations of a valid response", () => {
  const random = seededRandom(11);
  const base = responseString(GROUND_TRUTH_SCENE, "(A) behind");
  const alphabet = '{}[]":,.<>/ 0123456789eE-+abc\\\n\u00e9\ud83d';
  for (let trial = 0; trial < 2000; trial++) {
    let text = base;
    for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
      const at = Math.floor(random() * text.length);
      const insert = alphabet[Math.floor(random() * alphabet.length)]!;
      const cut = Math.floor(random() * 3);
      text = text.slice(0, at) + (random() < 0.7 ? insert : "") + text.slice(at + cut);
    }
    const parsed = parseResponse(text);
    assert.equal(new Set(parsed.failures.map((f) => f.rule)).size, parsed.failures.length);
  }
});

Deno.test("the Parser service parses like parseResponse", async () => {
  const text = responseString(GROUND_TRUTH_SCENE, "(A) behind");
  const program = Effect.gen(function* () {
    const parser = yield* Parser;
    return yield* parser.parse(text);
  });
  const parsed = await Effect.runPromise(Effect.provide(program, Parser.layer));
  assert.deepEqual(parsed, parseResponse(text));
});

/** The item rules restated independently: decode with excess keys as errors, relations open. */
const ReferenceScene = Schema.StructWithRest(
  Schema.Struct({
    objects: Schema.optionalKey(Schema.Array(Schema.Struct({ id: ObjectId, bbox: Box }))),
    relationships: Schema.optionalKey(Schema.Array(Schema.StructWithRest(
      Schema.Struct({ subject: ObjectId, predicate: Schema.String, object: ObjectId }),
      [Schema.Record(Schema.String, Schema.Unknown)],
    ))),
  }),
  [Schema.Record(Schema.String, Schema.Unknown)],
);
const referenceVerdict = (json: unknown) =>
  Schema.decodeUnknownResult(ReferenceScene, { onExcessProperty: "error" })(json)._tag ===
    "Success";

Deno.test("the fast item-rule check agrees with a full Schema decode on random scene values", () => {
  const random = seededRandom(5);
  const pick = <T>(items: ReadonlyArray<T>): T => items[Math.floor(random() * items.length)]!;
  const values = [1, -2.5, "3", null, true, [], {}, "cube.1", "a b.1", 1e308];
  const box = () =>
    Array.from(
      { length: pick([3, 4, 4, 4, 5]) },
      () => random() < 0.9 ? random() * 100 : pick(values),
    );
  const object = () => {
    const o: Record<string, unknown> = { id: pick(["cube.1", "ball.2", "x", 7]), bbox: box() };
    if (random() < 0.15) o[pick(["score", "label", "id", "bbox"])] = pick(values);
    if (random() < 0.1) delete o[pick(["id", "bbox"])];
    return random() < 0.05 ? pick(values) : o;
  };
  const relation = () => {
    const r: Record<string, unknown> = {
      subject: pick(["cube.1", "ball 2", 3]),
      predicate: pick(["on", 4, "left of"]),
      object: pick(["ball.2", "cube.1", null]),
    };
    if (random() < 0.2) r.extra = pick(values);
    if (random() < 0.1) delete r[pick(["subject", "predicate", "object"])];
    return r;
  };
  let accepted = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const scene: Record<string, unknown> = {};
    if (random() < 0.9) {
      scene.objects = random() < 0.05
        ? pick(values)
        : Array.from({ length: Math.floor(random() * 4) }, object);
    }
    if (random() < 0.7) {
      scene.relationships = random() < 0.05
        ? pick(values)
        : Array.from({ length: Math.floor(random() * 3) }, relation);
    }
    const json = JSON.parse(JSON.stringify(scene));
    assert.equal(passesItemRules(json), referenceVerdict(json), JSON.stringify(json));
    if (referenceVerdict(json)) accepted++;
  }
  assert.ok(accepted > 300 && accepted < 2700, `both verdicts occur (${accepted} accepted)`);
});
