/**
 * Seeded initial weights for a Qwen2.5-VL config, as Hugging Face initialises the model:
 * Linear, Conv3d and Embedding weights ~ N(0, initializer_range), biases 0, RMSNorm weights 1.
 *
 * @module
 */
import { makeRng } from "../domain/random.ts";
import { type Qwen25VLConfig, qwen25vlTensorShapes } from "./config.ts";

const isNormWeight = (name: string) =>
  /(norm1|norm2|ln_q|input_layernorm|post_attention_layernorm|model\.norm)\.weight$/.test(name);

/**
 * Every tensor of the model, in `qwen25vlTensorShapes` order, drawn from one seed (each tensor from
 * its own stream, so adding a tensor does not change the others).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "./config.ts";
 * import { initialWeights } from "./init.ts";
 * const w = initialWeights(PRESETS.tiny.config, 1);
 * assert(w.get("model.norm.weight")![0] === 1);
 * ```
 */
export const initialWeights = (
  config: Qwen25VLConfig,
  seed: number,
): Map<string, Float32Array<ArrayBuffer>> => {
  const weights = new Map<string, Float32Array<ArrayBuffer>>();
  const std = config.initializer_range;
  let index = 0;
  for (const [name, shape] of qwen25vlTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (isNormWeight(name)) values.fill(1);
    else if (!name.endsWith(".bias")) {
      const rng = makeRng(seed).fork(index);
      for (let i = 0; i < n; i += 2) {
        // Box–Muller: two normals from two uniforms.
        const u = 1 - rng.next();
        const r = Math.sqrt(-2 * Math.log(u)) * std;
        const theta = 2 * Math.PI * rng.next();
        values[i] = r * Math.cos(theta);
        if (i + 1 < n) values[i + 1] = r * Math.sin(theta);
      }
    }
    weights.set(name, values);
    index++;
  }
  return weights;
};
