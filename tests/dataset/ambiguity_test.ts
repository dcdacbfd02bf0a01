import assert from "node:assert/strict";
import { ambiguityReason } from "../../src/dataset/ambiguity.ts";
import type { QuestionDraft } from "../../src/dataset/question.ts";
import type { ObjectTruth, PlacedObject, RenderedScene } from "../../src/scene/types.ts";

const object = (id: string): PlacedObject => ({
  id,
  shape: "cube",
  colour: "red",
  sizeClass: "medium",
  size: [1, 1, 1],
  position: [0, 0.5, 0],
  yaw: 0,
  supportedBy: null,
});
const truth = (visibleFraction: number, visiblePixels = 200): ObjectTruth => ({
  bbox: [10, 10, 30, 30],
  visiblePixels,
  silhouettePixels: Math.round(visiblePixels / visibleFraction),
  visibleFraction,
  depth: 5,
  cameraDistance: 5,
});
const rendered = (truths: ObjectTruth[]): RenderedScene => ({
  scene: {
    index: 0,
    width: 96,
    height: 96,
    camera: { eye: [0, 4, 8], target: [0, 0, 0], fovY: 0.8 },
    objects: truths.map((_, k) => object(`red_cube.${k + 1}`)),
  },
  rgba: new Uint8Array(96 * 96 * 4),
  ids: new Uint32Array(96 * 96),
  truth: truths,
});
const draft = (overrides: Partial<QuestionDraft> = {}): QuestionDraft => ({
  category: "depth",
  question: "Which is closer to the camera?",
  correct: "red cube",
  distractors: ["blue cube"],
  objectIds: ["red_cube.1", "red_cube.2"],
  evidence: [{ quantity: "camera distance difference", value: -0.9, margin: 0.5 }],
  ...overrides,
});

Deno.test("a question whose difference clears its margin on visible objects is kept", () => {
  assert.equal(ambiguityReason(draft(), rendered([truth(1), truth(0.9)])), null);
});

Deno.test("a question resting on a difference under its margin is dropped", () => {
  const reason = ambiguityReason(
    draft({ evidence: [{ quantity: "camera distance difference", value: 0.3, margin: 0.5 }] }),
    rendered([truth(1), truth(1)]),
  );
  assert.match(reason ?? "", /camera distance difference is 0.300, under the margin 0.5/);
});

Deno.test("a question naming a heavily occluded or tiny object is dropped", () => {
  assert.match(
    ambiguityReason(draft(), rendered([truth(1), truth(0.3)])) ?? "",
    /red_cube.2 is heavily occluded/,
  );
  assert.match(
    ambiguityReason(draft(), rendered([truth(1, 8), truth(1)])) ?? "",
    /red_cube.1 .*too small/,
  );
});

Deno.test("a draft whose distractor repeats the answer or that has none is dropped", () => {
  const scene = rendered([truth(1), truth(1)]);
  assert.equal(ambiguityReason(draft({ distractors: ["red cube"] }), scene), "repeated option");
  assert.equal(ambiguityReason(draft({ distractors: [] }), scene), "no distractor");
});

Deno.test("a NaN difference never passes the filter", () => {
  const reason = ambiguityReason(
    draft({ evidence: [{ quantity: "gap", value: Number.NaN, margin: 0.1 }] }),
    rendered([truth(1), truth(1)]),
  );
  assert.notEqual(reason, null);
});
