import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { packBatch, type SequenceSample } from "../../src/nn/batch.ts";
import { PRESETS, type Qwen25VLConfig } from "../../src/nn/config.ts";
import { processImage, type RgbImage } from "../../src/nn/image_processor.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { referenceForward, type WeightsF64 } from "../../src/nn/reference/qwen25vl_f64.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { makeRng } from "../../src/scene/random.ts";
import { centralDifference } from "../kernels/reference/central_difference.ts";
import { gpuTest } from "../gpu/harness.ts";

/** A micro Qwen2.5-VL: every part of the real architecture, tiny dimensions. */
const micro: Qwen25VLConfig = {
  ...PRESETS.tiny.config,
  vocab_size: 64,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  rope_scaling: { type: "mrope", mrope_section: [2, 3, 3] },
  bos_token_id: 1,
  eos_token_id: 2,
  vision_start_token_id: 3,
  vision_end_token_id: 4,
  vision_token_id: 5,
  image_token_id: 6,
  video_token_id: 7,
  vision_config: {
    ...PRESETS.tiny.config.vision_config,
    depth: 2,
    hidden_size: 32,
    intermediate_size: 40,
    num_heads: 2,
    out_hidden_size: 32,
    window_size: 28, // 56×56 image → 2×2 merged tokens, one per window: 4 windows
    fullatt_block_indexes: [1],
  },
};

const image = (seed: number): RgbImage => {
  const rng = makeRng(seed);
  return {
    width: 56,
    height: 56,
    data: Uint8Array.from({ length: 56 * 56 * 3 }, () => rng.int(0, 255)),
  };
};

/** Weights with every norm and bias moved off its initial value, so mistakes there show. */
const weightsFor = (seed: number): Map<string, Float32Array<ArrayBuffer>> => {
  const rng = makeRng(seed + 1);
  const out = new Map<string, Float32Array<ArrayBuffer>>();
  for (const [name, values] of initialWeights(micro, seed)) {
    const scaled = Float32Array.from(values, (x) => x * 3); // std 0.06: non-trivial attention
    if (name.endsWith(".bias") || /norm|ln_q/.test(name)) {
      for (let i = 0; i < scaled.length; i++) scaled[i] = scaled[i]! + rng.uniform(-0.2, 0.2);
    }
    out.set(name, scaled);
  }
  return out;
};

const samples = (): SequenceSample[] => {
  const pads = Array(4).fill(micro.image_token_id);
  return [
    {
      tokens: [10, 3, ...pads, 4, 11, 12, 13, 14],
      image: processImage(image(1)),
      responseStart: 8,
    },
    { tokens: [20, 3, ...pads, 4, 21, 22], image: processImage(image(2)), responseStart: 7 },
  ];
};

const toF64 = (w: ReadonlyMap<string, Float32Array>): Map<string, Float64Array> =>
  new Map([...w].map(([k, v]) => [k, Float64Array.from(v)]));

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
