/**
 * A micro Qwen2.5-VL for tests: every part of the real architecture (window and full vision
 * blocks, merger, GQA decoder with M-RoPE), tiny dimensions, seeded weights and two prompts.
 *
 * @module
 */
import type { SequenceSample } from "../../src/nn/batch.ts";
import { PRESETS, type Qwen25VLConfig } from "../../src/nn/config.ts";
import { processImage, type RgbImage } from "../../src/nn/image_processor.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { makeRng } from "../../src/domain/random.ts";

/** A micro Qwen2.5-VL: every part of the real architecture, tiny dimensions. */
export const micro: Qwen25VLConfig = {
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

export const image = (seed: number): RgbImage => {
  const rng = makeRng(seed);
  return {
    width: 56,
    height: 56,
    data: Uint8Array.from({ length: 56 * 56 * 3 }, () => rng.int(0, 255)),
  };
};

/** Weights with every norm and bias moved off its initial value, so mistakes there show. */
export const weightsFor = (seed: number): Map<string, Float32Array<ArrayBuffer>> => {
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

export const samples = (): SequenceSample[] => {
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

export const toF64 = (w: ReadonlyMap<string, Float32Array>): Map<string, Float64Array> =>
  new Map([...w].map(([k, v]) => [k, Float64Array.from(v)]));
