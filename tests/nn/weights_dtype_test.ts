import assert from "node:assert/strict";
import { Effect } from "effect";
import { promptSample, sequenceLogits } from "../../src/cli/generate.ts";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { hostTensorFromF32, hostTensorToF32 } from "../../src/nn/checkpoint.ts";
import { parameterCount, type Qwen25VLConfig } from "../../src/nn/config.ts";
import { generate } from "../../src/nn/generate.ts";
import { processImage } from "../../src/nn/image_processor.ts";
import { inferenceWeightBytes } from "../../src/nn/memory.ts";
import { Parameters } from "../../src/nn/parameters.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { WeightsDtypeUnsupported } from "../../src/nn/weights_dtype.ts";
import { modelFromCheckpoint, processorSettings } from "../../src/stages/model_setup.ts";
import { gpuTest } from "../gpu/harness.ts";
import { microHf, microHfWeights, microPreprocessor, writeHfCheckpoint } from "./hf_fixture.ts";
import { image, micro, samples, weightsFor } from "./micro.ts";

const QUESTION = "where is the red cube";
const processed = processImage(image(1), processorSettings(microPreprocessor));

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
};

const cases = [
  { stored: "BF16", gpu: "bf16", config: microHf },
  // An untied LM head is a second 16-bit matrix (its own NT matmul) beside the embedding.
  { stored: "F16", gpu: "f16", config: { ...microHf, tie_word_embeddings: false } },
] as const satisfies ReadonlyArray<{ stored: string; gpu: string; config: Qwen25VLConfig }>;

for (const { stored, gpu, config } of cases) {
  gpuTest(
    `a ${stored} checkpoint with ${gpu} weights on the GPU gives the logits and greedy tokens ` +
      "of its f32-widened load",
    async (rt) => {
      const dir = await Deno.makeTempDir();
      await writeHfCheckpoint(dir, config, microHfWeights(config, 40), {
        dtype: stored,
        shards: 1,
        names: "published",
      });
      const packed = await Effect.runPromise(
        modelFromCheckpoint(rt, dir, { weightsDtype: gpu }),
      );
      const wide = await Effect.runPromise(modelFromCheckpoint(rt, dir));
      assert.equal(packed.vlm.params.weightsDtype, gpu);
      assert.equal(wide.vlm.params.weightsDtype, "f32");
      assert.equal(packed.vlm.params.value("model.embed_tokens.weight").dtype, gpu);
      assert.equal(packed.vlm.params.value("model.norm.weight").dtype, "f32");

      // Both hold the same rounded values; only how the kernels read them differs.
      const sample = promptSample(packed.tokenizer, QUESTION, processed);
      const padId = packed.generation.pad_token_id;
      const logits = await sequenceLogits(packed.vlm, sample, padId);
      const reference = await sequenceLogits(wide.vlm, sample, padId);
      const worst = maxAbsDiff(logits, reference);
      assert.ok(worst <= 1e-5, `max |logit difference| ${worst}`);

      const options = { maxNewTokens: 6, temperature: 0, seed: 0, stopTokens: [], padId };
      const [a] = await generate(packed.vlm, [sample], options);
      const [b] = await generate(wide.vlm, [sample], options);
      assert.deepEqual(a!.tokens, b!.tokens);
      assert.equal(a!.tokens.length, 6);
      await Deno.remove(dir, { recursive: true });
    },
  );
}

gpuTest(
  '"auto" storage (generate and eval) keeps BF16 weights bf16; no option loads f32',
  async (rt) => {
    const dir = await Deno.makeTempDir();
    await writeHfCheckpoint(dir, microHf, microHfWeights(microHf, 41), {
      dtype: "BF16",
      shards: 1,
      names: "published",
    });
    const auto = await Effect.runPromise(modelFromCheckpoint(rt, dir, { weightsDtype: "auto" }));
    assert.equal(auto.vlm.params.weightsDtype, "bf16");
    // Training code paths load without options: f32 master weights.
    const training = await Effect.runPromise(modelFromCheckpoint(rt, dir));
    assert.equal(training.vlm.params.weightsDtype, "f32");
    await Deno.remove(dir, { recursive: true });
  },
);

gpuTest("16-bit weights take half the GPU memory of f32 (measured buffer bytes)", (rt) => {
  const weights = weightsFor(3);
  const f32 = new Vlm(rt, micro, weights);
  const bf16 = new Vlm(rt, micro, weights, { weightsDtype: "bf16" });
  const f16 = new Vlm(rt, micro, weights, { weightsDtype: "f16" });
  assert.equal(f32.params.valueBytes, 4 * parameterCount(micro));
  assert.equal(bf16.params.valueBytes, inferenceWeightBytes(micro, "bf16"));
  assert.equal(f16.params.valueBytes, bf16.params.valueBytes);
  // Norm weights and biases stay f32; everything else (≥ 97% of the micro model) halves.
  const ratio = bf16.params.valueBytes / f32.params.valueBytes;
  assert.ok(ratio > 0.5 && ratio < 0.52, `bf16/f32 weight bytes ${ratio}`);
  for (const vlm of [f32, bf16, f16]) vlm.params.all().forEach((p) => p.value.buffer.destroy());
  return Promise.resolve();
});

gpuTest("16-bit weights read back widened, equal to the rounded values", async (rt) => {
  const weights = weightsFor(4);
  for (const dtype of ["bf16", "f16"] as const) {
    const vlm = new Vlm(rt, micro, weights, { weightsDtype: dtype });
    const rec = new CommandRecorder(rt);
    vlm.params.read(rec);
    const back = vlm.params.collect((await rec.submit().resolve()).arrays);
    const file = dtype === "bf16" ? "BF16" : "F16";
    for (const [name, values] of weights) {
      const shape = vlm.params.value(name).shape;
      const want = shape.length >= 2
        ? hostTensorToF32(hostTensorFromF32(shape, values, file))
        : values;
      assert.deepEqual(back.get(name), want, `${dtype} ${name}`);
    }
    vlm.params.all().forEach((p) => p.value.buffer.destroy());
  }
});

gpuTest("an odd inner dimension is refused with WeightsDtypeUnsupported, f32 takes it", (rt) => {
  const shapes = new Map([["w", [3, 5]], ["b", [3]]]);
  const values = new Map([["w", new Float32Array(15)], ["b", new Float32Array(3)]]);
  assert.throws(
    () => new Parameters(rt, shapes, values, { weightsDtype: "bf16" }),
    (e: unknown) => e instanceof WeightsDtypeUnsupported && e.tensor === "w",
  );
  const f32 = new Parameters(rt, shapes, values);
  assert.equal(f32.value("w").dtype, "f32");
  return Promise.resolve();
});

gpuTest("training a model with 16-bit weights fails with a typed error, not garbage", (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(5), { weightsDtype: "bf16" });
  const arena = new Arena(rt.pool);
  const rec = new CommandRecorder(rt);
  const batch = vlm.upload(arena, packBatch(micro, samples(), 0));
  const { logits, saved } = vlm.forward(rec, arena, batch);
  // The backward's dx = dy·W is an NN matmul: 16-bit B is NT-only.
  assert.throws(() => vlm.backward(rec, arena, saved, logits), ShapeMismatch);
  arena.reset();
  vlm.params.all().forEach((p) => p.value.buffer.destroy());
  return Promise.resolve();
});
