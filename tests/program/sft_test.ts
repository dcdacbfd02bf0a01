import assert from "node:assert/strict";
import { Effect } from "effect";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../../src/dataset/generate.ts";
import { Gpu } from "../../src/gpu/gpu.ts";
import { runSft, SFT_DEFAULTS, type SftOptions } from "../../src/program/sft.ts";
import { SceneRenderer } from "../../src/scene/render.ts";

/** A small rendered dataset, made once for this file. */
const data = (async () => {
  const root = await Deno.makeTempDir({ prefix: "sft-test-" });
  await Effect.runPromise(
    generateDataset({
      ...DEFAULT_GENERATE_OPTIONS,
      scenes: 12,
      splits: { train: 0.6, val: 0.3, test: 0.1 },
      out: `${root}/data`,
    }).pipe(
      Effect.provide(SceneRenderer.layer),
      Effect.provide(Gpu.layer),
    ),
  );
  return root;
})();

const sft = (options: Partial<SftOptions>) =>
  Effect.runPromise(runSft({ ...SFT_DEFAULTS, ...options }).pipe(Effect.provide(Gpu.layer)));

const jsonLines = async (file: string) =>
  (await Deno.readTextFile(file)).trim().split("\n").map((line) => JSON.parse(line));

Deno.test("runSft with the grounding task trains on box questions and scores boxes", async () => {
  const root = await data;
  const out = `${root}/grounding`;
  const result = await sft({
    task: "grounding",
    data: `${root}/data`,
    out,
    steps: 2,
    batchSize: 4,
    microBatch: 4,
    warmupSteps: 1,
    saveEvery: 2,
    evalPrompts: 4,
  });
  const metrics = await jsonLines(`${out}/sft_metrics.jsonl`);
  assert.deepEqual(metrics.map((m) => m.step), [1, 2]);
  assert.ok(metrics.every((m) => Number.isFinite(m.loss) && m.applied));
  const summary = result.summary as { count: number; medianCentreErrorOfImageCentre: number };
  assert.equal(summary.count, 4);
  assert.ok(summary.medianCentreErrorOfImageCentre > 0);
  const saved = JSON.parse(await Deno.readTextFile(`${out}/sft_eval.json`));
  assert.deepEqual(saved.summary, JSON.parse(JSON.stringify(result.summary)));
  assert.ok((await Deno.stat(`${out}/checkpoints/step-00000002/model.safetensors`)).isFile);
});

Deno.test("runSft with the stvqa task writes metrics, a checkpoint and the greedy evaluation", async () => {
  const root = await data;
  const out = `${root}/stvqa`;
  const result = await sft({
    data: `${root}/data`,
    out,
    steps: 1,
    batchSize: 2,
    microBatch: 2,
    warmupSteps: 1,
    saveEvery: 1,
    evalPrompts: 2,
    maxNewTokens: 8,
  });
  assert.equal((await jsonLines(`${out}/sft_metrics.jsonl`)).length, 1);
  const summary = result.summary as { count: number; formatRate: number };
  assert.equal(summary.count, 2);
  const saved = JSON.parse(await Deno.readTextFile(`${out}/sft_eval.json`));
  assert.equal(saved.samples.length, 2);
});

Deno.test("runSft with a grounding mix trains on both and resumes to the same losses", async () => {
  const root = await data;
  const base: Partial<SftOptions> = {
    data: `${root}/data`,
    steps: 3,
    batchSize: 4,
    microBatch: 2,
    warmupSteps: 1,
    saveEvery: 1,
    evalPrompts: 0,
    groundingMix: 0.5,
  };
  const losses = async (out: string) =>
    (await jsonLines(`${out}/sft_metrics.jsonl`)).map((m) => m.loss as number);
  await sft({ ...base, out: `${root}/mix` });
  await sft({ ...base, out: `${root}/plain`, groundingMix: 0 });
  await sft({ ...base, out: `${root}/mix-resumed`, steps: 2 });
  await sft({ ...base, out: `${root}/mix-resumed`, resume: true });
  const mixed = await losses(`${root}/mix`);
  assert.equal(mixed.length, 3);
  assert.deepEqual(await losses(`${root}/mix-resumed`), mixed);
  const plain = await losses(`${root}/plain`);
  assert.notEqual(plain[0], mixed[0]);
});
