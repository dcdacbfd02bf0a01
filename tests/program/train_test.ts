import assert from "node:assert/strict";
import { Effect, Layer } from "effect";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../../src/dataset/generate.ts";
import { Gpu } from "../../src/gpu/gpu.ts";
import { Readback } from "../../src/gpu/recorder.ts";
import { saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { PRESETS } from "../../src/nn/config.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { runGrpo, type TrainRun } from "../../src/program/train.ts";
import { GRPO_PRESETS } from "../../src/rl/config.ts";
import { MetricsSink } from "../../src/report/sink.ts";
import { readMetrics } from "../../src/report/run_folder.ts";
import { SceneRenderer } from "../../src/scene/render.ts";
import { Grounder } from "../../src/stages/ground.ts";
import { Parser, parseResponse } from "../../src/stages/parse.ts";
import { Policy } from "../../src/stages/policy.ts";
import { Reasoner } from "../../src/stages/reason.ts";
import { REWARD_VARIANTS, Rewarder } from "../../src/stages/reward.ts";
import { Updater } from "../../src/stages/update.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import type { MetricsRow } from "../../src/report/metrics.ts";

const tiny = PRESETS.tiny;

/** A small rendered dataset and a tiny starting checkpoint, made once for this file. */
const fixture = (async () => {
  const root = await Deno.makeTempDir({ prefix: "grpo-test-" });
  await Effect.runPromise(
    generateDataset({ ...DEFAULT_GENERATE_OPTIONS, scenes: 24, out: `${root}/data` }).pipe(
      Effect.provide(SceneRenderer.layer),
      Effect.provide(Gpu.layer),
    ),
  );
  const tokenizer = await Effect.runPromise(
    loadTokenizer(new URL("../../data/tokenizer/tiny/tokenizer.json", import.meta.url).pathname),
  );
  await Effect.runPromise(saveCheckpoint(`${root}/init`, {
    config: tiny.config,
    weights: initialWeights(tiny.config, 3),
    generation: tiny.generation,
    preprocessor: tiny.preprocessor,
    tokenizer,
  }));
  return root;
})();

const grpo = (steps: number) => ({
  ...GRPO_PRESETS.tiny,
  rollout: { ...GRPO_PRESETS.tiny.rollout, n: 2, batchSize: 2, maxNewTokens: 12 },
  actor: { ...GRPO_PRESETS.tiny.actor, miniBatchSize: 1, microBatchSize: 2, lr: 1e-3 },
  trainer: { steps, seed: 5, valFreq: 2, saveFreq: 1 },
});

const stages = (
  root: string,
  out: string,
  rewarder: Layer.Layer<Rewarder, never, Parser | Grounder>,
) =>
  Layer.mergeAll(Reasoner.layer, Updater.layer).pipe(
    Layer.provideMerge(
      Policy.layer({ kind: "checkpoint", dir: `${root}/init` }, {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.01,
        maxGradNorm: 1,
      }, { withReference: true }),
    ),
    Layer.merge(rewarder.pipe(Layer.provide(Layer.mergeAll(Parser.layer, Grounder.layer)))),
    Layer.merge(MetricsSink.layer(out)),
    Layer.provideMerge(Gpu.layer),
  );

const train = async (
  root: string,
  out: string,
  steps: number,
  resume: boolean,
  rewarder: Layer.Layer<Rewarder, never, Parser | Grounder> = Rewarder.layer,
) => {
  const run: TrainRun = {
    name: "test",
    out,
    data: `${root}/data`,
    grpo: grpo(steps),
    promptStyle: "compact",
    valPrompts: 2,
    rolloutEvery: 1,
    resume,
    model: "test-init",
  };
  await Effect.runPromise(runGrpo(run).pipe(Effect.provide(stages(root, out, rewarder))));
  return await Effect.runPromise(readMetrics(`${out}/metrics.jsonl`));
};

/** A row without its wall-clock fields, which differ between runs. */
const timeless = (row: MetricsRow) => {
  const { time: _time, ...rest } = row;
  if (rest.kind === "val") return rest;
  const { seconds: _seconds, tokensPerSecond: _tps, ...stable } = rest;
  return stable;
};

Deno.test({
  name: "a three-step GRPO run writes metrics, rollouts, validation and checkpoints",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await fixture;
    const out = `${root}/run-a`;
    const rows = await train(root, out, 3, false);
    const trainRows = rows.filter((r) => r.kind === "train");
    assert.deepEqual(trainRows.map((r) => r.step), [1, 2, 3]);
    assert.deepEqual(rows.filter((r) => r.kind === "val").map((r) => r.step), [0, 2]);
    for (const r of trainRows) {
      if (r.kind !== "train") continue;
      assert.ok(r.entropy > 0 && Number.isFinite(r.kl) && r.responseLength > 0);
      // Benchmark-style accuracy: a correct answer names one option; an exact answer is correct.
      assert.ok(r.validAnswerRate !== undefined && r.accuracy <= r.validAnswerRate);
      assert.ok(r.reward.accuracy <= r.accuracy);
    }
    for (const step of [1, 2, 3]) {
      await Deno.stat(`${out}/checkpoints/step-${String(step).padStart(8, "0")}/model.safetensors`);
      await Deno.stat(`${out}/rollouts/step-${String(step).padStart(6, "0")}.jsonl`);
    }
  },
});

Deno.test({
  name: "a GRPO step with one optimizer update reads back from the GPU twice at most",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await fixture;
    const before = Readback.waits;
    const out = `${root}/run-readbacks`;
    const run: TrainRun = {
      name: "readbacks",
      out,
      data: `${root}/data`,
      // One update per step (the mini-batch is the whole batch): rollouts + the guarded update.
      grpo: {
        ...grpo(3),
        actor: { ...grpo(3).actor, miniBatchSize: 2 },
        trainer: { steps: 3, seed: 5, valFreq: 0, saveFreq: 0 },
      },
      promptStyle: "compact",
      valPrompts: 0,
      rolloutEvery: 100,
      resume: false,
      model: "test-init",
    };
    await Effect.runPromise(runGrpo(run).pipe(Effect.provide(stages(root, out, Rewarder.layer))));
    // One wait copies the reference model at start-up and one saves the final checkpoint.
    const perStep = (Readback.waits - before - 2) / 3;
    assert.ok(perStep <= 2, `${perStep} readbacks per step`);
  },
});

Deno.test({
  name: "a resumed run logs exactly what an uninterrupted run with the same seed logs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await fixture;
    const straight = await train(root, `${root}/run-straight`, 3, false);
    await train(root, `${root}/run-resumed`, 2, false);
    const resumed = await train(root, `${root}/run-resumed`, 3, true);
    assert.deepEqual(resumed.map(timeless), straight.map(timeless));
  },
});

Deno.test({
  name: "a custom reward stage replaces the SpatialThinker reward in the same program",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await fixture;
    // Reward = 1 for every response: every group has zero variance, so nothing is learned.
    const constant = Layer.succeed(
      Rewarder,
      Rewarder.of({
        config: REWARD_VARIANTS["spatial-thinker"],
        score: () =>
          Effect.succeed({
            breakdown: { overall: 1, format: 1, count: 1, accuracy: 1, spatial: 1 },
            response: parseResponse(""),
            groundTruth: parseResponse(""),
            grounding: undefined,
          }),
      }),
    );
    const rows = await train(root, `${root}/run-custom`, 1, false, constant);
    const step = rows.find((r) => r.kind === "train");
    assert.ok(step?.kind === "train");
    assert.equal(step.reward.overall, 1);
    assert.equal(step.zeroVarianceGroups, 1);
  },
});
