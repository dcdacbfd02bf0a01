/**
 * Random micro Qwen2.5-VL checkpoints in the upstream (Hugging Face) folder layout, written
 * directly with the safetensors writer rather than `saveCheckpoint`: config.json,
 * generation_config.json, preprocessor_config.json, tokenizer.json and model.safetensors, or
 * numbered shards with model.safetensors.index.json; F32, F16 or BF16; published tensor names
 * (`visual.*`, `model.*`) or the transformers 5 ones (`model.visual.*`, `model.language_model.*`).
 *
 * @module
 */
import { Effect, Result } from "effect";
import { hostTensorFromF32 } from "../../src/nn/checkpoint.ts";
import {
  encodeQwen25VLConfig,
  type GenerationConfig,
  type PreprocessorConfig,
  PRESETS,
  projectTokenIds,
  type Qwen25VLConfig,
  qwen25vlTensorShapes,
} from "../../src/nn/config.ts";
import { initialWeights } from "../../src/nn/init.ts";
import type { HostTensor } from "../../src/nn/safetensors.ts";
import { writeSafetensorsFile } from "../../src/nn/safetensors.ts";
import { makeRng } from "../../src/domain/random.ts";
import { QWEN_SPECIAL_TOKENS } from "../../src/text/special_tokens.ts";
import { saveTokenizer, Tokenizer } from "../../src/text/tokenizer.ts";
import { trainByteLevelBpe } from "../../src/text/trainer.ts";
import { micro } from "./micro.ts";

const VOCAB = 300;

/** The micro model with a vocabulary a byte-level tokenizer with Qwen's specials fits. */
export const microHf: Qwen25VLConfig = { ...micro, vocab_size: VOCAB, ...projectTokenIds(VOCAB) };

/** 56×56 images stay 56×56: 4×4 patches, 2×2 merged tokens. */
export const microPreprocessor: PreprocessorConfig = {
  ...PRESETS.tiny.preprocessor,
  min_pixels: 56 * 56,
  max_pixels: 56 * 56,
};

const ids = projectTokenIds(VOCAB);
export const microGeneration: GenerationConfig = {
  ...PRESETS.tiny.generation,
  bos_token_id: ids.bos_token_id,
  pad_token_id: ids.bos_token_id,
  eos_token_id: [ids.eos_token_id, ids.bos_token_id],
};

/** A byte-level BPE tokenizer of `VOCAB` entries, Qwen's specials at the end. */
export const microTokenizer = (): Tokenizer =>
  Result.getOrThrow(Tokenizer.fromJson(
    Result.getOrThrow(
      trainByteLevelBpe(
        ["where is the red cube", "the ball is left of the cube", "is the cube behind it"],
        { vocabSize: VOCAB, specialTokens: QWEN_SPECIAL_TOKENS },
      ),
    ),
    "hf_fixture",
  ));

/** Seeded weights with norms and biases moved off their initial values, so mistakes there show. */
export const microHfWeights = (
  config: Qwen25VLConfig,
  seed: number,
): Map<string, Float32Array<ArrayBuffer>> => {
  const rng = makeRng(seed + 1);
  const out = new Map<string, Float32Array<ArrayBuffer>>();
  for (const [name, values] of initialWeights(config, seed)) {
    const scaled = Float32Array.from(values, (x) => x * 3);
    if (name.endsWith(".bias") || /norm|ln_q/.test(name)) {
      for (let i = 0; i < scaled.length; i++) scaled[i] = scaled[i]! + rng.uniform(-0.2, 0.2);
    }
    out.set(name, scaled);
  }
  return out;
};

/** How to write a fixture folder. */
export interface HfLayout {
  readonly dtype: "F32" | "F16" | "BF16";
  /** Number of weight files; > 1 writes `model-0000i-of-0000n.safetensors` and an index. */
  readonly shards: number;
  readonly names: "published" | "transformers5";
}

const transformers5Name = (name: string) =>
  name.startsWith("visual.")
    ? `model.${name}`
    : name.startsWith("model.")
    ? `model.language_model.${name.slice("model.".length)}`
    : name;

const json = (value: unknown) => [new TextEncoder().encode(JSON.stringify(value, null, 2))];

/** Writes `weights` of `config` as an upstream-layout checkpoint folder `dir` (created). */
export const writeHfCheckpoint = async (
  dir: string,
  config: Qwen25VLConfig,
  weights: ReadonlyMap<string, Float32Array>,
  layout: HfLayout,
): Promise<void> => {
  await Deno.mkdir(dir, { recursive: true });
  const torchDtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[layout.dtype];
  await Deno.writeFile(
    `${dir}/config.json`,
    json({ ...encodeQwen25VLConfig(config), torch_dtype: torchDtype })[0]!,
  );
  await Deno.writeFile(`${dir}/generation_config.json`, json(microGeneration)[0]!);
  await Deno.writeFile(`${dir}/preprocessor_config.json`, json(microPreprocessor)[0]!);
  await Effect.runPromise(saveTokenizer(`${dir}/tokenizer.json`, microTokenizer()));
  const entries = [...qwen25vlTensorShapes(config)].map(([name, shape]): [string, HostTensor] => [
    layout.names === "published" ? name : transformers5Name(name),
    hostTensorFromF32(shape, weights.get(name)!, layout.dtype),
  ]);
  if (layout.shards === 1) {
    await Effect.runPromise(
      writeSafetensorsFile(`${dir}/model.safetensors`, new Map(entries), { format: "pt" }),
    );
    return;
  }
  const n = String(layout.shards).padStart(5, "0");
  const perShard = Math.ceil(entries.length / layout.shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < layout.shards; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${n}.safetensors`;
    const shard = entries.slice(s * perShard, (s + 1) * perShard);
    for (const [name] of shard) weightMap[name] = file;
    await Effect.runPromise(
      writeSafetensorsFile(`${dir}/${file}`, new Map(shard), { format: "pt" }),
    );
  }
  await Deno.writeFile(
    `${dir}/model.safetensors.index.json`,
    json({ metadata: { total_size: 0 }, weight_map: weightMap })[0]!,
  );
};
