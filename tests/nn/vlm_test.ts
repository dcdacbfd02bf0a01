import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { referenceForward, type WeightsF64 } from "../../src/nn/reference/qwen25vl_f64.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { makeRng } from "../../src/domain/random.ts";
import { centralDifference } from "../kernels/reference/central_difference.ts";
import { gpuTest } from "../gpu/harness.ts";
import { micro, samples, toF64, weightsFor } from "./micro.ts";

const run = async (rt: GpuRuntime, vlm: Vlm, dLogits?: Float32Array<ArrayBuffer>) => {
  const arena = new Arena(rt.pool);
  const host = packBatch(micro, samples(), 0);
  const rec = new CommandRecorder(rt);
  vlm.params.zeroGrads(rec);
  const batch = vlm.upload(arena, host);
  const { logits, saved } = vlm.forward(rec, arena, batch);
  rec.read(logits);
  if (dLogits) {
    const d = arena.alloc(logits.shape);
    rt.write(d, dLogits);
    vlm.backward(rec, arena, saved, d);
    vlm.params.read(rec, "grad");
  }
  rt.device.pushErrorScope("validation");
  const readback = rec.submit();
  const error = await rt.device.popErrorScope();
  if (error) throw new Error(error.message);
  const { arrays } = await readback.resolve();
  arena.reset();
  const grads = dLogits ? vlm.params.collect(arrays.slice(1)) : new Map<string, Float32Array>();
  return { host, logits: arrays[0] as Float32Array, grads };
};

gpuTest(
  "the GPU model's logits equal the float64 reference, images and padding included",
  async (rt) => {
    const weights = weightsFor(3);
    const vlm = new Vlm(rt, micro, weights);
    const { host, logits } = await run(rt, vlm);
    const ref = toF64(weights);
    const V = micro.vocab_size;
    samples().forEach((sample, b) => {
      const want = referenceForward(micro, ref, {
        inputIds: sample.tokens,
        image: { pixelValues: sample.image!.pixelValues, grid: sample.image!.grid },
      });
      const got = logits.subarray(
        b * host.length * V,
        (b * host.length + sample.tokens.length) * V,
      );
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      // f32 through 2 vision blocks, a merger and 2 decoder layers: a few 1e-6 of logits of size ~1.
      assert.ok(worst < 2e-4, `sequence ${b}: max |logit error| ${worst}`);
    });
  },
);

gpuTest(
  "the GPU model's gradients match finite differences of the float64 reference",
  async (rt) => {
    const weights = weightsFor(4);
    const vlm = new Vlm(rt, micro, weights);
    const V = micro.vocab_size;
    const host = packBatch(micro, samples(), 0);
    // Loss L = Σ over real rows of ⟨logits, R⟩ for a fixed random R: dL/dlogits = R.
    const rng = makeRng(9);
    const R = new Float32Array(host.batch * host.length * V);
    samples().forEach((sample, b) => {
      for (let t = 0; t < sample.tokens.length; t++) {
        for (let v = 0; v < V; v++) R[(b * host.length + t) * V + v] = rng.uniform(-1, 1);
      }
    });
    const { grads } = await run(rt, vlm, R);
    const ref = toF64(weights);
    const loss = (w: WeightsF64) => {
      let total = 0;
      samples().forEach((sample, b) => {
        const logits = referenceForward(micro, w, {
          inputIds: sample.tokens,
          image: { pixelValues: sample.image!.pixelValues, grid: sample.image!.grid },
        });
        for (let i = 0; i < logits.length; i++) total += logits[i]! * R[b * host.length * V + i]!;
      });
      return total;
    };
    const checked = [
      "visual.patch_embed.proj.weight",
      "visual.blocks.0.attn.qkv.weight",
      "visual.blocks.0.attn.qkv.bias",
      "visual.blocks.1.mlp.up_proj.bias",
      "visual.blocks.0.norm1.weight",
      "visual.merger.mlp.0.weight",
      "visual.merger.ln_q.weight",
      "model.embed_tokens.weight",
      "model.layers.0.self_attn.q_proj.weight",
      "model.layers.0.self_attn.k_proj.bias",
      "model.layers.1.self_attn.v_proj.weight",
      "model.layers.1.mlp.down_proj.weight",
      "model.layers.0.post_attention_layernorm.weight",
      "model.norm.weight",
    ];
    const failures: string[] = [];
    for (const name of checked) {
      const values = ref.get(name)!;
      const pick = makeRng(name.length);
      const indices = Array.from({ length: 4 }, () => pick.int(0, values.length - 1));
      if (name === "model.embed_tokens.weight") indices.push(10 * micro.hidden_size + 3); // a used token
      const fd = centralDifference((x) => loss(new Map(ref).set(name, x)), values, 1e-5, indices);
      const got = grads.get(name)!;
      indices.forEach((i, k) => {
        const want = fd[k]!;
        const err = Math.abs(got[i]! - want);
        if (!(err <= 2e-3 + 2e-3 * Math.abs(want))) {
          failures.push(`${name}[${i}]: GPU ${got[i]} vs FD ${want}`);
        }
      });
    }
    assert.deepEqual(failures, []);
  },
);
