/**
 * A memory model of Qwen2.5-VL on one GPU: bytes of the weights, the KV cache of generation, a
 * training step (gradients, AdamW moments, activations with per-layer recomputation) and the
 * whole GRPO loop (policy, frozen reference, optimizer, rollout KV cache). Pure arithmetic over a
 * config, so the numbers can be printed for any model before any GPU work.
 *
 * Activations follow this project's passes (src/nn/decoder.ts, src/nn/vision.ts, src/nn/vlm.ts):
 * with recomputation only each layer's input is kept during the forward; the backward re-runs one
 * layer at a time, so one layer's forward activations and backward temporaries are live at once.
 * The LM head materialises full logits and their gradient, [B·T, vocab] each.
 *
 * @module
 */
import { parameterCount, type Qwen25VLConfig, qwen25vlTensorShapes } from "./config.ts";
import { tensorDtype, type WeightsDtype } from "./weights_dtype.ts";

/** Bytes per element of each kind of tensor. */
export interface Precision {
  readonly weights: number;
  readonly gradients: number;
  /** Per AdamW moment (there are two). */
  readonly moments: number;
  readonly activations: number;
  readonly kvCache: number;
}

/**
 * Named precisions: "f32" is this project's WebGPU path (every tensor f32); "bf16" is the
 * paper's recipe (bf16 parameters and gradients, AnyPrecisionAdamW with bf16 moments, bf16
 * activations and KV cache).
 */
export const PRECISIONS: Readonly<Record<"f32" | "bf16", Precision>> = {
  f32: { weights: 4, gradients: 4, moments: 4, activations: 4, kvCache: 4 },
  bf16: { weights: 2, gradients: 2, moments: 2, activations: 2, kvCache: 2 },
};

/**
 * Bytes of all weights at `bytesPerValue` (4 = F32, 2 = F16/BF16); tied embeddings count once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightBytes } from "./memory.ts";
 * import { parameterCount, PRESETS } from "./config.ts";
 * const c = PRESETS["qwen2.5-vl-3b"].config;
 * assert(weightBytes(c, 2) === 2 * parameterCount(c));
 * ```
 */
export const weightBytes = (config: Qwen25VLConfig, bytesPerValue: number): number =>
  parameterCount(config) * bytesPerValue;

/**
 * GPU bytes of an inference model's weights as this project stores them (`Parameters` with
 * `weightsDtype`): 16-bit storage halves every matrix (linear weights, patch and token
 * embeddings, LM head) and keeps norm weights and biases f32. Equals the model's measured buffer
 * bytes (`Parameters.valueBytes`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferenceWeightBytes, weightBytes } from "./memory.ts";
 * import { PRESETS } from "./config.ts";
 * const c = PRESETS["qwen2.5-vl-3b"].config;
 * const bf16 = inferenceWeightBytes(c, "bf16");
 * assert(bf16 > weightBytes(c, 2) && bf16 < 1.001 * weightBytes(c, 2));
 * ```
 */
export const inferenceWeightBytes = (config: Qwen25VLConfig, dtype: WeightsDtype): number => {
  let bytes = 0;
  for (const shape of qwen25vlTensorShapes(config).values()) {
    const count = shape.reduce((a, b) => a * b, 1);
    bytes += count * (tensorDtype(dtype, shape) === "f32" ? 4 : 2);
  }
  return bytes;
};

/**
 * KV cache bytes for `sequences` sequences of `tokens` positions:
 * 2 (K and V) × layers × kv_heads × head_dim × tokens × sequences × bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvCacheBytes } from "./memory.ts";
 * import { PRESETS } from "./config.ts";
 * // 3B: 2 · 36 layers · 2 KV heads · 128 dims · 2 bytes = 36 KiB per token in bf16.
 * assert(kvCacheBytes(PRESETS["qwen2.5-vl-3b"].config, 1, 1, 2) === 36864);
 * ```
 */
export const kvCacheBytes = (
  config: Qwen25VLConfig,
  tokens: number,
  sequences: number,
  bytesPerValue: number,
): number => {
  const headDim = config.hidden_size / config.num_attention_heads;
  return 2 * config.num_hidden_layers * config.num_key_value_heads * headDim * tokens *
    sequences * bytesPerValue;
};

/** The shape of one training micro-batch. */
export interface TrainingShape {
  /** Sequences in the micro-batch. */
  readonly sequences: number;
  /** Tokens per sequence (prompt with its image pads, plus the response). */
  readonly tokens: number;
  /** Vision patches per sequence (one image each; 0 for text only). */
  readonly imagePatches: number;
}

/** Activation bytes of a training step with per-layer recomputation, by part. */
export interface ActivationBytes {
  /** Every decoder layer's input, kept through the forward. */
  readonly decoderCheckpoints: number;
  /** One decoder layer's forward activations and backward temporaries during its recompute. */
  readonly decoderLayer: number;
  /** Every vision block's input plus one block's working set. */
  readonly vision: number;
  /** Logits and their gradient, [B·T, vocab] each. */
  readonly logits: number;
  readonly total: number;
}

/**
 * Activation bytes of one training step with per-layer recomputation (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationBytes } from "./memory.ts";
 * import { PRESETS } from "./config.ts";
 * const a = activationBytes(PRESETS["qwen2.5-vl-3b"].config, { sequences: 1, tokens: 10, imagePatches: 0 }, 4);
 * assert(a.vision === 0 && a.logits === 2 * 10 * 151936 * 4);
 * ```
 */
export const activationBytes = (
  config: Qwen25VLConfig,
  shape: TrainingShape,
  bytesPerValue: number,
): ActivationBytes => {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const heads = config.num_attention_heads;
  const kv = config.num_key_value_heads * (H / heads);
  const rows = shape.sequences * shape.tokens;
  const decoderCheckpoints = config.num_hidden_layers * rows * H * bytesPerValue;
  // Per row: forward h1 q o attnOut x2 h2 mlpOut y (8H), k v, gate up act (3I), lse, 2 rstd;
  // backward dh2 dx2Norm dx2 dO dq dh1 dxNorm dx (8H), dk dv, dAct dGate dUp (3I).
  const decoderLayer = rows * (16 * H + 4 * kv + 6 * I + heads + 2) * bytesPerValue;
  const v = config.vision_config;
  const patches = shape.sequences * shape.imagePatches;
  // A vision block is the same shape with D for H and for the KV width (no GQA).
  const blockRow = 20 * v.hidden_size + 6 * v.intermediate_size + v.num_heads + 2;
  const vision = patches * (v.depth * v.hidden_size + blockRow) * bytesPerValue;
  const logits = 2 * rows * config.vocab_size * bytesPerValue;
  return {
    decoderCheckpoints,
    decoderLayer,
    vision,
    logits,
    total: decoderCheckpoints + decoderLayer + vision + logits,
  };
};

/** Bytes of one supervised/RL training step on one GPU. */
export interface TrainingStepBytes {
  readonly weights: number;
  readonly gradients: number;
  /** Both AdamW moments. */
  readonly moments: number;
  readonly activations: ActivationBytes;
  readonly total: number;
}

/**
 * Bytes of a training step: weights, gradients, AdamW's two moments and recomputed activations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRECISIONS, trainingStepBytes } from "./memory.ts";
 * import { PRESETS } from "./config.ts";
 * const step = trainingStepBytes(PRESETS.tiny.config, { sequences: 2, tokens: 64, imagePatches: 36 }, PRECISIONS.f32);
 * assert(step.moments === 2 * step.weights);
 * ```
 */
export const trainingStepBytes = (
  config: Qwen25VLConfig,
  shape: TrainingShape,
  precision: Precision,
): TrainingStepBytes => {
  const params = parameterCount(config);
  const weights = params * precision.weights;
  const gradients = params * precision.gradients;
  const moments = 2 * params * precision.moments;
  const activations = activationBytes(config, shape, precision.activations);
  return {
    weights,
    gradients,
    moments,
    activations,
    total: weights + gradients + moments + activations.total,
  };
};

/** GRPO settings that decide memory (the paper's: n = 8, 2,048 new tokens, micro-batch 4). */
export interface GrpoShape {
  /** Rollouts per prompt, generated together. */
  readonly rollouts: number;
  /** Prompt tokens, image pads included. */
  readonly promptTokens: number;
  readonly maxNewTokens: number;
  /** Sequences per update micro-batch. */
  readonly microBatch: number;
  /** Vision patches of the prompt's image. */
  readonly imagePatches: number;
}

/** Peak bytes of a GRPO step on one GPU, by part. */
export interface GrpoBytes {
  readonly policyWeights: number;
  readonly referenceWeights: number;
  readonly gradients: number;
  readonly moments: number;
  /** KV cache of all rollouts of one prompt at full length. */
  readonly rolloutKvCache: number;
  /** Activations of one update micro-batch of full-length sequences. */
  readonly updateActivations: number;
  /** Resident parts plus the larger of the rollout and update phases. */
  readonly peak: number;
}

/**
 * Peak memory of GRPO with a frozen reference model: weights, reference, gradients and moments
 * stay resident; the rollout KV cache and the update's activations are live in different phases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpoBytes, PRECISIONS } from "./memory.ts";
 * import { PRESETS } from "./config.ts";
 * const shape = { rollouts: 8, promptTokens: 400, maxNewTokens: 2048, microBatch: 4, imagePatches: 1296 };
 * const g = grpoBytes(PRESETS["qwen2.5-vl-3b"].config, shape, PRECISIONS.f32);
 * assert(g.peak > 80e9); // all-f32 GRPO on 3B does not fit one 80 GB GPU
 * ```
 */
export const grpoBytes = (
  config: Qwen25VLConfig,
  shape: GrpoShape,
  precision: Precision,
): GrpoBytes => {
  const tokens = shape.promptTokens + shape.maxNewTokens;
  const step = trainingStepBytes(
    config,
    { sequences: shape.microBatch, tokens, imagePatches: shape.imagePatches },
    precision,
  );
  const rolloutKvCache = kvCacheBytes(config, tokens, shape.rollouts, precision.kvCache);
  const resident = 2 * step.weights + step.gradients + step.moments;
  return {
    policyWeights: step.weights,
    referenceWeights: step.weights,
    gradients: step.gradients,
    moments: step.moments,
    rolloutKvCache,
    updateActivations: step.activations.total,
    peak: resident + Math.max(rolloutKvCache, step.activations.total),
  };
};
