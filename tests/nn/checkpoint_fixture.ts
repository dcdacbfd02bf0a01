/** A tiny-preset model checkpoint with seeded random weights and training state, for tests. */
import { Result } from "effect";
import type { ModelCheckpoint, TrainingCheckpoint } from "../../src/nn/checkpoint.ts";
import { PRESETS, qwen25vlTensorShapes } from "../../src/nn/config.ts";
import { QWEN_SPECIAL_TOKENS } from "../../src/text/special_tokens.ts";
import { Tokenizer } from "../../src/text/tokenizer.ts";
import { trainByteLevelBpe } from "../../src/text/trainer.ts";

const seededValues = (count: number, seed: number, scale: number): Float32Array => {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * scale;
  }
  return out;
};

const seededMap = (seed: number, scale: number) => {
  const shapes = qwen25vlTensorShapes(PRESETS.tiny.config);
  return new Map(
    [...shapes].map(([name, shape], i) => [
      name,
      seededValues(shape.reduce((a, b) => a * b, 1), seed + i, scale),
    ]),
  );
};

/** The tiny preset with seeded weights and a tokenizer trained on a few sentences. */
export const tinyModelCheckpoint = (seed = 1): ModelCheckpoint => {
  const { config, generation, preprocessor } = PRESETS.tiny;
  const tokenizer = Result.getOrThrow(Tokenizer.fromJson(
    Result.getOrThrow(
      trainByteLevelBpe(["the cube is left of the ball", "the ball is behind the cube"], {
        vocabSize: config.vocab_size,
        specialTokens: QWEN_SPECIAL_TOKENS,
      }),
    ),
    "fixture",
  ));
  return { config, weights: seededMap(seed, 0.2), generation, preprocessor, tokenizer };
};

/** AdamW moments and trainer state matching `tinyModelCheckpoint`. */
export const tinyTrainingCheckpoint = (step = 7): TrainingCheckpoint => ({
  expAvg: seededMap(100, 0.01),
  expAvgSq: new Map([...seededMap(200, 0.001)].map(([name, v]) => [name, v.map(Math.abs)])),
  state: {
    format: "spatial-thinker/trainer-state@1",
    step,
    seed: 1234,
    rng: { algorithm: "xoshiro128**", state: "0123456789abcdef0123456789abcdef" },
    data_order: { epoch: 1, position: 37 },
    optimizer: {
      name: "adamw",
      updates: 3,
      learning_rate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weight_decay: 0.01,
    },
    preset: "tiny",
  },
});
