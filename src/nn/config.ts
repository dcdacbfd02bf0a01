/**
 * Qwen2.5-VL model configuration as an Effect Schema over the Hugging Face `config.json` keys,
 * the project's presets (`tiny`, `small`, and the published 3B/7B dimensions), the image
 * processor and generation settings that go beside it, and the one function that enumerates
 * every tensor of a model (`qwen25vlTensorShapes`), used by the model code and the checkpoint
 * loader alike.
 *
 * Every preset is a genuine Qwen2.5-VL config, so each checkpoint this project writes loads as a
 * Qwen2.5-VL checkpoint.
 *
 * @module
 */
import { Result, Schema } from "effect";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const PositiveNumber = Schema.Finite.check(Schema.isGreaterThan(0));

/** The vision tower (`vision_config`) of Qwen2.5-VL. */
export const Qwen25VLVisionConfig = Schema.Struct({
  depth: PositiveInt,
  hidden_size: PositiveInt,
  intermediate_size: PositiveInt,
  num_heads: PositiveInt,
  in_chans: PositiveInt,
  /** Width of the merger output = the language model's hidden size. */
  out_hidden_size: PositiveInt,
  patch_size: PositiveInt,
  spatial_merge_size: PositiveInt,
  temporal_patch_size: PositiveInt,
  /** Attention window side in pixels (112 → 4×4 merged tokens). */
  window_size: PositiveInt,
  /** Blocks that attend over the whole image instead of within windows. */
  fullatt_block_indexes: Schema.Array(NonNegativeInt),
  hidden_act: Schema.Literal("silu"),
  tokens_per_second: PositiveNumber,
});

/** The vision tower configuration type. */
export type Qwen25VLVisionConfig = typeof Qwen25VLVisionConfig.Type;

/** A full Qwen2.5-VL configuration (published flat layout: text fields at top level). */
export const Qwen25VLConfig = Schema.Struct({
  model_type: Schema.Literal("qwen2_5_vl"),
  architectures: Schema.Array(Schema.String),
  vocab_size: PositiveInt,
  hidden_size: PositiveInt,
  intermediate_size: PositiveInt,
  num_hidden_layers: PositiveInt,
  num_attention_heads: PositiveInt,
  num_key_value_heads: PositiveInt,
  hidden_act: Schema.Literal("silu"),
  max_position_embeddings: PositiveInt,
  rms_norm_eps: PositiveNumber,
  rope_theta: PositiveNumber,
  /** M-RoPE: `mrope_section` (t, h, w) splits head_dim/2 rotary frequencies between the axes. */
  rope_scaling: Schema.Struct({
    type: Schema.Literal("mrope"),
    mrope_section: Schema.Tuple([PositiveInt, PositiveInt, PositiveInt]),
  }),
  tie_word_embeddings: Schema.Boolean,
  attention_dropout: Schema.Finite,
  initializer_range: PositiveNumber,
  use_sliding_window: Schema.Literal(false),
  sliding_window: PositiveInt,
  max_window_layers: NonNegativeInt,
  bos_token_id: NonNegativeInt,
  eos_token_id: NonNegativeInt,
  vision_start_token_id: NonNegativeInt,
  vision_end_token_id: NonNegativeInt,
  vision_token_id: NonNegativeInt,
  image_token_id: NonNegativeInt,
  video_token_id: NonNegativeInt,
  torch_dtype: Schema.Literals(["float32", "float16", "bfloat16"]),
  use_cache: Schema.Boolean,
  vision_config: Qwen25VLVisionConfig,
}).check(Schema.makeFilter((c) => consistencyIssues(c)));

/** A validated Qwen2.5-VL configuration. */
export type Qwen25VLConfig = typeof Qwen25VLConfig.Type;

/** Cross-field rules the model code relies on (dimensions that must divide, ids in range). */
const consistencyIssues = (c: {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly rope_scaling: { readonly mrope_section: readonly [number, number, number] };
  readonly bos_token_id: number;
  readonly eos_token_id: number;
  readonly vision_start_token_id: number;
  readonly vision_end_token_id: number;
  readonly vision_token_id: number;
  readonly image_token_id: number;
  readonly video_token_id: number;
  readonly vision_config: Qwen25VLVisionConfig;
}): Array<Schema.FilterIssue> => {
  const issues: Array<Schema.FilterIssue> = [];
  const v = c.vision_config;
  if (c.hidden_size % c.num_attention_heads !== 0) {
    issues.push({ path: ["hidden_size"], issue: "must be a multiple of num_attention_heads" });
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0) {
    issues.push({
      path: ["num_key_value_heads"],
      issue: "must divide num_attention_heads (grouped-query attention)",
    });
  }
  const headDim = c.hidden_size / c.num_attention_heads;
  const section = c.rope_scaling.mrope_section;
  if (section[0] + section[1] + section[2] !== headDim / 2) {
    issues.push({
      path: ["rope_scaling", "mrope_section"],
      issue: `must sum to head_dim / 2 = ${headDim / 2}`,
    });
  }
  if (v.hidden_size % v.num_heads !== 0 || (v.hidden_size / v.num_heads) % 4 !== 0) {
    issues.push({
      path: ["vision_config", "num_heads"],
      issue: "vision head_dim (hidden_size / num_heads) must be a multiple of 4 (2-D rope)",
    });
  }
  if (v.out_hidden_size !== c.hidden_size) {
    issues.push({ path: ["vision_config", "out_hidden_size"], issue: "must equal hidden_size" });
  }
  if (v.window_size % (v.patch_size * v.spatial_merge_size) !== 0) {
    issues.push({
      path: ["vision_config", "window_size"],
      issue: "must be a multiple of patch_size * spatial_merge_size",
    });
  }
  for (const index of v.fullatt_block_indexes) {
    if (index >= v.depth) {
      issues.push({ path: ["vision_config", "fullatt_block_indexes"], issue: `${index} ≥ depth` });
    }
  }
  const ids = [
    "bos_token_id",
    "eos_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "vision_token_id",
    "image_token_id",
    "video_token_id",
  ] as const;
  for (const key of ids) {
    if (c[key] >= c.vocab_size) issues.push({ path: [key], issue: `must be < vocab_size` });
  }
  return issues;
};

/** A config.json could not be decoded as a Qwen2.5-VL config; `issues` says which keys. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  file: Schema.String,
  issues: Schema.String,
}) {
  override get message(): string {
    return `${this.file} is not a valid Qwen2.5-VL config:\n${this.issues}`;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Brings the layouts transformers has written over time into the published flat one: newer files
 * nest the text fields under `text_config`, spell the rope type `rope_type` (or move the rope
 * settings into `rope_parameters`), write `dtype` for `torch_dtype`, and may call `in_chans`
 * `in_channels`.
 */
const toPublishedLayout = (json: unknown): unknown => {
  if (!isRecord(json)) return json;
  const flat: Record<string, unknown> = { ...json };
  if (isRecord(json["text_config"])) {
    for (const [key, value] of Object.entries(json["text_config"])) {
      if (key !== "model_type" && key !== "architectures" && value !== null) flat[key] = value;
    }
    delete flat["text_config"];
  }
  // transformers 5 moves rope_theta and the rope settings into rope_parameters.
  const parameters = flat["rope_parameters"];
  if (isRecord(parameters)) {
    flat["rope_scaling"] ??= parameters;
    flat["rope_theta"] ??= parameters["rope_theta"];
    delete flat["rope_parameters"];
  }
  const rope = flat["rope_scaling"];
  if (isRecord(rope)) {
    // Older files say "mrope"; newer ones say "default" plus an mrope_section: the same thing.
    flat["rope_scaling"] = { type: "mrope", mrope_section: rope["mrope_section"] };
  }
  const vision = flat["vision_config"];
  if (isRecord(vision) && vision["in_chans"] === undefined && vision["in_channels"] !== undefined) {
    flat["vision_config"] = { ...vision, in_chans: vision["in_channels"] };
  }
  if (flat["torch_dtype"] === undefined && typeof flat["dtype"] === "string") {
    flat["torch_dtype"] = flat["dtype"];
  }
  // Settings that do not change the architecture, filled with transformers' defaults when a
  // writer left them out (or nulled an unused sliding window).
  flat["use_cache"] ??= true;
  flat["attention_dropout"] ??= 0;
  flat["initializer_range"] ??= 0.02;
  flat["sliding_window"] ??= flat["max_position_embeddings"];
  return flat;
};

const decodeConfig = Schema.decodeUnknownResult(Qwen25VLConfig);

/**
 * Decodes a parsed config.json (published flat layout or the newer `text_config` one) into a
 * validated config; `file` names the source in the error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { decodeQwen25VLConfig, encodeQwen25VLConfig, PRESETS } from "./config.ts";
 * const json = encodeQwen25VLConfig(PRESETS.tiny.config);
 * assert(Result.isSuccess(decodeQwen25VLConfig(json, "config.json")));
 * ```
 */
export const decodeQwen25VLConfig = (
  json: unknown,
  file: string,
): Result.Result<Qwen25VLConfig, ConfigInvalid> =>
  Result.mapError(
    decodeConfig(toPublishedLayout(json), { errors: "all" }),
    (issue) => new ConfigInvalid({ file, issues: issue.message }),
  );

/**
 * The config.json object for a config, in the published Qwen2.5-VL layout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeQwen25VLConfig, PRESETS } from "./config.ts";
 * assert(encodeQwen25VLConfig(PRESETS["qwen2.5-vl-3b"].config)["hidden_size"] === 2048);
 * ```
 */
export const encodeQwen25VLConfig = (config: Qwen25VLConfig): Record<string, unknown> =>
  structuredClone(config) as unknown as Record<string, unknown>;

/** The image processor settings (`preprocessor_config.json`). */
export const PreprocessorConfig = Schema.Struct({
  image_processor_type: Schema.Literal("Qwen2VLImageProcessor"),
  processor_class: Schema.Literal("Qwen2_5_VLProcessor"),
  /** Bounds on resized image area; `smart_resize` keeps the area within them. */
  min_pixels: PositiveInt,
  max_pixels: PositiveInt,
  patch_size: PositiveInt,
  temporal_patch_size: PositiveInt,
  merge_size: PositiveInt,
  image_mean: Schema.Tuple([Schema.Finite, Schema.Finite, Schema.Finite]),
  image_std: Schema.Tuple([PositiveNumber, PositiveNumber, PositiveNumber]),
  do_resize: Schema.Boolean,
  do_rescale: Schema.Boolean,
  rescale_factor: PositiveNumber,
  do_normalize: Schema.Boolean,
  do_convert_rgb: Schema.Boolean,
}).check(
  Schema.makeFilter((p) =>
    p.min_pixels <= p.max_pixels ? undefined : { path: ["min_pixels"], issue: "exceeds max_pixels" }
  ),
);

/** Image processor settings. */
export type PreprocessorConfig = typeof PreprocessorConfig.Type;

/** Sampling defaults (`generation_config.json`). */
export const GenerationConfig = Schema.Struct({
  bos_token_id: NonNegativeInt,
  pad_token_id: NonNegativeInt,
  /** Generation stops at any of these (`<|im_end|>`, `<|endoftext|>`). */
  eos_token_id: Schema.Array(NonNegativeInt),
  do_sample: Schema.Boolean,
  temperature: PositiveNumber,
  top_p: PositiveNumber,
  top_k: NonNegativeInt,
  repetition_penalty: PositiveNumber,
});

/** Sampling defaults. */
export type GenerationConfig = typeof GenerationConfig.Type;

/** The names of the project's presets. */
export type PresetName = "tiny" | "small" | "qwen2.5-vl-3b" | "qwen2.5-vl-7b";

/** A model configuration with the processor and generation settings that belong with it. */
export interface ModelPreset {
  readonly name: PresetName;
  readonly description: string;
  readonly config: Qwen25VLConfig;
  readonly preprocessor: PreprocessorConfig;
  readonly generation: GenerationConfig;
}

/** Special-token ids of the real Qwen2.5 vocabulary (the published configs' defaults). */
const QWEN_TOKEN_IDS = {
  bos_token_id: 151643,
  eos_token_id: 151645,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  vision_token_id: 151654,
  image_token_id: 151655,
  video_token_id: 151656,
} as const;

/**
 * Special-token ids of a project tokenizer with `vocabSize` entries: the 14 Qwen special tokens
 * occupy the last ids in Qwen's order (see `src/text/special_tokens.ts`), so the offsets from the
 * first one match Qwen's (`<|im_end|>` = first + 2, `<|image_pad|>` = first + 12).
 */
export const projectTokenIds = (vocabSize: number) => {
  const first = vocabSize - 14;
  return {
    bos_token_id: first,
    eos_token_id: first + 2,
    vision_start_token_id: first + 9,
    vision_end_token_id: first + 10,
    vision_token_id: first + 11,
    image_token_id: first + 12,
    video_token_id: first + 13,
  };
};

const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

const preprocessor = (minPixels: number, maxPixels: number): PreprocessorConfig => ({
  image_processor_type: "Qwen2VLImageProcessor",
  processor_class: "Qwen2_5_VLProcessor",
  min_pixels: minPixels,
  max_pixels: maxPixels,
  patch_size: 14,
  temporal_patch_size: 2,
  merge_size: 2,
  image_mean: OPENAI_CLIP_MEAN,
  image_std: OPENAI_CLIP_STD,
  do_resize: true,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  do_convert_rgb: true,
});

const generation = (ids: { bos_token_id: number; eos_token_id: number }): GenerationConfig => ({
  bos_token_id: ids.bos_token_id,
  pad_token_id: ids.bos_token_id,
  eos_token_id: [ids.eos_token_id, ids.bos_token_id],
  do_sample: true,
  temperature: 1,
  top_p: 1,
  top_k: 0,
  repetition_penalty: 1,
});

const vision = (
  fields: Pick<
    Qwen25VLVisionConfig,
    | "depth"
    | "hidden_size"
    | "intermediate_size"
    | "num_heads"
    | "out_hidden_size"
    | "fullatt_block_indexes"
  >,
): Qwen25VLVisionConfig => ({
  in_chans: 3,
  patch_size: 14,
  spatial_merge_size: 2,
  temporal_patch_size: 2,
  window_size: 112,
  hidden_act: "silu",
  tokens_per_second: 2,
  ...fields,
});

const COMMON = {
  model_type: "qwen2_5_vl",
  architectures: ["Qwen2_5_VLForConditionalGeneration"],
  hidden_act: "silu",
  rms_norm_eps: 1e-6,
  attention_dropout: 0,
  initializer_range: 0.02,
  use_sliding_window: false,
  use_cache: true,
} as const;

const TINY_VOCAB = 1024;
const SMALL_VOCAB = 4096;

/**
 * The project's model presets.
 *
 * - `tiny` (≈1.45 M parameters) trains on a 2-core CPU through lavapipe. Scenes are rendered at
 *   96×96; the processor's `smart_resize` (factor 28) maps 96 → 84, so the model sees 84×84
 *   images: 6×6 patches of 14 px, 3×3 = 9 image tokens. Vocabulary: the project's 1024-token
 *   byte-level BPE (`data/tokenizer/`).
 * - `small` (44,022,656 parameters) is for a real GPU: 224×224 images (16×16 patches, 64 image tokens), a
 *   4096-token project vocabulary.
 * - `qwen2.5-vl-3b` / `qwen2.5-vl-7b`: the published dimensions, with the real Qwen vocabulary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterCount, PRESETS } from "./config.ts";
 * assert(parameterCount(PRESETS.tiny.config) < 2_000_000);
 * ```
 */
export const PRESETS: Readonly<Record<PresetName, ModelPreset>> = {
  tiny: {
    name: "tiny",
    description: "≈1.45 M parameters, 96×96 scenes resized to 84×84, 1024-token vocabulary",
    config: {
      ...COMMON,
      vocab_size: TINY_VOCAB,
      hidden_size: 128,
      intermediate_size: 384,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 2048,
      rope_theta: 10000,
      rope_scaling: { type: "mrope", mrope_section: [4, 6, 6] },
      tie_word_embeddings: true,
      sliding_window: 2048,
      max_window_layers: 4,
      ...projectTokenIds(TINY_VOCAB),
      torch_dtype: "float32",
      vision_config: vision({
        depth: 2,
        hidden_size: 96,
        intermediate_size: 256,
        num_heads: 3,
        out_hidden_size: 128,
        fullatt_block_indexes: [1],
      }),
    },
    preprocessor: preprocessor(56 * 56, 112 * 112),
    generation: generation(projectTokenIds(TINY_VOCAB)),
  },
  small: {
    name: "small",
    description: "≈44 M parameters for a real GPU, 224×224 images, 4096-token vocabulary",
    config: {
      ...COMMON,
      vocab_size: SMALL_VOCAB,
      hidden_size: 512,
      intermediate_size: 1536,
      num_hidden_layers: 8,
      num_attention_heads: 8,
      num_key_value_heads: 2,
      max_position_embeddings: 8192,
      rope_theta: 1000000,
      rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
      tie_word_embeddings: true,
      sliding_window: 8192,
      max_window_layers: 8,
      ...projectTokenIds(SMALL_VOCAB),
      torch_dtype: "float32",
      vision_config: vision({
        depth: 8,
        hidden_size: 384,
        intermediate_size: 1024,
        num_heads: 6,
        out_hidden_size: 512,
        fullatt_block_indexes: [3, 7],
      }),
    },
    preprocessor: preprocessor(56 * 56, 448 * 448),
    generation: generation(projectTokenIds(SMALL_VOCAB)),
  },
  "qwen2.5-vl-3b": {
    name: "qwen2.5-vl-3b",
    description: "published Qwen2.5-VL-3B-Instruct dimensions",
    config: {
      ...COMMON,
      vocab_size: 151936,
      hidden_size: 2048,
      intermediate_size: 11008,
      num_hidden_layers: 36,
      num_attention_heads: 16,
      num_key_value_heads: 2,
      max_position_embeddings: 128000,
      rope_theta: 1000000,
      rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
      tie_word_embeddings: true,
      sliding_window: 32768,
      max_window_layers: 70,
      ...QWEN_TOKEN_IDS,
      torch_dtype: "bfloat16",
      vision_config: vision({
        depth: 32,
        hidden_size: 1280,
        intermediate_size: 3420,
        num_heads: 16,
        out_hidden_size: 2048,
        fullatt_block_indexes: [7, 15, 23, 31],
      }),
    },
    preprocessor: preprocessor(3136, 12845056),
    generation: generation(QWEN_TOKEN_IDS),
  },
  "qwen2.5-vl-7b": {
    name: "qwen2.5-vl-7b",
    description: "published Qwen2.5-VL-7B-Instruct dimensions",
    config: {
      ...COMMON,
      vocab_size: 152064,
      hidden_size: 3584,
      intermediate_size: 18944,
      num_hidden_layers: 28,
      num_attention_heads: 28,
      num_key_value_heads: 4,
      max_position_embeddings: 128000,
      rope_theta: 1000000,
      rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
      tie_word_embeddings: false,
      sliding_window: 32768,
      max_window_layers: 28,
      ...QWEN_TOKEN_IDS,
      torch_dtype: "bfloat16",
      vision_config: vision({
        depth: 32,
        hidden_size: 1280,
        intermediate_size: 3420,
        num_heads: 16,
        out_hidden_size: 3584,
        fullatt_block_indexes: [7, 15, 23, 31],
      }),
    },
    preprocessor: preprocessor(3136, 12845056),
    generation: generation(QWEN_TOKEN_IDS),
  },
};

/**
 * Every tensor of a Qwen2.5-VL model with its shape, named as in the published checkpoints
 * (`visual.*`, `model.*`, `lm_head.weight` only when embeddings are untied), vision tower first.
 * Linear weights are `[out, in]` (PyTorch layout); the patch embedding is the Conv3d weight
 * `[D, C, T, P, P]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS, qwen25vlTensorShapes } from "./config.ts";
 * const shapes = qwen25vlTensorShapes(PRESETS.tiny.config);
 * assert(shapes.get("model.embed_tokens.weight")![0] === 1024);
 * ```
 */
export const qwen25vlTensorShapes = (config: Qwen25VLConfig): Map<string, Array<number>> => {
  const shapes = new Map<string, Array<number>>();
  const v = config.vision_config;
  const d = v.hidden_size;
  shapes.set("visual.patch_embed.proj.weight", [
    d,
    v.in_chans,
    v.temporal_patch_size,
    v.patch_size,
    v.patch_size,
  ]);
  for (let i = 0; i < v.depth; i++) {
    const p = `visual.blocks.${i}`;
    shapes.set(`${p}.norm1.weight`, [d]);
    shapes.set(`${p}.norm2.weight`, [d]);
    shapes.set(`${p}.attn.qkv.weight`, [3 * d, d]);
    shapes.set(`${p}.attn.qkv.bias`, [3 * d]);
    shapes.set(`${p}.attn.proj.weight`, [d, d]);
    shapes.set(`${p}.attn.proj.bias`, [d]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [v.intermediate_size, d]);
    shapes.set(`${p}.mlp.gate_proj.bias`, [v.intermediate_size]);
    shapes.set(`${p}.mlp.up_proj.weight`, [v.intermediate_size, d]);
    shapes.set(`${p}.mlp.up_proj.bias`, [v.intermediate_size]);
    shapes.set(`${p}.mlp.down_proj.weight`, [d, v.intermediate_size]);
    shapes.set(`${p}.mlp.down_proj.bias`, [d]);
  }
  const merged = d * v.spatial_merge_size * v.spatial_merge_size;
  shapes.set("visual.merger.ln_q.weight", [d]);
  shapes.set("visual.merger.mlp.0.weight", [merged, merged]);
  shapes.set("visual.merger.mlp.0.bias", [merged]);
  shapes.set("visual.merger.mlp.2.weight", [v.out_hidden_size, merged]);
  shapes.set("visual.merger.mlp.2.bias", [v.out_hidden_size]);

  const h = config.hidden_size;
  const headDim = h / config.num_attention_heads;
  const q = config.num_attention_heads * headDim;
  const kv = config.num_key_value_heads * headDim;
  shapes.set("model.embed_tokens.weight", [config.vocab_size, h]);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [h]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    shapes.set(`${p}.self_attn.q_proj.bias`, [q]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    shapes.set(`${p}.self_attn.k_proj.bias`, [kv]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    shapes.set(`${p}.self_attn.v_proj.bias`, [kv]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [config.intermediate_size, h]);
    shapes.set(`${p}.mlp.up_proj.weight`, [config.intermediate_size, h]);
    shapes.set(`${p}.mlp.down_proj.weight`, [h, config.intermediate_size]);
  }
  shapes.set("model.norm.weight", [h]);
  if (!config.tie_word_embeddings) shapes.set("lm_head.weight", [config.vocab_size, h]);
  return shapes;
};

/**
 * Total number of parameters (tied embeddings counted once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterCount, PRESETS } from "./config.ts";
 * assert(parameterCount(PRESETS["qwen2.5-vl-7b"].config) > 8e9);
 * ```
 */
export const parameterCount = (config: Qwen25VLConfig): number => {
  let total = 0;
  for (const shape of qwen25vlTensorShapes(config).values()) {
    total += shape.reduce((product, dim) => product * dim, 1);
  }
  return total;
};

/**
 * Maps a tensor name from any Qwen2.5-VL layout to the published one: the newer in-memory
 * prefixes `model.visual.` and `model.language_model.` become `visual.` and `model.`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedTensorName } from "./config.ts";
 * assert(publishedTensorName("model.language_model.norm.weight") === "model.norm.weight");
 * assert(publishedTensorName("model.visual.merger.ln_q.weight") === "visual.merger.ln_q.weight");
 * ```
 */
export const publishedTensorName = (name: string): string => {
  if (name.startsWith("model.visual.")) return name.slice("model.".length);
  if (name.startsWith("model.language_model.")) {
    return `model.${name.slice("model.language_model.".length)}`;
  }
  return name;
};
