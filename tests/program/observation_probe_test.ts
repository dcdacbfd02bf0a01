import assert from "node:assert/strict";
import { Effect } from "effect";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { AdamW } from "../../src/nn/optimizer.ts";
import { recordSftLoss } from "../../src/nn/sft_loss.ts";
import { optimizerStep } from "../../src/nn/train_step.ts";
import { observationAccuracy, observationTokens } from "../../src/program/observation_probe.ts";
import { sftSample } from "../../src/stages/examples.ts";
import { modelFromPreset } from "../../src/stages/model_setup.ts";
import { gpuTest } from "../gpu/harness.ts";
import { noiseImageExample } from "../stages/model_fixtures.ts";

gpuTest(
  "observationAccuracy rises to 1 on the object names of a sample the model has memorised",
  async (rt) => {
    const setup = await Effect.runPromise(modelFromPreset(rt, "tiny", 4));
    const example = noiseImageExample(setup);
    const arena = new Arena(rt.pool);
    const before = await observationAccuracy(setup, arena, [example]);
    const sample = sftSample(example, setup.tokenizer, setup.generation.eos_token_id[0]!, {
      relations: "cited",
    });
    const response = sample.tokens.slice(sample.responseStart);
    const expected = observationTokens(response.map((id) => setup.tokenizer.decode([id])));
    assert.equal(before.tokens, expected.all.length);
    assert.equal(before.nameTokens, expected.names.length);
    assert.ok(before.nameAccuracy < 1, `untrained: ${before.nameAccuracy}`);

    const optimizer = new AdamW(rt, setup.vlm.params, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    });
    const batch = packBatch(setup.config, [sample], setup.generation.pad_token_id);
    for (let step = 0; step < 60; step++) {
      await optimizerStep(setup.vlm, optimizer, arena, 3e-3, (rec) => [
        recordSftLoss(rec, arena, setup.vlm, batch),
      ]);
    }
    const after = await observationAccuracy(setup, arena, [example]);
    assert.equal(after.nameAccuracy, 1);
    assert.equal(after.accuracy, 1);
  },
);
