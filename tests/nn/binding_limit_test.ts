import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { generate } from "../../src/nn/generate.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { gpuTest } from "../gpu/harness.ts";
import { makeRng } from "../../src/domain/random.ts";
import { microHf, microHfWeights } from "./hf_fixture.ts";
import { projectTokenIds, type Qwen25VLConfig } from "../../src/nn/config.ts";
import { image } from "./micro.ts";
import { processImage } from "../../src/nn/image_processor.ts";

/** The same device with a storage-binding limit small enough that big tensors must be split. */
class SmallBindingRuntime extends GpuRuntime {
  constructor(rt: GpuRuntime, readonly limit: number) {
    super(rt);
  }
  override get maxBindingBytes(): number {
    return this.limit;
  }
}

/** A vocabulary big enough that the embedding, LM head and logits are the largest tensors. */
const config: Qwen25VLConfig = { ...microHf, vocab_size: 4096, ...projectTokenIds(4096) };

const sample = () => {
  const pads = Array(4).fill(config.image_token_id);
  const tokens = [10, config.vision_start_token_id, ...pads, config.vision_end_token_id, 11, 12];
  return { tokens, image: processImage(image(3)), responseStart: tokens.length };
};

/** Logits, and the gradients of the loss Σ logits ⊙ dLogits. */
const forwardBackward = async (vlm: Vlm, dLogits: Float32Array<ArrayBuffer>) => {
  const rt = vlm.runtime;
  const arena = new Arena(rt.pool);
  const rec = new CommandRecorder(rt);
  vlm.params.zeroGrads(rec);
  const batch = vlm.upload(arena, packBatch(vlm.config, [sample()], 0));
  const { logits, saved } = vlm.forward(rec, arena, batch);
  rec.read(logits);
  const d = arena.alloc(logits.shape);
  rt.write(d, dLogits);
  vlm.backward(rec, arena, saved, d);
  vlm.params.read(rec, "grad");
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  return { logits: arrays[0] as Float32Array, grads: vlm.params.collect(arrays.slice(1)) };
};

gpuTest(
  "embedding, LM head, their backward and generation work when tensors exceed the binding limit",
  async (rt) => {
    const weights = microHfWeights(config, 8);
    // Embedding / LM head [4096, 32] f32 = 512 KiB and logits [10, 4096] = 160 KiB go over a
    // 152 KiB limit; everything else (the patch-embedding weight is 147 KiB) fits.
    const small = new SmallBindingRuntime(rt, 152 * 1024);
    const options = { maxNewTokens: 5, temperature: 0, seed: 1, stopTokens: [], padId: 0 };
    const rng = makeRng(2);
    const dLogits = Float32Array.from(
      { length: sample().tokens.length * config.vocab_size },
      () => rng.uniform(-1, 1),
    );
    const want = await forwardBackward(new Vlm(rt, config, weights), dLogits);
    const smallVlm = new Vlm(small, config, weights);
    const got = await forwardBackward(smallVlm, dLogits);
    assert.deepEqual(got.logits, want.logits);
    for (const name of ["model.embed_tokens.weight", "visual.merger.mlp.2.weight"]) {
      const a = got.grads.get(name)!;
      const b = want.grads.get(name)!;
      // Split matmuls sum K in chunks (dNormed = dLogits·head has K = vocab): f32 rounding moves.
      const scale = b.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const worst = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
      assert.ok(worst <= 1e-5 * scale, `${name}: max |difference| ${worst} of ${scale}`);
    }
    const [expected] = await generate(new Vlm(rt, config, weights), [sample()], options);
    const [split] = await generate(smallVlm, [sample()], options);
    assert.deepEqual(split!.tokens, expected!.tokens);
  },
);
