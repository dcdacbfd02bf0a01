import assert from "node:assert/strict";
import { Result } from "effect";
import type { RewardConfig } from "../../src/domain/reward.ts";
import { cleanLabel } from "../../src/domain/scene_graph.ts";
import { parseResponse } from "../../src/stages/parse.ts";
import { imageSizeFromProblem, REWARD_VARIANTS, scoreParsed } from "../../src/stages/reward.ts";

/** Cases scored by the official Python reward; see official/generate_official_rewards.py. */
interface OfficialCase {
  readonly response: string;
  readonly groundTruth: string;
  readonly problem: string;
  readonly expected: {
    readonly overall: number;
    readonly format: number;
    readonly count: number;
    readonly accuracy: number;
    readonly spatial_score: number;
  };
  /** `spatial_reward` (object score, relation score), where format and accuracy are 1. */
  readonly strict?: readonly [number, number];
}

const cases: OfficialCase[] = JSON.parse(
  Deno.readTextFileSync(new URL("./official/official_rewards.json", import.meta.url)),
);

/** The similarity the generator gave spaCy's place: 1 for equal cleaned labels, else 0. */
const exactCleanedSimilarity = (a: string, b: string) => cleanLabel(a) === cleanLabel(b) ? 1 : 0;

const scoreCase = (c: OfficialCase, config: RewardConfig) =>
  scoreParsed(
    {
      response: parseResponse(c.response),
      responseText: c.response,
      groundTruth: parseResponse(c.groundTruth),
      groundTruthText: c.groundTruth,
      size: Result.getOrThrow(imageSizeFromProblem(c.problem)),
    },
    config,
    exactCleanedSimilarity,
  ).breakdown;

Deno.test("the reward equals the official Python reward on 300 random and mutated responses", () => {
  assert.equal(cases.length, 300);
  for (const [k, c] of cases.entries()) {
    const breakdown = scoreCase(c, REWARD_VARIANTS["spatial-thinker"]);
    const expected = { ...c.expected, spatial: c.expected.spatial_score };
    for (const key of ["format", "count", "accuracy", "spatial", "overall"] as const) {
      assert.ok(
        Math.abs(breakdown[key] - expected[key]) < 1e-9,
        `case ${k} ${key}: ours ${breakdown[key]}, official ${
          expected[key]
        }\n${c.response}\n${c.groundTruth}`,
      );
    }
  }
});

Deno.test("the strict variant's spatial score is the mean of the official spatial_reward pair", () => {
  const strictCases = cases.filter((c) => c.strict !== undefined);
  assert.ok(strictCases.length > 100);
  for (const c of strictCases) {
    const [objects, relations] = c.strict!;
    const spatial = scoreCase(c, REWARD_VARIANTS.strict).spatial;
    assert.ok(
      Math.abs(spatial - (0.5 * objects + 0.5 * relations)) < 1e-9,
      `ours ${spatial}, official (${objects}, ${relations})\n${c.response}\n${c.groundTruth}`,
    );
  }
});
