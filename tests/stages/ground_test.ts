import assert from "node:assert/strict";
import { Effect } from "effect";
import type { SceneGraph } from "../../src/domain/scene_graph.ts";
import { mappedCiou } from "../../src/domain/box.ts";
import { Grounder, groundScenes, OVERFLOWED_MAPPED_CIOU } from "../../src/stages/ground.ts";
import { exactSimilarity, GROUND_TRUTH_SCENE } from "./fixtures.ts";

const SIZE = { width: 640, height: 480 };
const scene = (
  objects: Array<[string, [number, number, number, number]]>,
  relationships: Array<[string, string, string]> = [],
): SceneGraph => ({
  objects: objects.map(([id, bbox]) => ({ id, bbox })),
  relationships: relationships.map(([subject, predicate, object]) => ({
    subject,
    predicate,
    object,
  })),
});

Deno.test("identical scenes match every object to itself with mCIoU ≈ 1", () => {
  const g = groundScenes(GROUND_TRUTH_SCENE, GROUND_TRUTH_SCENE, SIZE, exactSimilarity);
  assert.deepEqual(g.objectMatches.map((m) => [m.groundTruth, m.prediction]), [[0, 0], [1, 1]]);
  for (const m of g.objectMatches) {
    assert.ok(Math.abs(m.mappedCiou - 1) < 1e-6);
    assert.equal(m.labelSimilarity, 1);
    assert.ok(Math.abs(m.cost) < 1e-6);
  }
  assert.deepEqual(g.counts, {
    predictedObjects: 2,
    groundTruthObjects: 2,
    predictedRelations: 1,
    groundTruthRelations: 1,
  });
});

Deno.test("boxes are compared after division by the image size", () => {
  const truth = scene([["cube.1", [0, 0, 320, 240]]]);
  const prediction = scene([["cube.1", [160, 0, 480, 240]]]);
  const [match] = groundScenes(prediction, truth, SIZE, exactSimilarity).objectMatches;
  assert.equal(match?.mappedCiou, mappedCiou([0.25, 0, 0.75, 0.5], [0, 0, 0.5, 0.5]));
  assert.equal(match?.iou, 1 / 3);
  assert.equal(match?.l1, 0.5);
});

Deno.test("label similarity outweighs box overlap in the matching (weights 2 and 1)", () => {
  // The ball prediction sits exactly on the cube's box, the cube prediction elsewhere.
  const truth = scene([["cube.1", [0, 0, 100, 100]], ["ball.1", [300, 300, 400, 400]]]);
  const prediction = scene([["ball.1", [0, 0, 100, 100]], ["cube.1", [500, 0, 600, 100]]]);
  const g = groundScenes(prediction, truth, SIZE, exactSimilarity);
  assert.deepEqual(g.objectMatches.map((m) => [m.groundTruth, m.prediction]), [[0, 1], [1, 0]]);
});

Deno.test("fewer predictions than ground truth leave ground-truth objects unmatched", () => {
  const truth = scene([["cube.1", [0, 0, 100, 100]], ["ball.1", [300, 300, 400, 400]]]);
  const prediction = scene([["ball.1", [300, 300, 400, 400]]]);
  const g = groundScenes(prediction, truth, SIZE, exactSimilarity);
  assert.deepEqual(g.objectMatches.map((m) => [m.groundTruth, m.prediction]), [[1, 0]]);
});

Deno.test("more predictions than ground truth leave the worst predictions unmatched", () => {
  const truth = scene([["cube.1", [0, 0, 100, 100]]]);
  const prediction = scene([
    ["cube.1", [200, 200, 300, 300]],
    ["cube.2", [0, 0, 100, 100]],
    ["ball.1", [0, 0, 100, 100]],
  ]);
  const g = groundScenes(prediction, truth, SIZE, exactSimilarity);
  assert.deepEqual(g.objectMatches.map((m) => m.prediction), [1]);
});

Deno.test("empty scenes give no matches", () => {
  const empty = scene([]);
  assert.deepEqual(
    groundScenes(empty, GROUND_TRUTH_SCENE, SIZE, exactSimilarity).objectMatches,
    [],
  );
  assert.deepEqual(
    groundScenes(GROUND_TRUTH_SCENE, empty, SIZE, exactSimilarity).objectMatches,
    [],
  );
});

Deno.test("triplets match on 0.3·subject + 0.3·object + 0.4·predicate similarity", () => {
  const truth = scene([], [["man.1", "behind", "bike.1"], ["man.1", "left of", "car.1"]]);
  const prediction = scene([], [["man.1", "left of", "car.1"], ["dog.1", "behind", "bike.1"]]);
  const g = groundScenes(prediction, truth, SIZE, exactSimilarity);
  assert.deepEqual(
    g.tripletMatches.map((m) => [m.groundTruth, m.prediction, m.similarity]),
    [[0, 1, 0.3 + 0.4], [1, 0, 1]],
  );
  assert.equal(g.tripletMatches[0]?.subjectSimilarity, 0);
});

Deno.test("coordinates that overflow CIoU get the floor value instead of NaN", () => {
  const truth = scene([["cube.1", [0, 0, 100, 100]]]);
  const prediction = scene([["cube.1", [0, 0, 1e300, 1e300]]]);
  const [match] = groundScenes(prediction, truth, SIZE, exactSimilarity).objectMatches;
  assert.equal(match?.mappedCiou, OVERFLOWED_MAPPED_CIOU);
  assert.ok(Number.isFinite(match?.cost));
});

Deno.test("the Grounder service grounds with the similarity it was built with", async () => {
  const program = Effect.gen(function* () {
    const grounder = yield* Grounder;
    return yield* grounder.ground(GROUND_TRUTH_SCENE, GROUND_TRUTH_SCENE, SIZE);
  });
  const g = await Effect.runPromise(
    Effect.provide(program, Grounder.layerWith(() => 0.5)),
  );
  assert.deepEqual(g.objectMatches.map((m) => m.labelSimilarity), [0.5, 0.5]);
});

Deno.test("the default Grounder uses the word-vector similarity", async () => {
  const program = Effect.gen(function* () {
    const grounder = yield* Grounder;
    return grounder.labelSimilarity("bike.1", "bicycle.4");
  });
  const similarity = await Effect.runPromise(Effect.provide(program, Grounder.layer));
  assert.ok(similarity > 0.8 && similarity < 1, `${similarity}`);
});
