import assert from "node:assert/strict";
import { Effect } from "effect";
import { parseBox } from "../../src/program/grounding_eval.ts";
import {
  cachedGroundingExamples,
  groundingItems,
  groundingQuestion,
  groundingSample,
  groundingTarget,
} from "../../src/stages/grounding_examples.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import { PRESETS } from "../../src/nn/config.ts";
import { processorSettings } from "../../src/stages/model_setup.ts";
import { fixtureRecord } from "./model_fixtures.ts";

Deno.test("groundingQuestion names the object in words and gives the image size", () => {
  const [item] = groundingItems([fixtureRecord]);
  assert.ok(item !== undefined);
  assert.match(groundingQuestion(item), /^Where is the [a-z ]+\? Answer with its box/);
  assert.match(groundingQuestion(item), /Image size: \(96 x 96\)$/);
  assert.deepEqual(parseBox(groundingTarget(item)), item.object.bbox);
});

Deno.test("parseBox reads the first bracketed box and rejects anything else", () => {
  assert.deepEqual(parseBox("it is at [3, 4, 10.5, 12] or [0, 0, 1, 1]"), [3, 4, 10.5, 12]);
  assert.equal(parseBox("[3, 4, 10]"), undefined);
  assert.equal(parseBox("no box"), undefined);
});

Deno.test("groundingSample learns the box tokens after the prompt, closed by im_end", async () => {
  const tokenizer = await Effect.runPromise(
    loadTokenizer(new URL("../../data/tokenizer/tiny/tokenizer.json", import.meta.url).pathname),
  );
  // Any picture will do: the fixture's scene graph, a fixture image.
  const items = groundingItems([{ ...fixtureRecord, image: "images/scene-0001.png" }]);
  const dataRoot = new URL("../../data/fixtures/run/rollouts", import.meta.url).pathname;
  const examples = cachedGroundingExamples(
    items,
    dataRoot,
    tokenizer,
    processorSettings(PRESETS.tiny.preprocessor),
  );
  const example = await Effect.runPromise(examples(0));
  assert.equal(await Effect.runPromise(examples(0)), example);
  assert.equal((await Effect.runPromise(examples(1))).image, example.image);
  const sample = groundingSample(example, tokenizer, 7);
  assert.equal(sample.responseStart, example.promptTokens.length);
  assert.equal(sample.tokens.at(-1), 7);
  const target = tokenizer.decode(sample.tokens.slice(sample.responseStart, -1));
  assert.equal(target, groundingTarget(items[0]!));
  assert.equal(sample.image, example.image);
});
