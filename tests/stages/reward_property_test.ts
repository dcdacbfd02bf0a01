import assert from "node:assert/strict";
import type { RewardBreakdown, RewardWeights } from "../../src/domain/reward.ts";
import { parseResponse } from "../../src/stages/parse.ts";
import { REWARD_VARIANTS, spatialThinkerRewardForSize } from "../../src/stages/reward.ts";
import { groundTruthString, responseString, seededRandom } from "./fixtures.ts";

const LABELS = ["man", "bike", "red_cube", "ball", "traffic_light", "table", "cup", "dog"];
const PREDICATES = ["behind", "left of", "on top of", "next to", "in front of"];
const ANSWERS = ["(A) behind", "(B) in front of", "(a) BEHIND", "(C) left"];
const WIDTH = 640;
const HEIGHT = 480;

type Random = () => number;
const pick = <T>(random: Random, items: ReadonlyArray<T>): T =>
  items[Math.floor(random() * items.length)]!;

/** A random scene graph with ordered pixel boxes inside the image. */
const randomScene = (random: Random) => {
  const count = Math.floor(random() * 6);
  const objects = Array.from({ length: count }, (_, k) => {
    const x1 = Math.round(random() * WIDTH);
    const y1 = Math.round(random() * HEIGHT);
    const x2 = x1 + Math.round(random() * (WIDTH - x1));
    const y2 = y1 + Math.round(random() * (HEIGHT - y1));
    return { id: `${pick(random, LABELS)}.${k + 1}`, bbox: [x1, y1, x2, y2] };
  });
  const relationships = objects.length < 2 ? [] : Array.from(
    { length: Math.floor(random() * 4) },
    () => ({
      subject: pick(random, objects).id,
      predicate: pick(random, PREDICATES),
      object: pick(random, objects).id,
    }),
  );
  return { objects, relationships };
};

const MUTATION_ALPHABET = '{}[]":,.<>/ 0123456789eE-+xyz\\\n\u00e9';

/** Up to four random character edits: inserts, deletions and replacements. */
const mutate = (random: Random, text: string): string => {
  let mutated = text;
  for (let edits = Math.floor(random() * 5); edits > 0; edits--) {
    const at = Math.floor(random() * mutated.length);
    const insert = random() < 0.7 ? pick(random, [...MUTATION_ALPHABET]) : "";
    mutated = mutated.slice(0, at) + insert + mutated.slice(at + Math.floor(random() * 3));
  }
  return mutated;
};

const weightedSum = (r: RewardBreakdown, w: RewardWeights) =>
  r.format * w.format + r.count * w.count + r.accuracy * w.accuracy + r.spatial * w.spatial;

/** Whether every box of the response's scene has x1 ≤ x2 and y1 ≤ y2. */
const boxesOrdered = (text: string): boolean =>
  (parseResponse(text).response.scene?.objects ?? []).every(({ bbox }) =>
    bbox[0] <= bbox[2] && bbox[1] <= bbox[3]
  );

Deno.test("every variant gives in-range components and overall = weighted sum on random and mutated responses", () => {
  const random = seededRandom(2025);
  for (let trial = 0; trial < 600; trial++) {
    const groundTruth = groundTruthString(randomScene(random), pick(random, ANSWERS));
    const valid = responseString(randomScene(random), pick(random, ANSWERS));
    const response = random() < 0.5 ? valid : mutate(random, valid);
    const ordered = boxesOrdered(response);
    for (const config of Object.values(REWARD_VARIANTS)) {
      const r = spatialThinkerRewardForSize(
        { response, groundTruth, width: WIDTH, height: HEIGHT },
        config,
      );
      const context = `${config.variant}: ${JSON.stringify(r)}\n${response}\n${groundTruth}`;
      assert.ok(r.format === 0 || r.format === 1, context);
      assert.ok(r.accuracy === 0 || r.accuracy === 1, context);
      assert.ok(r.count >= 0 && r.count <= 1, context);
      assert.ok(Number.isFinite(r.spatial), context);
      if (ordered) {
        const floor = config.spatialScore === "objects-and-relations" ? -0.75 : -0.25;
        assert.ok(r.spatial >= floor && r.spatial <= 1 + 1e-12, context);
      }
      assert.equal(r.overall, weightedSum(r, config.weights), context);
      if (config.gateOnFormat && r.format === 0) {
        assert.deepEqual([r.count, r.accuracy, r.spatial], [0, 0, 0], context);
      }
      if (config.gateSpatialOnAccuracy && r.accuracy === 0) assert.equal(r.spatial, 0, context);
    }
  }
});

Deno.test("the default reward stays in [−0.05, 1] for ordered boxes, ≤ 0.3 for wrong answers and ≥ 0.6 for right ones", () => {
  const random = seededRandom(99);
  const config = REWARD_VARIANTS["spatial-thinker"];
  for (let trial = 0; trial < 400; trial++) {
    const gtAnswer = pick(random, ANSWERS);
    const answer = random() < 0.5 ? gtAnswer : pick(random, ANSWERS);
    const response = responseString(randomScene(random), answer);
    const groundTruth = groundTruthString(randomScene(random), gtAnswer);
    const r = spatialThinkerRewardForSize(
      { response, groundTruth, width: WIDTH, height: HEIGHT },
      config,
    );
    assert.equal(r.format, 1, response);
    assert.ok(r.overall >= 0.1 + 0.2 * -0.25 && r.overall <= 1 + 1e-12, JSON.stringify(r));
    if (r.accuracy === 1) assert.ok(r.overall >= 0.6 - 0.05, JSON.stringify(r));
    else assert.ok(r.overall <= 0.3 + 1e-12, JSON.stringify(r));
  }
});
