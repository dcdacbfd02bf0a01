/**
 * The balancer's answer groups of synthesised questions: where the shapes named in a question
 * decide which answers are possible or likely, the group names the shapes, so the balancer evens
 * the answers per shape combination.
 */
import assert from "node:assert/strict";
import { Effect } from "effect";
import { possibleStates } from "../../src/dataset/categories/reach.ts";
import { synthesiseQuestions } from "../../src/dataset/synthesise.ts";
import { makeRng } from "../../src/domain/random.ts";
import { SceneRenderer } from "../../src/scene/render.ts";
import { sampleScene } from "../../src/scene/sampler.ts";
import type { Shape } from "../../src/scene/types.ts";
import { rendererRuntime } from "../scene/renderer_runtime.ts";

const scenes = Array.from({ length: 48 }, (_, i) => sampleScene(makeRng(700 + i), i));
const rendered = await rendererRuntime.runPromise(
  Effect.flatMap(SceneRenderer, (r) => r.render(scenes)),
);
const questions = rendered.flatMap((r) =>
  synthesiseQuestions(r, makeRng(r.scene.index), 8).questions
);
const ofCategory = (c: string) => questions.filter((q) => q.category === c);
/** The shapes of the objects a question names, in the order it names them. */
const shapesIn = (text: string) =>
  [...text.matchAll(/\b(?:red|green|blue|yellow|purple|cyan|orange) (\w+)/g)].map((m) =>
    m[1] as Shape
  );

Deno.test("size questions are balanced per shape combination: object answers count as their shapes", () => {
  const size = ofCategory("size");
  assert.ok(size.length > 50);
  for (const q of size) {
    assert.ok(q.answerGroup.answers.includes(q.groupAnswer));
    const shapes = shapesIn(q.question);
    if (q.question.startsWith("Is the")) {
      assert.equal(
        q.answerGroup.key,
        `bigger or smaller: ${shapes[0]} than ${shapes[1]}: bigger | smaller`,
      );
    } else {
      // "cube" or "cube 2": the answer's shape, numbered when the question has two of it.
      const answerShape = q.options[q.answerIndex]!.split(" ")[1];
      assert.equal(q.groupAnswer.split(" ")[0], answerShape);
      assert.deepEqual(
        q.answerGroup.answers.map((a) => a.split(" ")[0]).sort(),
        [...shapes].sort(),
      );
    }
  }
});

Deno.test("reach questions offer only the states their shapes allow and name the shape pair", () => {
  const reach = ofCategory("reach");
  assert.ok(reach.length > 20);
  for (const q of reach) {
    const [a, b] = shapesIn(q.question) as [Shape, Shape];
    assert.ok(q.answerGroup.key.startsWith(`${a} with ${b}: `), q.answerGroup.key);
    const possible = possibleStates({ shape: a }, { shape: b });
    assert.ok(possible.length >= 2);
    if (!q.options.includes("yes")) {
      assert.deepEqual([...q.answerGroup.answers], [...possible].sort());
    }
  }
});

Deno.test("vertical relation questions name their ordered shape pair, horizontal ones do not", () => {
  const relation = ofCategory("relation");
  const vertical = relation.filter((q) =>
    q.options.some((o) => o === "on top of" || o === "above" || o === "below")
  );
  assert.ok(vertical.length > 0);
  for (const q of relation) {
    const [a, b] = shapesIn(q.question);
    assert.equal(q.answerGroup.key.startsWith(`${a} over ${b}: `), vertical.includes(q));
  }
});
