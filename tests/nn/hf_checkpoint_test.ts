import assert from "node:assert/strict";
import { Effect } from "effect";
import { answer, promptSample, sequenceLogits } from "../../src/cli/generate.ts";
import { hostTensorFromF32, hostTensorToF32 } from "../../src/nn/checkpoint.ts";
import { encodeQwen25VLConfig, type Qwen25VLConfig } from "../../src/nn/config.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { processImage } from "../../src/nn/image_processor.ts";
import { referenceForward } from "../../src/nn/reference/qwen25vl_f64.ts";
import { readSafetensorsHeader, readSafetensorsTensors } from "../../src/nn/safetensors.ts";
import { modelFromCheckpoint, processorSettings } from "../../src/stages/model_setup.ts";
import { gpuTest } from "../gpu/harness.ts";
import {
  type HfLayout,
  microHf,
  microHfWeights,
  microPreprocessor,
  writeHfCheckpoint,
} from "./hf_fixture.ts";
import { image } from "./micro.ts";

const QUESTION = "where is the red cube";

const variants: ReadonlyArray<{ label: string; config: Qwen25VLConfig; layout: HfLayout }> = [
  {
    label: "F32, one file, published names, tied head",
    config: microHf,
    layout: { dtype: "F32", shards: 1, names: "published" },
  },
  {
    label: "F16, three shards, transformers 5 names, tied head",
    config: microHf,
    layout: { dtype: "F16", shards: 3, names: "transformers5" },
  },
  {
    label: "BF16, two shards, published names, untied head",
    config: { ...microHf, tie_word_embeddings: false },
    layout: { dtype: "BF16", shards: 2, names: "published" },
  },
  {
    label: "BF16, one file, transformers 5 names, untied head",
    config: { ...microHf, tie_word_embeddings: false },
    layout: { dtype: "BF16", shards: 1, names: "transformers5" },
  },
];

const processed = processImage(image(1), processorSettings(microPreprocessor));

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

const argmaxOfRow = (values: Float32Array, row: number, width: number) => {
  let best = 0;
  for (let v = 1; v < width; v++) {
    if (values[row * width + v]! > values[row * width + best]!) best = v;
  }
  return best;
};

for (const [index, { label, config, layout }] of variants.entries()) {
  gpuTest(
    `an upstream-layout checkpoint (${label}) loads and matches the float64 reference`,
    async (rt) => {
      const dir = await Deno.makeTempDir();
      const weights = microHfWeights(config, 20 + index);
      await writeHfCheckpoint(dir, config, weights, layout);
      const setup = await Effect.runPromise(modelFromCheckpoint(rt, dir));
      assert.equal(
        setup.config.torch_dtype,
        { F32: "float32", F16: "float16", BF16: "bfloat16" }[layout.dtype],
      );
      assert.deepEqual({ ...setup.config, torch_dtype: config.torch_dtype }, config);
      const sample = promptSample(setup.tokenizer, QUESTION, processed);
      assert.equal(
        sample.tokens.filter((t) => t === config.image_token_id).length,
        processed.imageTokens,
      );
      const logits = await sequenceLogits(setup.vlm, sample, setup.generation.pad_token_id);
      // The reference gets the weights as stored: rounded to the file's dtype, widened to f64.
      const stored = new Map(
        [...weights].map(([name, values]) => [
          name,
          Float64Array.from(
            hostTensorToF32(hostTensorFromF32([values.length], values, layout.dtype)),
          ),
        ]),
      );
      const want = referenceForward(config, stored, {
        inputIds: sample.tokens,
        image: { pixelValues: processed.pixelValues, grid: processed.grid },
      });
      const worst = maxAbsDiff(logits, want);
      // f32 through 2 vision blocks, the merger and 2 decoder layers; logits are of size ~1.
      assert.ok(worst < 2e-4, `max |logit error| ${worst}`);
      await Deno.remove(dir, { recursive: true });
    },
  );
}

gpuTest(
  "a loaded checkpoint streams a greedy answer equal to full forwards and dumps its prompt logits",
  async (rt) => {
    const dir = await Deno.makeTempDir();
    await writeHfCheckpoint(dir, microHf, microHfWeights(microHf, 31), {
      dtype: "BF16",
      shards: 2,
      names: "published",
    });
    const setup = await Effect.runPromise(modelFromCheckpoint(rt, dir));
    const dump = `${dir}/prompt_logits.safetensors`;
    const pieces: string[] = [];
    const result = await Effect.runPromise(answer(
      setup,
      {
        model: dir,
        prompt: QUESTION,
        maxNewTokens: 6,
        temperature: 0,
        topP: 1,
        seed: 0,
        dumpLogits: dump,
      },
      processed,
      (text) => pieces.push(text),
    ));
    assert.equal(pieces.join(""), result.text);
    assert.ok(result.tokens.length >= 1);

    const sample = promptSample(setup.tokenizer, QUESTION, processed);
    const V = microHf.vocab_size;
    const header = await Effect.runPromise(readSafetensorsHeader(dump));
    const read = await Effect.runPromise(
      readSafetensorsTensors(dump, header, header.tensors.map((t) => t.name)),
    );
    const ids = read.get("input_ids")!;
    assert.equal(ids.dtype, "I64");
    assert.deepEqual(
      Array.from(new BigInt64Array(ids.data.slice().buffer), Number),
      sample.tokens,
    );
    const dumped = read.get("logits")!;
    assert.deepEqual(dumped.shape, [sample.tokens.length, V]);
    const dumpedLogits = hostTensorToF32(dumped);
    assert.deepEqual(read.get("image_grid_thw")!.shape, [1, 3]);
    assert.equal(
      maxAbsDiff(hostTensorToF32(read.get("pixel_values")!), processed.pixelValues),
      0,
    );

    // Teacher-forced full forwards over prompt + the first s generated tokens pick token s.
    let context = sample.tokens;
    let logits: Float32Array = dumpedLogits;
    for (const [s, token] of result.tokens.entries()) {
      assert.equal(token, argmaxOfRow(logits, context.length - 1, V), `step ${s}`);
      context = [...context, token];
      logits = await sequenceLogits(
        setup.vlm,
        { ...sample, tokens: context, responseStart: context.length },
        setup.generation.pad_token_id,
      );
    }
    assert.ok(maxAbsDiff(logits.subarray(0, dumpedLogits.length), dumpedLogits) < 1e-5);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("a folder that does not match its config names the tensor and its expected shape before any GPU work", async () => {
  const dir = await Deno.makeTempDir();
  const wider = { ...microHf, intermediate_size: 56 };
  await writeHfCheckpoint(dir, wider, microHfWeights(wider, 1), {
    dtype: "BF16",
    shards: 2,
    names: "published",
  });
  // config.json says 48; the weights were written for 56.
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(encodeQwen25VLConfig(microHf)));
  // No runtime at all: any GPU work would crash instead of failing with the typed error.
  const noGpu = undefined as unknown as GpuRuntime;
  const error = await Effect.runPromise(Effect.flip(modelFromCheckpoint(noGpu, dir)));
  if (error._tag !== "CheckpointMismatch") {
    assert.fail(`expected CheckpointMismatch: ${error.message}`);
  }
  assert.equal(error.tensor, "model.layers.0.mlp.gate_proj.weight");
  assert.equal(error.expected, "BF16[48, 32]");
  assert.equal(error.found, "BF16[56, 32]");
  await Deno.remove(dir, { recursive: true });
});
