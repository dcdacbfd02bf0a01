import assert from "node:assert/strict";
import { Effect } from "effect";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { PRESETS } from "../../src/nn/config.ts";
import { AdamW } from "../../src/nn/optimizer.ts";
import { recordSftLoss } from "../../src/nn/sft_loss.ts";
import { optimizerStep } from "../../src/nn/train_step.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { modelFromCheckpoint, saveRunCheckpoint } from "../../src/stages/model_setup.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import { gpuTest } from "../gpu/harness.ts";
import { micro, samples, weightsFor } from "./micro.ts";

const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };

/** The SFT loss of the micro samples, as a step's record callback. */
const sftLoss = (vlm: Vlm, arena: Arena) => (rec: CommandRecorder) => [
  recordSftLoss(rec, arena, vlm, packBatch(micro, samples(), 0)),
];

const logitsOf = async (rt: GpuRuntime, vlm: Vlm) => {
  const arena = new Arena(rt.pool);
  const rec = new CommandRecorder(rt);
  const { logits } = vlm.forward(rec, arena, vlm.upload(arena, packBatch(micro, samples(), 0)));
  rec.read(logits);
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  return Float32Array.from(arrays[0]!);
};

gpuTest("a memorisation run drives the loss on one batch down by more than 80%", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(11));
  const optimizer = new AdamW(rt, vlm.params, settings);
  const arena = new Arena(rt.pool);
  const losses: number[] = [];
  for (let step = 0; step < 40; step++) {
    const outcome = await optimizerStep(vlm, optimizer, arena, 3e-3, sftLoss(vlm, arena));
    assert.ok(outcome.applied);
    losses.push(outcome.readouts[0]![0]!);
  }
  assert.ok(losses.at(-1)! < 0.2 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
});

gpuTest(
  "a step with a non-finite loss is skipped and leaves every weight as it was",
  async (rt) => {
    const vlm = new Vlm(rt, micro, weightsFor(12));
    const optimizer = new AdamW(rt, vlm.params, settings);
    const arena = new Arena(rt.pool);
    const before = await logitsOf(rt, vlm);
    const outcome = await optimizerStep(vlm, optimizer, arena, 1e-2, (rec) => {
      const readouts = sftLoss(vlm, arena)(rec);
      const poisoned = arena.alloc([2]);
      fill(rec, poisoned, NaN);
      return [...readouts, poisoned];
    });
    assert.equal(outcome.applied, false);
    assert.equal(optimizer.step, 0);
    assert.deepEqual(await logitsOf(rt, vlm), before);
  },
);

gpuTest("a checkpoint written by a run loads back with identical logits", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(13));
  const optimizer = new AdamW(rt, vlm.params, settings);
  const arena = new Arena(rt.pool);
  await optimizerStep(vlm, optimizer, arena, 1e-2, sftLoss(vlm, arena));
  const tokenizer = await Effect.runPromise(
    loadTokenizer(new URL("../../data/tokenizer/tiny/tokenizer.json", import.meta.url).pathname),
  );
  const root = await Deno.makeTempDir();
  const setup = {
    vlm,
    config: micro,
    tokenizer,
    preprocessor: PRESETS.tiny.preprocessor,
    generation: PRESETS.tiny.generation,
  };
  const dir = await Effect.runPromise(saveRunCheckpoint(root, setup, optimizer, {
    step: 1,
    seed: 13,
    rng: { algorithm: "test", state: "13" },
    dataOrder: { epoch: 0, position: 0 },
    learningRate: 1e-2,
  }));
  const loaded = await Effect.runPromise(modelFromCheckpoint(rt, dir));
  assert.deepEqual(await logitsOf(rt, loaded.vlm), await logitsOf(rt, vlm));
  await Deno.remove(root, { recursive: true });
});
