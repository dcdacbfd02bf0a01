import assert from "node:assert/strict";
import { Effect, Layer, Result, Schema } from "effect";
import { CIOU_EPS, mappedCiou } from "../../src/domain/box.ts";
import { ImageSizeMissing } from "../../src/domain/image_size.ts";
import { type RewardBreakdown, RewardConfig } from "../../src/domain/reward.ts";
import { Grounder } from "../../src/stages/ground.ts";
import { Parser, parseResponse } from "../../src/stages/parse.ts";
import {
  imageSizeFromProblem,
  REWARD_VARIANTS,
  rewardConfig,
  Rewarder,
  scoreParsed,
  spatialThinkerReward,
  spatialThinkerRewardForSize,
} from "../../src/stages/reward.ts";
import {
  exactSimilarity,
  GROUND_TRUTH_SCENE,
  groundTruthString,
  PROBLEM,
  responseString,
} from "./fixtures.ts";

const SIZE = { width: 640, height: 480 };
const GT = groundTruthString(GROUND_TRUTH_SCENE, "(A) behind");

/** The reward with exact-label similarity, so expected values can be computed by hand. */
const score = (
  response: string,
  groundTruth = GT,
  config: RewardConfig = REWARD_VARIANTS["spatial-thinker"],
): RewardBreakdown =>
  scoreParsed(
    {
      response: parseResponse(response),
      responseText: response,
      groundTruth: parseResponse(groundTruth),
      groundTruthText: groundTruth,
      size: SIZE,
    },
    config,
    exactSimilarity,
  ).breakdown;

const near = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

/** mCIoU of two pixel boxes of the 640×480 image. */
const pixelCiou = (a: number[], b: number[]) =>
  mappedCiou(
    [a[0]! / 640, a[1]! / 480, a[2]! / 640, a[3]! / 480],
    [b[0]! / 640, b[1]! / 480, b[2]! / 640, b[3]! / 480],
  );

Deno.test("a perfect response scores 1 up to the CIoU eps", () => {
  const r = score(responseString(GROUND_TRUTH_SCENE, "(A) behind"));
  assert.deepEqual([r.format, r.count, r.accuracy], [1, 1, 1]);
  near(r.spatial, 1, 1e-5);
  near(r.overall, 0.1 + 0.2 + 0.5 + 0.2 * r.spatial);
});

Deno.test("golden: one extra relation and one shifted box", () => {
  const scene = {
    objects: [
      { id: "man.1", bbox: [100, 50, 300, 400] },
      { id: "bike.1", bbox: [300, 200, 550, 420] },
    ],
    relationships: [
      { subject: "man.1", predicate: "behind", object: "bike.1" },
      { subject: "bike.1", predicate: "in front of", object: "man.1" },
    ],
  };
  const r = score(responseString(scene, "(a) BEHIND"));
  // count = 0.7·1 (2 vs 2 objects) + 0.3·max(0, 1 − |2 − 1|/1) = 0.7
  near(r.count, 0.7);
  const bike = pixelCiou([300, 200, 550, 420], [250, 200, 500, 420]);
  // Identical boxes: CIoU = IoU = area / (area + eps), in normalised units.
  const area = (200 / 640) * (350 / 480);
  const man = (area / (area + CIOU_EPS) + 1) / 2;
  near(r.spatial, (man + bike) / 2);
  near(r.overall, 0.1 * 1 + 0.2 * 0.7 + 0.5 * 1 + 0.2 * r.spatial);
});

Deno.test("format 0 sets every component to 0, even with the right answer", () => {
  const broken = responseString(GROUND_TRUTH_SCENE, "(A) behind").replace("<observe>", "");
  assert.deepEqual(score(broken), { overall: 0, format: 0, count: 0, accuracy: 0, spatial: 0 });
});

Deno.test("a wrong answer scores no spatial reward and at most 0.3", () => {
  const r = score(responseString(GROUND_TRUTH_SCENE, "(B) in front of"));
  assert.deepEqual([r.format, r.count, r.accuracy, r.spatial], [1, 1, 0, 0]);
  near(r.overall, 0.3);
});

Deno.test("answers compare case-insensitively after trimming, and nothing else", () => {
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "  (a) Behind\n")).accuracy, 1);
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "(A)  behind")).accuracy, 0);
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "A")).accuracy, 0);
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "(A) behind.")).accuracy, 0);
});

Deno.test("the spatial score divides by the number of ground-truth objects", () => {
  const onlyMan = { objects: [GROUND_TRUTH_SCENE.objects[0]], relationships: [] };
  const r = score(responseString(onlyMan, "(A) behind"));
  near(r.spatial, pixelCiou([100, 50, 300, 400], [100, 50, 300, 400]) / 2);
  // count: objects 1 − 1/2, relations 1 − 1/1.
  near(r.count, 0.7 * 0.5 + 0.3 * 0);
});

Deno.test("extra predicted objects do not lower the spatial score", () => {
  const spam = {
    objects: [
      ...GROUND_TRUTH_SCENE.objects,
      { id: "man.2", bbox: [0, 0, 640, 480] },
      { id: "bike.2", bbox: [10, 10, 20, 20] },
    ],
    relationships: GROUND_TRUTH_SCENE.relationships,
  };
  const r = score(responseString(spam, "(A) behind"));
  near(r.spatial, 1, 1e-5);
  near(r.count, 0.7 * 0 + 0.3 * 1, 1e-12); // 4 vs 2 objects: 1 − 2/2 = 0
});

Deno.test("the spatial score can be negative: mCIoU goes below 0", () => {
  const gt = groundTruthString({ objects: [{ id: "pole.1", bbox: [0, 0, 1, 10] }] }, "A");
  const far = responseString({ objects: [{ id: "pole.1", bbox: [630, 478, 640, 480] }] }, "A");
  const r = score(far, gt);
  assert.ok(r.spatial < 0, `${r.spatial}`);
  near(r.overall, 0.1 + 0.2 + 0.5 + 0.2 * r.spatial);
});

Deno.test("relations are matched but do not change the default spatial score", () => {
  const withRelations = responseString(GROUND_TRUTH_SCENE, "(A) behind");
  const without = responseString({ objects: GROUND_TRUTH_SCENE.objects }, "(A) behind");
  const wrong = responseString({
    objects: GROUND_TRUTH_SCENE.objects,
    relationships: [{ subject: "bike.1", predicate: "on", object: "man.1" }],
  }, "(A) behind");
  assert.equal(score(without).spatial, score(withRelations).spatial);
  assert.equal(score(wrong).spatial, score(withRelations).spatial);
});

Deno.test("relation gating, when switched on, zeroes spatial without any predicted relation", () => {
  const gated = { ...REWARD_VARIANTS["spatial-thinker"], relationGating: true };
  const without = responseString({ objects: GROUND_TRUTH_SCENE.objects }, "(A) behind");
  assert.equal(score(without, GT, gated).spatial, 0);
  near(score(responseString(GROUND_TRUTH_SCENE, "(A) behind"), GT, gated).spatial, 1, 1e-5);
});

Deno.test("the count ignores predicted relations when the ground truth has none", () => {
  const gt = groundTruthString({ objects: GROUND_TRUTH_SCENE.objects, relationships: [] }, "A");
  const r = score(responseString(GROUND_TRUTH_SCENE, "A"), gt);
  assert.equal(r.count, 1);
});

Deno.test("a response scene without an objects key passes the format but counts 0", () => {
  const r = score(responseString({ relationships: [] }, "(A) behind"));
  assert.equal(r.format, 1);
  assert.equal(r.count, 0);
  assert.equal(r.spatial, 0, "two ground-truth objects, none predicted");
});

Deno.test("a ground truth without objects or relations gives spatial 1 only to an empty prediction", () => {
  const gt = groundTruthString({ objects: [] }, "A");
  assert.equal(score(responseString({ objects: [] }, "A"), gt).spatial, 1);
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "A"), gt).spatial, 0);
});

Deno.test("a ground truth with relations but no objects gives spatial 1 (official empty mean)", () => {
  const gt = groundTruthString(
    { objects: [], relationships: GROUND_TRUTH_SCENE.relationships },
    "A",
  );
  assert.equal(score(responseString(GROUND_TRUTH_SCENE, "A"), gt).spatial, 1);
});

Deno.test("the image size is read from the prompt; a missing one is a typed error", () => {
  assert.deepEqual(Result.getOrThrow(imageSizeFromProblem(PROBLEM)), SIZE);
  assert.deepEqual(
    Result.getOrThrow(imageSizeFromProblem("Image size: ( 1024 x 768 ) rest")),
    { width: 1024, height: 768 },
  );
  for (const problem of ["no size here", "Image size: (0 x 480)", "Image size: (6.5 x 4)"]) {
    const size = imageSizeFromProblem(problem);
    assert.ok(Result.isFailure(size) && size.failure instanceof ImageSizeMissing, problem);
  }
  assert.throws(
    () => spatialThinkerReward({ response: "anything", groundTruth: GT, problem: "Q. where?" }),
    (error) => error instanceof ImageSizeMissing && error._tag === "ImageSizeMissing",
  );
});

Deno.test("spatialThinkerReward scores a realistic response with the word vectors", () => {
  const scene = {
    objects: [
      { id: "man.1", bbox: [110, 60, 290, 390] },
      { id: "bicycle.1", bbox: [240, 210, 510, 410] },
    ],
    relationships: [{ subject: "man.1", predicate: "behind", object: "bicycle.1" }],
  };
  const response = responseString(scene, "(A) behind");
  const r = spatialThinkerReward({ response, groundTruth: GT, problem: PROBLEM });
  assert.deepEqual([r.format, r.count, r.accuracy], [1, 1, 1]);
  // Matching by labels and boxes pairs man↔man and bicycle↔bike.
  const expected = (pixelCiou([110, 60, 290, 390], [100, 50, 300, 400]) +
    pixelCiou([240, 210, 510, 410], [250, 200, 500, 420])) / 2;
  near(r.spatial, expected);
  assert.deepEqual(
    r,
    spatialThinkerRewardForSize({ response, groundTruth: GT, width: 640, height: 480 }),
  );
});

Deno.test("sparse is 0.5·format + 0.5·accuracy with the think-answer layout, ungated", () => {
  const sparse = REWARD_VARIANTS.sparse;
  const thinkAnswer = "<think>the man is farther</think>\n<answer>(A) behind</answer>";
  assert.deepEqual(score(thinkAnswer, GT, sparse), {
    overall: 1,
    format: 1,
    count: 0,
    accuracy: 1,
    spatial: 0,
  });
  const full = score(responseString(GROUND_TRUTH_SCENE, "(A) behind"), GT, sparse);
  assert.deepEqual([full.format, full.accuracy, full.overall], [0, 1, 0.5]);
  assert.equal(score("(A) behind", GT, sparse).accuracy, 1, "no tag: the whole text is the answer");
});

Deno.test("naive-spatial scores the scene without any gating", () => {
  const naive = REWARD_VARIANTS["naive-spatial"];
  const wrong = score(responseString(GROUND_TRUTH_SCENE, "(B) in front of"), GT, naive);
  assert.equal(wrong.accuracy, 0);
  near(wrong.spatial, 1, 1e-5);
  assert.equal(wrong.count, 0);
  const noObserve = responseString(GROUND_TRUTH_SCENE, "(A) behind").replace("<observe>", "");
  const unformatted = score(noObserve, GT, naive);
  assert.deepEqual([unformatted.format, unformatted.accuracy], [0, 1]);
  near(unformatted.spatial, 1, 1e-5);
  near(unformatted.overall, 0.5 + 0.2 * unformatted.spatial);
  const badIds = responseString({ objects: [{ id: "man 1", bbox: [1, 2, 3, 4] }] }, "(A) behind");
  assert.equal(score(badIds, GT, naive).spatial, 0, "invalid objects score 0 even ungated");
});

Deno.test("strict scores objects by IoU, L1 and labels and relations by triplet similarity", () => {
  const strict = REWARD_VARIANTS.strict;
  const perfect = score(responseString(GROUND_TRUTH_SCENE, "(A) behind"), GT, strict);
  near(perfect.spatial, 1);
  const onlyMan = { objects: [GROUND_TRUTH_SCENE.objects[0]], relationships: [] };
  const r = score(responseString(onlyMan, "(A) behind"), GT, strict);
  // objects: 0.5·((1 + 5·e⁰)/6)/2 + 0.5·1/2 = 0.5; relations: none matched of 1 = 0.
  near(r.spatial, 0.5 * 0.5 + 0.5 * 0);
});

Deno.test("weights are configurable and overall is their weighted sum", () => {
  const config = rewardConfig("spatial-thinker", {
    weights: { format: 0.2, spatial: 0.1 },
    countWeights: { objects: 0.8, relations: 0.2 },
  });
  assert.deepEqual(config.weights, { format: 0.2, count: 0.2, accuracy: 0.5, spatial: 0.1 });
  const onlyMan = { objects: [GROUND_TRUTH_SCENE.objects[0]], relationships: [] };
  const r = score(responseString(onlyMan, "(A) behind"), GT, config);
  near(r.count, 0.8 * 0.5);
  near(r.overall, 0.2 + 0.2 * r.count + 0.5 + 0.1 * r.spatial);
});

Deno.test("every named variant is a valid RewardConfig", () => {
  for (const config of Object.values(REWARD_VARIANTS)) {
    assert.deepEqual(Schema.decodeUnknownSync(RewardConfig)(config), config);
  }
  assert.equal(
    Schema.decodeUnknownResult(RewardConfig)({ ...REWARD_VARIANTS.sparse, variant: "dense" })._tag,
    "Failure",
  );
});

Deno.test("the Rewarder service composes Parser and Grounder and reports a missing size", async () => {
  const layer = Rewarder.layer.pipe(
    Layer.provide(Layer.mergeAll(Parser.layer, Grounder.layerWith(exactSimilarity))),
  );
  const response = responseString(GROUND_TRUTH_SCENE, "(A) behind");
  const scoreWith = (problem: string) =>
    Effect.gen(function* () {
      const rewarder = yield* Rewarder;
      return yield* rewarder.score({ response, groundTruth: GT, problem });
    }).pipe(Effect.provide(layer));
  const scored = await Effect.runPromise(scoreWith(PROBLEM));
  assert.deepEqual(scored.breakdown, score(response));
  assert.equal(scored.grounding?.objectMatches.length, 2);
  const failure = await Effect.runPromise(Effect.flip(scoreWith("Q. where?")));
  assert.equal(failure._tag, "ImageSizeMissing");
});

Deno.test("label similarity is not added to the spatial score; only the matching uses it", () => {
  const renamed = {
    objects: [
      { id: "person.1", bbox: [100, 50, 300, 400] },
      { id: "cycle.1", bbox: [250, 200, 500, 420] },
    ],
    relationships: [],
  };
  // Similarity 0 for every pair: boxes alone decide, and the score is the plain mCIoU mean.
  near(score(responseString(renamed, "(A) behind")).spatial, 1, 1e-5);
});

Deno.test("the sparse variant never needs a label similarity", () => {
  const text = "<think>t</think><answer>(A) behind</answer>";
  const scored = scoreParsed(
    {
      response: parseResponse(text),
      responseText: text,
      groundTruth: parseResponse(GT),
      groundTruthText: GT,
      size: SIZE,
    },
    REWARD_VARIANTS.sparse,
    () => {
      throw new Error("similarity used");
    },
  );
  assert.equal(scored.breakdown.overall, 1);
  assert.equal(scored.grounding, undefined);
});

Deno.test("a missing image size says which line it expected and how the prompt begins", () => {
  const size = imageSizeFromProblem("Q. Where is the cat?");
  assert.ok(Result.isFailure(size));
  assert.match(size.failure.message, /Image size: \(W x H\)/);
  assert.match(size.failure.message, /Q\. Where is the cat\?/);
});
