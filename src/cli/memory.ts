/**
 * `deno task memory`: the GPU memory table of the published Qwen2.5-VL 3B and 7B dimensions —
 * parameters, weights per dtype, KV cache, a training step with recomputation, and GRPO at the
 * paper's settings — and whether each fits one 80 GB GPU. Pure arithmetic (src/nn/memory.ts).
 *
 * ```
 * deno task memory
 * deno task memory --prompt-tokens 600 --image-patches 4096
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parameterCount, PRESETS } from "../nn/config.ts";
import {
  grpoBytes,
  type GrpoShape,
  inferenceWeightBytes,
  kvCacheBytes,
  PRECISIONS,
  trainingStepBytes,
  weightBytes,
} from "../nn/memory.ts";

/** One 80 GB GPU (H100/A100 80GB), in bytes. */
export const GPU_80GB = 80e9;

const gb = (bytes: number) =>
  bytes < 1e9 ? `${(bytes / 1e6).toFixed(0)} MB` : `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * The report as text lines, for the 3B and 7B presets under `shape`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryReport } from "./memory.ts";
 * const lines = memoryReport({ rollouts: 8, promptTokens: 400, maxNewTokens: 2048, microBatch: 4, imagePatches: 1296 });
 * assert(lines.some((line) => line.includes("qwen2.5-vl-3b")));
 * ```
 */
export const memoryReport = (shape: GrpoShape): string[] => {
  const tokens = shape.promptTokens + shape.maxNewTokens;
  const lines = [
    `GRPO shape: ${shape.rollouts} rollouts × (${shape.promptTokens} prompt + ${shape.maxNewTokens} new tokens), ` +
    `update micro-batch ${shape.microBatch}, ${shape.imagePatches} image patches per prompt`,
    "",
  ];
  for (const name of ["qwen2.5-vl-3b", "qwen2.5-vl-7b"] as const) {
    const config = PRESETS[name].config;
    lines.push(`${name}: ${(parameterCount(config) / 1e9).toFixed(3)} B parameters`);
    lines.push(
      `  weights             f32 ${gb(weightBytes(config, 4))}   bf16/f16 ${
        gb(weightBytes(config, 2))
      }`,
    );
    lines.push(
      `  KV cache 2,048 tok  f32 ${gb(kvCacheBytes(config, 2048, 1, 4))}   bf16 ${
        gb(kvCacheBytes(config, 2048, 1, 2))
      }  (per sequence)`,
    );
    // What generate/eval hold on the GPU: the weights as stored (--weights-dtype; a 16-bit
    // checkpoint stays 16-bit by default) and this project's f32 KV cache of one sequence.
    const kv = kvCacheBytes(config, tokens, 1, 4);
    for (const dtype of ["f32", "bf16"] as const) {
      const weights = inferenceWeightBytes(config, dtype);
      lines.push(
        `  inference ${dtype.padEnd(4)}      ${gb(weights + kv)} = weights ${gb(weights)}${
          dtype === "f32" ? "" : " (bf16/f16 matrices, f32 norms and biases)"
        } + KV cache f32 ${gb(kv)} (1 × ${tokens} tokens)`,
      );
    }
    for (const precision of ["f32", "bf16"] as const) {
      const step = trainingStepBytes(
        config,
        { sequences: shape.microBatch, tokens, imagePatches: shape.imagePatches },
        PRECISIONS[precision],
      );
      const a = step.activations;
      lines.push(
        `  train step ${precision.padEnd(4)}    ${gb(step.total)} = weights ${
          gb(step.weights)
        } + ` +
          `grads ${gb(step.gradients)} + AdamW ${gb(step.moments)} + activations ${
            gb(a.total)
          } (layer inputs ${gb(a.decoderCheckpoints)}, one layer ${gb(a.decoderLayer)}, ` +
          `vision ${gb(a.vision)}, logits+grad ${gb(a.logits)})`,
      );
      const g = grpoBytes(config, shape, PRECISIONS[precision]);
      lines.push(
        `  GRPO ${precision.padEnd(4)}          peak ${gb(g.peak)} = policy ${
          gb(g.policyWeights)
        } + ` +
          `reference ${gb(g.referenceWeights)} + grads ${gb(g.gradients)} + AdamW ${
            gb(g.moments)
          } + max(rollout KV ${gb(g.rolloutKvCache)}, update activations ${
            gb(g.updateActivations)
          }) → ${g.peak <= GPU_80GB ? "fits" : "does not fit"} one 80 GB GPU`,
      );
    }
    lines.push("");
  }
  return lines;
};

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rollouts: { type: "string", default: "8" },
      "prompt-tokens": { type: "string", default: "400" },
      "max-new-tokens": { type: "string", default: "2048" },
      "micro-batch": { type: "string", default: "4" },
      "image-patches": { type: "string", default: "1296" },
    },
    strict: true,
  });
  const shape: GrpoShape = {
    rollouts: Number(values.rollouts),
    promptTokens: Number(values["prompt-tokens"]),
    maxNewTokens: Number(values["max-new-tokens"]),
    microBatch: Number(values["micro-batch"]),
    imagePatches: Number(values["image-patches"]),
  };
  const bad = Object.entries(shape).find(([, v]) => !Number.isInteger(v) || v < 0);
  if (bad !== undefined) {
    console.error(`memory: ${bad[0]} must be a non-negative integer, got ${bad[1]}`);
    Deno.exit(1);
  }
  console.log(memoryReport(shape).join("\n"));
}
