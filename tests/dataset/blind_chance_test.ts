/**
 * Property test of the synthetic data set as a benchmark: without the image, the option texts must
 * not give the answer away. A few hundred scenes are generated with half of them held out, and the
 * option-prior ("blind") baseline fitted on the other half must stay within four standard errors
 * of chance in every category.
 */
import assert from "node:assert/strict";
import { Exit } from "effect";
import { paperShares } from "../../src/dataset/balance.ts";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../../src/dataset/generate.ts";
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

Deno.test("the option-prior baseline is within four standard errors of chance in every category", () => {
  assert.ok(Exit.isSuccess(exit), String(exit));
  const perCategory = exit.value.blindBaseline.heldOut.perCategory;
  const failures = CATEGORIES.flatMap((c) => {
    const score = perCategory[c];
    if (score === undefined || score.count < 200) return [`${c}: ${score?.count ?? 0} records`];
    // Four standard errors of a guesser at chance: a sound generator fails with odds ~1e-4.
    const tolerance = 4 * Math.sqrt(score.chance * (1 - score.chance) / score.count);
    return Math.abs(score.accuracy - score.chance) <= tolerance ? [] : [
      `${c}: blind ${(100 * score.accuracy).toFixed(1)}% vs chance ${
        (100 * score.chance).toFixed(1)
      }% (tolerance ${(100 * tolerance).toFixed(1)} points, ${score.count} records)`,
    ];
  });
  assert.deepEqual(failures, []);
});
