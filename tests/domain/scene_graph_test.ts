import assert from "node:assert/strict";
import { Schema } from "effect";
import {
  cleanLabel,
  duplicateObjectIds,
  SceneGraph,
  SceneGraphStructure,
} from "../../src/domain/scene_graph.ts";

Deno.test("cleanLabel drops the .N suffix, maps _ and - to spaces, trims and lower-cases", () => {
  assert.equal(cleanLabel("Red_Cube.2"), "red cube");
  assert.equal(cleanLabel("fire-hydrant.1"), "fire hydrant");
  assert.equal(cleanLabel("  Man "), "man");
  assert.equal(cleanLabel("a.b.c"), "a");
  assert.equal(cleanLabel("in front of"), "in front of");
});

Deno.test("duplicateObjectIds lists each repeated id once", () => {
  assert.deepEqual(
    duplicateObjectIds([{ id: "a.1" }, { id: "a.1" }, { id: "b.1" }, { id: "a.1" }]),
    ["a.1"],
  );
  assert.deepEqual(duplicateObjectIds([{ id: "a.1" }, { id: "b.1" }]), []);
});

const decode = Schema.decodeUnknownResult(SceneGraph);

Deno.test("SceneGraph accepts a valid graph whose relations name unlisted ids", () => {
  const result = decode({
    objects: [{ id: "red_cube.1", bbox: [1, 2, 3, 4] }],
    relationships: [{ subject: "red_cube.1", predicate: "left of", object: "ball.7" }],
  });
  assert.equal(result._tag, "Success");
});

Deno.test("SceneGraph rejects repeated ids, ids with spaces and three-number boxes", () => {
  const object = (id: string, bbox: number[]) => ({ id, bbox });
  for (
    const objects of [
      [object("a.1", [1, 2, 3, 4]), object("a.1", [1, 2, 3, 4])],
      [object("traffic light.1", [1, 2, 3, 4])],
      [object("a.1", [1, 2, 3])],
    ]
  ) {
    assert.equal(decode({ objects, relationships: [] })._tag, "Failure", JSON.stringify(objects));
  }
});

Deno.test("SceneGraphStructure accepts what the id rules reject, but not a broken box", () => {
  const decodeStructure = Schema.decodeUnknownResult(SceneGraphStructure);
  const objects = [{ id: "traffic light.1", bbox: [1, 2, 3, 4] }, {
    id: "traffic light.1",
    bbox: [1, 2, 3, 4],
  }];
  assert.equal(decodeStructure({ objects, relationships: [] })._tag, "Success");
  assert.equal(decode({ objects, relationships: [] })._tag, "Failure");
  assert.equal(
    decodeStructure({ objects: [{ id: "a.1", bbox: [1, 2] }], relationships: [] })._tag,
    "Failure",
  );
});
