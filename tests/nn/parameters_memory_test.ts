import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import { byteLength, type DType, type Tensor } from "../../src/gpu/tensor.ts";
import { parameterCount } from "../../src/nn/config.ts";
import { generate } from "../../src/nn/generate.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { gpuTest } from "../gpu/harness.ts";
import { micro, samples, weightsFor } from "./micro.ts";

/** Counts the bytes of long-lived tensors (weights, gradients) created on the device. */
class CountingRuntime extends GpuRuntime {
  created = 0;
  constructor(rt: GpuRuntime) {
    super(rt);
  }
  override createTensor(
    shape: ReadonlyArray<number>,
    dtype: DType = "f32",
    data?: ArrayBufferView<ArrayBuffer>,
  ): Tensor {
    this.created += byteLength({ shape, dtype });
    return super.createTensor(shape, dtype, data);
  }
}

gpuTest(
  "generation holds only the weights; gradients are allocated by the first training use",
  async (rt) => {
    const counting = new CountingRuntime(rt);
    const vlm = new Vlm(counting, micro, weightsFor(2));
    const weights = 4 * parameterCount(micro);
    assert.equal(counting.created, weights);
    const prompts = samples().map((s) => ({ ...s, tokens: s.tokens.slice(0, s.responseStart) }));
    await generate(vlm, prompts, {
      maxNewTokens: 3,
      temperature: 0,
      seed: 1,
      stopTokens: [],
      padId: 0,
    });
    assert.equal(counting.created, weights);
    const rec = new CommandRecorder(counting);
    vlm.params.zeroGrads(rec);
    vlm.params.read(rec, "grad");
    const { arrays } = await rec.submit().resolve();
    assert.equal(counting.created, 2 * weights);
    assert.ok(arrays.every((a) => Array.from(a).every((x) => x === 0)));
    // The same gradient tensor every time.
    const name = "model.norm.weight";
    assert.equal(vlm.params.grad(name), vlm.params.grad(name));
    new Arena(counting.pool).reset();
  },
);
