import assert from "node:assert/strict";
import { pairPredicates, sceneRelations } from "../../src/scene/relations.ts";
import type { Camera, PlacedObject, Shape, Vec3 } from "../../src/scene/types.ts";

/** Camera on +z looking at the origin: image right is +x, nearer is larger z. */
const camera: Camera = { eye: [0, 4, 8], target: [0, 0, 0], fovY: Math.PI / 4 };

const object = (
  id: string,
  shape: Shape,
  position: Vec3,
  size: Vec3 = [1, 1, 1],
  extra: Partial<PlacedObject> = {},
): PlacedObject => ({
  id,
  shape,
  colour: "red",
  sizeClass: "medium",
  size,
  position,
  yaw: 0,
  supportedBy: null,
  ...extra,
});

Deno.test("an object further along image-right is right of the other and not left of it", () => {
  const objects = [object("a.1", "cube", [2, 0.5, 0]), object("b.1", "cube", [-1, 0.5, 0])];
  const ab = pairPredicates(camera, objects, 0, 1);
  assert.ok(ab.includes("right of"));
  assert.ok(!ab.includes("left of"));
  assert.ok(pairPredicates(camera, objects, 1, 0).includes("left of"));
});

Deno.test("lateral offsets inside the margin give neither left of nor right of", () => {
  const objects = [object("a.1", "cube", [0.1, 0.5, -2]), object("b.1", "cube", [0, 0.5, 2])];
  const ab = pairPredicates(camera, objects, 0, 1);
  assert.ok(!ab.includes("left of") && !ab.includes("right of"));
  assert.ok(ab.includes("behind"));
  assert.ok(pairPredicates(camera, objects, 1, 0).includes("in front of"));
});

Deno.test("a stacked object is on top of and touching its support, which is below it", () => {
  const objects = [
    object("base.1", "cube", [0, 0.5, 0]),
    object("top.1", "sphere", [0, 1.25, 0], [0.5, 0.5, 0.5], { supportedBy: 0 }),
  ];
  const upper = pairPredicates(camera, objects, 1, 0);
  assert.ok(upper.includes("on top of"));
  assert.ok(upper.includes("touching"));
  assert.ok(upper.includes("smaller than"));
  assert.ok(!upper.includes("above"));
  const lower = pairPredicates(camera, objects, 0, 1);
  assert.ok(lower.includes("below"));
  assert.ok(lower.includes("larger than"));
});

Deno.test("cylinders whose footprints touch are touching, not next to", () => {
  const objects = [object("a.1", "cylinder", [0, 0.5, 0]), object("b.1", "cylinder", [1, 0.5, 0])];
  const ab = pairPredicates(camera, objects, 0, 1);
  assert.ok(ab.includes("touching"));
  assert.ok(!ab.includes("next to") && !ab.includes("near"));
});

Deno.test("proximity bands give next to, near and far from by gap", () => {
  const at = (
    x: number,
  ) => [object("a.1", "sphere", [0, 0.5, 0]), object("b.1", "sphere", [x, 0.5, 0])];
  assert.ok(pairPredicates(camera, at(1.4), 0, 1).includes("next to"));
  assert.ok(pairPredicates(camera, at(2.0), 0, 1).includes("near"));
  assert.ok(pairPredicates(camera, at(4.0), 0, 1).includes("far from"));
  const middle = pairPredicates(camera, at(3.0), 0, 1);
  assert.ok(!["next to", "near", "far from", "touching"].some((p) => middle.includes(p as never)));
});

Deno.test("an arrow pointing at an object is facing it and the reverse arrow faces away", () => {
  const target = object("t.1", "cube", [0, 0.5, 3]);
  const toward = [object("a.1", "arrow", [0, 0.25, 0], [0.8, 0.5, 1.2], { yaw: 0 }), target];
  const away = [object("a.1", "arrow", [0, 0.25, 0], [0.8, 0.5, 1.2], { yaw: Math.PI }), target];
  assert.ok(pairPredicates(camera, toward, 0, 1).includes("facing"));
  assert.ok(pairPredicates(camera, away, 0, 1).includes("facing away from"));
  assert.ok(!pairPredicates(camera, [target, toward[0]!], 0, 1).includes("facing"));
});

Deno.test("the nearer object is closer to the camera than the farther one", () => {
  const objects = [object("near.1", "cube", [0, 0.5, 2]), object("far.1", "cube", [0, 0.5, -2])];
  assert.ok(pairPredicates(camera, objects, 0, 1).includes("closer to the camera than"));
  assert.ok(pairPredicates(camera, objects, 1, 0).includes("farther from the camera than"));
});

Deno.test("sceneRelations leaves out objects that are not included", () => {
  const objects = [
    object("a.1", "cube", [-2, 0.5, 0]),
    object("b.1", "cube", [2, 0.5, 0]),
    object("c.1", "cube", [0, 0.5, 2]),
  ];
  const relations = sceneRelations(camera, objects, (k) => k !== 2);
  assert.ok(relations.length > 0);
  assert.ok(relations.every((r) => r.subject !== "c.1" && r.object !== "c.1"));
  assert.deepEqual(
    relations.find((r) => r.predicate === "left of"),
    { subject: "a.1", predicate: "left of", object: "b.1" },
  );
});
