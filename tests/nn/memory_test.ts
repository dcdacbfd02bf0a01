import assert from "node:assert/strict";
import { parameterCount, PRESETS } from "../../src/nn/config.ts";
import {
  activationBytes,
  grpoBytes,
  kvCacheBytes,
  PRECISIONS,
  trainingStepBytes,
  weightBytes,
} from "../../src/nn/memory.ts";

const qwen3b = PRESETS["qwen2.5-vl-3b"].config;
const qwen7b = PRESETS["qwen2.5-vl-7b"].config;
const paper = {
  rollouts: 8,
  promptTokens: 400,
  maxNewTokens: 2048,
  microBatch: 4,
  imagePatches: 1296,
};

Deno.test("weightBytes is the parameter count times the bytes per value", () => {
  assert.equal(weightBytes(qwen3b, 4), 4 * parameterCount(qwen3b));
  assert.equal(weightBytes(qwen7b, 2), 2 * parameterCount(qwen7b));
});

Deno.test("kvCacheBytes counts K and V of every layer and KV head", () => {
  // 7B: 28 layers, 4 KV heads of 128 dims.
  assert.equal(kvCacheBytes(qwen7b, 2048, 1, 2), 2 * 28 * 4 * 128 * 2048 * 2);
  assert.equal(kvCacheBytes(qwen3b, 2048, 8, 4), 8 * kvCacheBytes(qwen3b, 2048, 1, 4));
});

Deno.test("activations grow linearly with tokens and halve from f32 to bf16", () => {
  const shape = { sequences: 2, tokens: 1000, imagePatches: 0 };
  const one = activationBytes(qwen3b, shape, 4);
  const two = activationBytes(qwen3b, { ...shape, tokens: 2000 }, 4);
  assert.equal(two.total, 2 * one.total);
  assert.equal(activationBytes(qwen3b, shape, 2).total * 2, one.total);
  assert.equal(
    one.total,
    one.decoderCheckpoints + one.decoderLayer + one.vision + one.logits,
  );
});

Deno.test("an image adds vision activations and nothing else", () => {
  const text = activationBytes(qwen3b, { sequences: 1, tokens: 500, imagePatches: 0 }, 4);
  const image = activationBytes(qwen3b, { sequences: 1, tokens: 500, imagePatches: 1296 }, 4);
  assert.ok(image.vision > 0);
  assert.equal(image.total - text.total, image.vision);
});

Deno.test("a training step holds weights, gradients and two moments", () => {
  const step = trainingStepBytes(
    qwen3b,
    { sequences: 4, tokens: 2448, imagePatches: 1296 },
    PRECISIONS.f32,
  );
  const params = parameterCount(qwen3b);
  assert.equal(step.weights, 4 * params);
  assert.equal(step.gradients, 4 * params);
  assert.equal(step.moments, 8 * params);
  assert.equal(step.total, 16 * params + step.activations.total);
});

Deno.test("GRPO on 3B needs more than 80 GB in f32 and fits in bf16", () => {
  const f32 = grpoBytes(qwen3b, paper, PRECISIONS.f32);
  const bf16 = grpoBytes(qwen3b, paper, PRECISIONS.bf16);
  assert.ok(f32.peak > 80e9, `f32 peak ${f32.peak}`);
  assert.ok(bf16.peak < 80e9, `bf16 peak ${bf16.peak}`);
  assert.equal(
    f32.peak,
    f32.policyWeights + f32.referenceWeights + f32.gradients + f32.moments +
      Math.max(f32.rolloutKvCache, f32.updateActivations),
  );
});
