import assert from "node:assert/strict";
import { pythonJson, serialiseSceneGraph, subgraph } from "../../src/scene/graph.ts";
import type { SceneGraph } from "../../src/domain/scene_graph.ts";

const graph: SceneGraph = {
  objects: [
    { id: "red_cube.1", bbox: [1, 2, 30, 40] },
    { id: "blue_sphere.1", bbox: [50, 10, 70, 30] },
    { id: "green_cone.1", bbox: [5, 60, 20, 90] },
  ],
  relationships: [
    { subject: "red_cube.1", predicate: "left of", object: "blue_sphere.1" },
    { subject: "blue_sphere.1", predicate: "right of", object: "red_cube.1" },
    { subject: "green_cone.1", predicate: "in front of", object: "red_cube.1" },
  ],
};

Deno.test("pythonJson matches Python's json.dumps separators and ASCII escaping", () => {
  // Expected strings were produced by Python 3: json.dumps(value).
  assert.equal(
    pythonJson({ a: [1, 2.5, -3], b: null, c: true }),
    '{"a": [1, 2.5, -3], "b": null, "c": true}',
  );
  assert.equal(pythonJson('café "q"\n'), '"caf\\u00e9 \\"q\\"\\n"');
  assert.equal(pythonJson([]), "[]");
  assert.throws(() => pythonJson(Number.NaN), RangeError);
});

Deno.test("the serialised scene graph is exactly the reward's format", () => {
  assert.equal(
    serialiseSceneGraph(subgraph(graph, ["red_cube.1", "blue_sphere.1"])),
    '{"objects": [{"id": "red_cube.1", "bbox": [1, 2, 30, 40]}, {"id": "blue_sphere.1", "bbox": ' +
      '[50, 10, 70, 30]}], "relationships": [{"subject": "red_cube.1", "predicate": "left of", ' +
      '"object": "blue_sphere.1"}]}',
  );
});

Deno.test("the subgraph keeps relations directed along the order the question names objects", () => {
  const reversed = subgraph(graph, ["blue_sphere.1", "red_cube.1"]);
  assert.deepEqual(reversed.relationships, [graph.relationships[1]]);
  const single = subgraph(graph, ["green_cone.1"]);
  assert.deepEqual(single, { objects: [graph.objects[2]], relationships: [] });
});
