import assert from "node:assert/strict";
import { possibleStates } from "../../../src/dataset/categories/reach.ts";
import { SHAPES } from "../../../src/scene/types.ts";

Deno.test("possibleStates offers resting on flat tops, supporting from flat tops, side contact between upright round shapes", () => {
  assert.deepEqual(possibleStates({ shape: "cylinder" }, { shape: "cylinder" }), [
    "resting on it",
    "supporting it",
    "touching its side",
    "not touching it",
  ]);
  assert.deepEqual(possibleStates({ shape: "cube" }, { shape: "sphere" }), [
    "supporting it",
    "not touching it",
  ]);
  assert.deepEqual(possibleStates({ shape: "cone" }, { shape: "cylinder" }), [
    "resting on it",
    "touching its side",
    "not touching it",
  ]);
  assert.deepEqual(possibleStates({ shape: "arrow" }, { shape: "sphere" }), ["not touching it"]);
});

Deno.test("possibleStates mirrors resting on and supporting when the objects swap", () => {
  const swap = (s: string) =>
    s === "resting on it" ? "supporting it" : s === "supporting it" ? "resting on it" : s;
  for (const a of SHAPES) {
    for (const b of SHAPES) {
      assert.deepEqual(
        possibleStates({ shape: b }, { shape: a }).sort(),
        possibleStates({ shape: a }, { shape: b }).map(swap).sort(),
      );
    }
  }
});
