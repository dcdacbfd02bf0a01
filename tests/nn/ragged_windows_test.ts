import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { packBatch, type SequenceSample } from "../../src/nn/batch.ts";
import type { Qwen25VLConfig } from "../../src/nn/config.ts";
import { processImage } from "../../src/nn/image_processor.ts";
import { windowIndex } from "../../src/nn/positions.ts";
import { referenceForward, type WeightsF64 } from "../../src/nn/reference/qwen25vl_f64.ts";
import { raggedWindows, visionInputs } from "../../src/nn/vision_inputs.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { makeRng } from "../../src/domain/random.ts";
import { gpuTest } from "../gpu/harness.ts";
import { centralDifference } from "../kernels/reference/central_difference.ts";
import { microHfWeights } from "./hf_fixture.ts";
import { micro, toF64 } from "./micro.ts";

/** Windows of 2×2 merged tokens; block 0 windowed, block 1 full. */
const config: Qwen25VLConfig = {
  ...micro,
  vision_config: { ...micro.vision_config, window_size: 56 },
};

/** 84×56 px → 6×4 patches → a 3×2 merged grid: one window of 2×2 tokens, one of 1×2. */
const wideImage = (seed: number) => {
  const rng = makeRng(seed);
  return processImage({
    width: 56,
    height: 84,
    data: Uint8Array.from({ length: 84 * 56 * 3 }, () => rng.int(0, 255)),
  });
};

const samples = (): SequenceSample[] => {
  const pads = Array(6).fill(config.image_token_id);
  return [
    { tokens: [10, 3, ...pads, 4, 11, 12, 13], image: wideImage(1), responseStart: 9 },
    { tokens: [20, 3, ...pads, 4, 21], image: wideImage(2), responseStart: 9 },
  ];
};

Deno.test("raggedWindows pads each window to the longest and is absent for equal windows", () => {
  assert.equal(raggedWindows(Int32Array.from([0, 8, 16]), 2), undefined);
  const r = raggedWindows(Int32Array.from([0, 4, 6]), 2)!;
  assert.equal(r.longest, 4);
  assert.deepEqual(Array.from(r.keyLengths), [4, 2, 4, 2]);
  assert.deepEqual(Array.from(r.paddedRows), [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
});

Deno.test("a 3×2 merged grid gives windows of 16 and 8 patches whose permutation round-trips", () => {
  const image = wideImage(1);
  assert.deepEqual(image.grid, [1, 6, 4]);
  const w = windowIndex(image.grid, 56, 2, 14);
  assert.deepEqual(Array.from(w.cuWindowSeqlens), [0, 16, 24]);
  assert.deepEqual(Array.from(w.order), [0, 1, 2, 3, 4, 5]);
  w.order.forEach((token, j) => assert.equal(w.inverse[token], j));
  const inputs = visionInputs(config, [image, wideImage(2)]);
  assert.equal(inputs.windows, 2);
  assert.equal(inputs.ragged?.longest, 16);
  // Every real row lands on its own padded row, inside its window's first keyLengths rows.
  const rows = inputs.ragged!.paddedRows;
  assert.equal(new Set(rows).size, rows.length);
  rows.forEach((row) => {
    const window = Math.floor(row / 16);
    assert.ok(row % 16 < inputs.ragged!.keyLengths[window]!, `row ${row}`);
  });
});

gpuTest(
  "ragged window attention matches the float64 reference, logits and gradients",
  async (rt) => {
    const weights = microHfWeights(config, 41);
    const vlm = new Vlm(rt, config, weights);
    const host = packBatch(config, samples(), 0);
    const V = config.vocab_size;
    const rng = makeRng(5);
    // Loss L = Σ over real rows of ⟨logits, R⟩ for a fixed random R: dL/dlogits = R.
    const R = new Float32Array(host.batch * host.length * V);
    samples().forEach((sample, b) => {
      for (let t = 0; t < sample.tokens.length; t++) {
        for (let v = 0; v < V; v++) R[(b * host.length + t) * V + v] = rng.uniform(-1, 1);
      }
    });
    const arena = new Arena(rt.pool);
    const rec = new CommandRecorder(rt);
    vlm.params.zeroGrads(rec);
    const { logits, saved } = vlm.forward(rec, arena, vlm.upload(arena, host));
    rec.read(logits);
    const dLogits = arena.alloc(logits.shape);
    rt.write(dLogits, R);
    vlm.backward(rec, arena, saved, dLogits);
    vlm.params.read(rec, "grad");
    const { arrays } = await rec.submit().resolve();
    arena.reset();
    const got = arrays[0] as Float32Array;
    const grads = vlm.params.collect(arrays.slice(1));

    const ref = toF64(weights);
    const refLogits = (w: WeightsF64) =>
      samples().map((sample) =>
        referenceForward(config, w, {
          inputIds: sample.tokens,
          image: { pixelValues: sample.image!.pixelValues, grid: sample.image!.grid },
        })
      );
    refLogits(ref).forEach((want, b) => {
      let worst = 0;
      want.forEach((x, i) => {
        worst = Math.max(worst, Math.abs(got[b * host.length * V + i]! - x));
      });
      assert.ok(worst < 2e-4, `sequence ${b}: max |logit error| ${worst}`);
    });

    const loss = (w: WeightsF64) =>
      refLogits(w).reduce(
        (total, logitsB, b) =>
          logitsB.reduce((acc, x, i) => acc + x * R[b * host.length * V + i]!, total),
        0,
      );
    const failures: string[] = [];
    for (
      const name of [
        "visual.patch_embed.proj.weight",
        "visual.blocks.0.attn.qkv.weight",
        "visual.blocks.0.attn.qkv.bias",
        "visual.blocks.0.norm1.weight",
        "visual.blocks.1.attn.qkv.weight",
      ]
    ) {
      const values = ref.get(name)!;
      const pick = makeRng(name.length);
      const indices = Array.from({ length: 4 }, () => pick.int(0, values.length - 1));
      const fd = centralDifference((x) => loss(new Map(ref).set(name, x)), values, 1e-5, indices);
      indices.forEach((i, k) => {
        const err = Math.abs(grads.get(name)![i]! - fd[k]!);
        if (!(err <= 2e-3 + 2e-3 * Math.abs(fd[k]!))) {
          failures.push(`${name}[${i}]: GPU ${grads.get(name)![i]} vs FD ${fd[k]}`);
        }
      });
    }
    assert.deepEqual(failures, []);
  },
);
