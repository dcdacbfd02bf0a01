/**
 * Property test of the synthetic data set as a benchmark: without the image, neither the option
 * texts nor the question's words may give the answer away. A few hundred scenes are generated
 * with half of them held out, and the blind baselines fitted on the other half must stay within
 * four standard errors of chance in every category (before size answers were balanced per shape
 * combination, the question-aware baseline read the answer from the shape words: 5.0 standard
 * errors above chance on size here, 4.2 on reach).
 */
import assert from "node:assert/strict";
import { Exit } from "effect";
import { paperShares } from "../../src/dataset/balance.ts";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../../src/dataset/generate.ts";
import type { BlindBaseline } from "../../src/dataset/blind_baseline.ts";
import { CATEGORIES } from "../../src/dataset/question.ts";
import { rendererRuntime } from "../scene/renderer_runtime.ts";

const root = await Deno.makeTempDir({ prefix: "blind_chance_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

// Equal category shares and many records per scene give every category a few hundred held-out
// questions; half the scenes are held out so the fit and the score are equally reliable.
const exit = await rendererRuntime.runPromiseExit(generateDataset({
  ...DEFAULT_GENERATE_OPTIONS,
  scenes: 600,
  out: `${root}/data`,
  seed: 11,
  recordsPerScene: 8,
  shares: paperShares(1 / CATEGORIES.length),
  splits: { train: 0.5, val: 0.5, test: 0 },
}));

/** Categories whose held-out score is further than `standardErrors` from chance, described. */
const awayFromChance = (baseline: BlindBaseline, standardErrors: number): string[] =>
  CATEGORIES.flatMap((c) => {
    const score = baseline.perCategory[c];
    if (score === undefined || score.count < 200) return [`${c}: ${score?.count ?? 0} records`];
    const tolerance = standardErrors * Math.sqrt(score.chance * (1 - score.chance) / score.count);
    return Math.abs(score.accuracy - score.chance) <= tolerance ? [] : [
      `${c}: blind ${(100 * score.accuracy).toFixed(1)}% vs chance ${
        (100 * score.chance).toFixed(1)
      }% (tolerance ${(100 * tolerance).toFixed(1)} points, ${score.count} records)`,
    ];
  });

// Four standard errors of a guesser at chance: a sound generator fails with odds ~1e-4 per
// category. (Count sits 2-3 standard errors above chance at some seeds: at 8 records per scene
// its quota outgrows its balanced questions and leftovers fill it, a cost of this test's size.)
Deno.test("the option-prior baseline is within four standard errors of chance in every category", () => {
  assert.ok(Exit.isSuccess(exit), String(exit));
  assert.deepEqual(awayFromChance(exit.value.blindBaseline.heldOut, 4), []);
});

Deno.test("the question-aware baseline is within four standard errors of chance in every category", () => {
  assert.ok(Exit.isSuccess(exit), String(exit));
  assert.deepEqual(awayFromChance(exit.value.questionAwareBaseline.heldOut, 4), []);
});
