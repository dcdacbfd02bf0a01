/**
 * Speed of the reward path on realistic responses, on one core: `deno bench -A bench/reward_bench.ts`.
 * One iteration scores one response, so "iter/s" reads as rewards per second. The target is
 * ≥ 50,000 rewards/s, so that rewarding a GRPO step's 4,096 responses takes under 0.1 s.
 *
 * Wall-clock results on a shared machine include time the process was not running, so the file
 * first prints the throughput per second of CPU time (the process's user + system time over
 * 100,000 rewards), which is what one dedicated core would deliver.
 *
 * @module
 */
import { parseResponse } from "../src/stages/parse.ts";
import { groundScenes } from "../src/stages/ground.ts";
import { spatialThinkerReward } from "../src/stages/reward.ts";
import { defaultLabelSimilarity } from "../src/text/label_similarity.ts";
import { loadWordVectorsSync } from "../src/text/word_vectors.ts";
import { cpuUsage } from "node:process";

type Box = [number, number, number, number];
const PROMPT = "<image> You are a vision-language assistant. … Image size: (640 x 480)\n" +
  "Now answer the following question:\nQ. Where is the man with respect to the bike?\n" +
  "Options:\n(A) behind\n(B) in front of\n(C) left of\n(D) right of";

const jitter = (box: Box, dx: number, dy: number): Box => [
  box[0] + dx,
  box[1] + dy,
  box[2] + dx,
  box[3] + dy,
];

const truthObjects: Array<[string, Box]> = [
  ["man.1", [100, 50, 300, 400]],
  ["bike.1", [250, 200, 500, 420]],
  ["red_car.1", [420, 120, 630, 300]],
  ["traffic_light.1", [20, 10, 60, 120]],
];
const truthRelations = [
  { subject: "man.1", predicate: "behind", object: "bike.1" },
  { subject: "bike.1", predicate: "left of", object: "red_car.1" },
];
const groundTruth = `<scene>${
  JSON.stringify({
    objects: truthObjects.map(([id, bbox]) => ({ id, bbox })),
    relationships: truthRelations,
  })
}</scene>\n<answer>(A) behind</answer>`;

const response = (objects: Array<[string, Box]>, relations: unknown[], answer: string) =>
  "<observe>A man stands behind a bicycle near a red car; a traffic light is at the top left." +
  "</observe>\n<scene>\n" +
  JSON.stringify({
    objects: objects.map(([id, bbox]) => ({ id, bbox })),
    relationships: relations,
  }) +
  "\n</scene>\n<think>The man's box is higher and partly hidden by the bicycle, so he is " +
  "farther from the camera: he is behind the bike.</think>\n<answer>" + answer + "</answer>";

/** A GRPO group's worth of typical rollouts: good, sloppy, wrong, spammy and malformed. */
const responses = [
  response(truthObjects, truthRelations, "(A) behind"),
  response(
    truthObjects.map(([id, b], k) => [id.replace("bike", "bicycle"), jitter(b, 7 * k, -5)]),
    truthRelations,
    "(A) behind",
  ),
  response(truthObjects.slice(0, 2), truthRelations.slice(0, 1), "(a) behind"),
  response(truthObjects, truthRelations, "(B) in front of"),
  response(
    [...truthObjects, ["person.1", [90, 40, 310, 410]], ["wheel.1", [260, 330, 330, 420]]],
    truthRelations,
    "(A) behind",
  ),
  response(truthObjects.slice(1), [], "(A) behind"),
  response(truthObjects, truthRelations, "(A) behind").replace("<observe>", ""),
  response([["traffic light.1", [20, 10, 60, 120]]], [], "(A) behind"),
];

// Load the word vectors (building the cache if needed) before timing anything.
const similarity = defaultLabelSimilarity();
let next = 0;

const rewardOnce = () =>
  spatialThinkerReward({
    response: responses[next++ % responses.length]!,
    groundTruth,
    problem: PROMPT,
  });

/** Rewards per second of this process's CPU time, after a warm-up. */
const rewardsPerCpuSecond = (count: number): number => {
  for (let i = 0; i < 10_000; i++) rewardOnce();
  const before = cpuUsage();
  for (let i = 0; i < count; i++) rewardOnce();
  const spent = cpuUsage(before);
  return count / ((spent.user + spent.system) / 1e6);
};
console.log(
  `spatialThinkerReward: ${Math.round(rewardsPerCpuSecond(100_000))} rewards per CPU-second`,
);

Deno.bench("spatialThinkerReward, realistic responses (iter/s = rewards/s)", () => {
  rewardOnce();
});

Deno.bench("parseResponse, realistic responses", () => {
  parseResponse(responses[next++ % responses.length]!);
});

const parsedTruth = parseResponse(groundTruth).response.scene!;
const parsedScenes = responses.map((text) => parseResponse(text).response.scene)
  .filter((scene) => scene !== undefined);
Deno.bench("groundScenes, realistic scenes", () => {
  groundScenes(
    parsedScenes[next++ % parsedScenes.length]!,
    parsedTruth,
    { width: 640, height: 480 },
    similarity,
  );
});

Deno.bench("loadWordVectorsSync from the cache (341,479 words × 100)", { n: 10, warmup: 1 }, () => {
  loadWordVectorsSync();
});
