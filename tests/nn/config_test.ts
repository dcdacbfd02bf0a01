import assert from "node:assert/strict";
import { Result } from "effect";
import {
  decodeQwen25VLConfig,
  encodeQwen25VLConfig,
  parameterCount,
  PRESETS,
  projectTokenIds,
  publishedTensorName,
  qwen25vlTensorShapes,
} from "../../src/nn/config.ts";

const issuesOf = (json: unknown): string => {
  const result = decodeQwen25VLConfig(json, "config.json");
  assert.ok(Result.isFailure(result), "expected the config to be rejected");
  assert.equal(result.failure.file, "config.json");
  return result.failure.issues;
};

const tinyJson = () => encodeQwen25VLConfig(PRESETS.tiny.config);

Deno.test("every preset encodes to config.json and decodes back unchanged", () => {
  for (const preset of Object.values(PRESETS)) {
    const json = JSON.parse(JSON.stringify(encodeQwen25VLConfig(preset.config)));
    assert.deepEqual(Result.getOrThrow(decodeQwen25VLConfig(json, preset.name)), preset.config);
  }
});

Deno.test("parameterCount matches the published Qwen2.5-VL 3B and 7B totals", () => {
  // Hugging Face lists 3.75 B and 8.29 B parameters for the Instruct checkpoints.
  assert.equal(parameterCount(PRESETS["qwen2.5-vl-3b"].config), 3_754_622_976);
  assert.equal(parameterCount(PRESETS["qwen2.5-vl-7b"].config), 8_292_166_656);
});

Deno.test("the tiny preset stays within the 1 to 2 million parameter budget", () => {
  const count = parameterCount(PRESETS.tiny.config);
  assert.equal(count, 1_453_344);
  assert.ok(count >= 1_000_000 && count <= 2_000_000);
});

Deno.test("qwen25vlTensorShapes lists the published 3B names and shapes", () => {
  const shapes = qwen25vlTensorShapes(PRESETS["qwen2.5-vl-3b"].config);
  assert.deepEqual(shapes.get("visual.patch_embed.proj.weight"), [1280, 3, 2, 14, 14]);
  assert.deepEqual(shapes.get("visual.blocks.31.attn.qkv.weight"), [3840, 1280]);
  assert.deepEqual(shapes.get("visual.blocks.0.mlp.down_proj.bias"), [1280]);
  assert.deepEqual(shapes.get("visual.merger.mlp.0.weight"), [5120, 5120]);
  assert.deepEqual(shapes.get("visual.merger.mlp.2.weight"), [2048, 5120]);
  assert.deepEqual(shapes.get("model.embed_tokens.weight"), [151936, 2048]);
  assert.deepEqual(shapes.get("model.layers.35.self_attn.k_proj.weight"), [256, 2048]);
  assert.deepEqual(shapes.get("model.layers.35.self_attn.k_proj.bias"), [256]);
  assert.deepEqual(shapes.get("model.layers.0.mlp.down_proj.weight"), [2048, 11008]);
  assert.equal(shapes.has("model.layers.0.self_attn.o_proj.bias"), false);
  assert.equal(shapes.has("lm_head.weight"), false, "3B ties lm_head to embed_tokens");
  assert.equal(shapes.size, 1 + 32 * 12 + 5 + 1 + 36 * 12 + 1);
});

Deno.test("an untied model gets its own lm_head", () => {
  const shapes = qwen25vlTensorShapes(PRESETS["qwen2.5-vl-7b"].config);
  assert.deepEqual(shapes.get("lm_head.weight"), [152064, 3584]);
  assert.deepEqual(shapes.get("model.layers.27.self_attn.v_proj.weight"), [512, 3584]);
});

Deno.test("the newer text_config layout decodes to the same config as the flat one", () => {
  const flat = tinyJson();
  const textKeys = [
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "rope_theta",
    "rms_norm_eps",
    "tie_word_embeddings",
    "max_position_embeddings",
  ];
  const nested: Record<string, unknown> = { ...flat, text_config: {} };
  for (const key of textKeys) {
    (nested["text_config"] as Record<string, unknown>)[key] = flat[key];
    delete nested[key];
  }
  nested["rope_scaling"] = { rope_type: "default", type: "default", mrope_section: [4, 6, 6] };
  const vision = { ...(flat["vision_config"] as Record<string, unknown>) };
  vision["in_channels"] = vision["in_chans"];
  delete vision["in_chans"];
  nested["vision_config"] = vision;
  assert.deepEqual(
    Result.getOrThrow(decodeQwen25VLConfig(nested, "new.json")),
    PRESETS.tiny.config,
  );
});

Deno.test("inconsistent dimensions are rejected with the offending key", () => {
  assert.match(issuesOf({ ...tinyJson(), num_key_value_heads: 3 }), /num_key_value_heads/);
  assert.match(
    issuesOf({ ...tinyJson(), rope_scaling: { type: "mrope", mrope_section: [4, 4, 4] } }),
    /head_dim \/ 2 = 16[\s\S]*mrope_section/,
  );
  assert.match(issuesOf({ ...tinyJson(), image_token_id: 5000 }), /image_token_id/);
  assert.match(
    issuesOf({
      ...tinyJson(),
      vision_config: { ...(tinyJson()["vision_config"] as object), out_hidden_size: 64 },
    }),
    /out_hidden_size/,
  );
});

Deno.test("missing or mistyped keys are rejected", () => {
  const { hidden_size: _, ...withoutHidden } = tinyJson();
  assert.match(issuesOf(withoutHidden), /hidden_size/);
  assert.match(issuesOf({ ...tinyJson(), model_type: "llama" }), /model_type/);
  assert.match(issuesOf({ ...tinyJson(), num_hidden_layers: 2.5 }), /num_hidden_layers/);
  assert.match(issuesOf("not an object"), /object/i);
});

Deno.test("projectTokenIds places Qwen's specials at the end with Qwen's offsets", () => {
  const ids = projectTokenIds(1024);
  assert.equal(ids.bos_token_id, 1010);
  assert.equal(ids.eos_token_id - ids.bos_token_id, 151645 - 151643);
  assert.equal(ids.image_token_id - ids.bos_token_id, 151655 - 151643);
  assert.equal(ids.video_token_id, 1023);
});

Deno.test("publishedTensorName accepts both key layouts and leaves published names alone", () => {
  assert.equal(
    publishedTensorName("model.visual.blocks.0.norm1.weight"),
    "visual.blocks.0.norm1.weight",
  );
  assert.equal(
    publishedTensorName("model.language_model.layers.3.mlp.up_proj.weight"),
    "model.layers.3.mlp.up_proj.weight",
  );
  assert.equal(
    publishedTensorName("model.layers.3.mlp.up_proj.weight"),
    "model.layers.3.mlp.up_proj.weight",
  );
  assert.equal(publishedTensorName("visual.merger.ln_q.weight"), "visual.merger.ln_q.weight");
  assert.equal(publishedTensorName("lm_head.weight"), "lm_head.weight");
});

Deno.test("the tiny preset's processor bounds keep 96 px scenes at 84 px", () => {
  const { min_pixels, max_pixels } = PRESETS.tiny.preprocessor;
  assert.ok(84 * 84 >= min_pixels && 84 * 84 <= max_pixels);
  assert.equal(Math.round(96 / 28) * 28, 84);
});

Deno.test("a transformers 5 style config with rope_parameters and dtype decodes", () => {
  const flat = tinyJson();
  const { rope_scaling: _, rope_theta: __, torch_dtype: ___, use_cache: ____, ...rest } = flat;
  const v5 = {
    ...rest,
    dtype: "float32",
    sliding_window: null,
    rope_parameters: { rope_type: "default", mrope_section: [4, 6, 6], rope_theta: 10000 },
  };
  const decoded = Result.getOrThrow(decodeQwen25VLConfig(v5, "v5.json"));
  assert.deepEqual(decoded, { ...PRESETS.tiny.config, sliding_window: 2048 });
});

Deno.test("the published Qwen2.5-VL-3B-Instruct config.json decodes to the 3B preset", () => {
  // The published file's keys and values, including the ones our schema does not model.
  const published = {
    architectures: ["Qwen2_5_VLForConditionalGeneration"],
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    vision_start_token_id: 151652,
    vision_end_token_id: 151653,
    vision_token_id: 151654,
    image_token_id: 151655,
    video_token_id: 151656,
    hidden_act: "silu",
    hidden_size: 2048,
    initializer_range: 0.02,
    intermediate_size: 11008,
    max_position_embeddings: 128000,
    max_window_layers: 70,
    model_type: "qwen2_5_vl",
    num_attention_heads: 16,
    num_hidden_layers: 36,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-06,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.41.2",
    use_cache: true,
    use_sliding_window: false,
    vision_config: {
      depth: 32,
      hidden_act: "silu",
      hidden_size: 1280,
      intermediate_size: 3420,
      num_heads: 16,
      in_chans: 3,
      out_hidden_size: 2048,
      patch_size: 14,
      spatial_merge_size: 2,
      spatial_patch_size: 14,
      window_size: 112,
      fullatt_block_indexes: [7, 15, 23, 31],
      tokens_per_second: 2,
      temporal_patch_size: 2,
    },
    rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
    vocab_size: 151936,
  };
  assert.deepEqual(
    Result.getOrThrow(decodeQwen25VLConfig(published, "Qwen2.5-VL-3B-Instruct/config.json")),
    PRESETS["qwen2.5-vl-3b"].config,
  );
});
