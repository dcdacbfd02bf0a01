/**
 * What every program needs before its first step: the model (fresh from a preset with seeded
 * weights, or from a checkpoint folder), its tokenizer and processor settings, and the run's
 * checkpoint writer.
 *
 * @module
 */
import { Effect } from "effect";
import type { GpuRuntime } from "../gpu/runtime.ts";
import {
  type GenerationConfig,
  type PreprocessorConfig,
  type PresetName,
  PRESETS,
  type Qwen25VLConfig,
  qwen25vlTensorShapes,
} from "../nn/config.ts";
import {
  checkpointDirName,
  checkpointMatrixDtype,
  forEachCheckpointTensor,
  openCheckpoint,
  readCheckpointSideFiles,
  saveCheckpoint,
  type TrainerState,
} from "../nn/checkpoint.ts";
import type { ImageProcessorConfig } from "../nn/image_processor.ts";
import { initialWeights } from "../nn/init.ts";
import type { AdamW } from "../nn/optimizer.ts";
import { Vlm } from "../nn/vlm.ts";
import { checkPackable, defaultWeightsDtype, type WeightsDtype } from "../nn/weights_dtype.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import { loadTokenizer, type Tokenizer } from "../text/tokenizer.ts";

/** A model ready to run, with everything that is saved beside its weights. */
export interface ModelSetup {
  readonly vlm: Vlm;
  readonly config: Qwen25VLConfig;
  readonly tokenizer: Tokenizer;
  readonly preprocessor: PreprocessorConfig;
  readonly generation: GenerationConfig;
  /** The preset it came from, if any. */
  readonly preset?: PresetName;
}

const TOKENIZER_DIR = new URL("../../data/tokenizer/", import.meta.url);

/** The image processor settings of a checkpoint's `preprocessor_config.json`. */
export const processorSettings = (p: PreprocessorConfig): ImageProcessorConfig => ({
  patchSize: p.patch_size,
  temporalPatchSize: p.temporal_patch_size,
  mergeSize: p.merge_size,
  minPixels: p.min_pixels,
  maxPixels: p.max_pixels,
  imageMean: p.image_mean,
  imageStd: p.image_std,
});

/** A preset model with seeded initial weights and the project tokenizer shipped for it. */
export const modelFromPreset = (rt: GpuRuntime, preset: PresetName, seed: number) =>
  Effect.map(
    loadTokenizer(new URL(`${preset}/tokenizer.json`, TOKENIZER_DIR).pathname),
    (tokenizer): ModelSetup => {
      const p = PRESETS[preset];
      return {
        vlm: new Vlm(rt, p.config, initialWeights(p.config, seed)),
        config: p.config,
        tokenizer,
        preprocessor: p.preprocessor,
        generation: p.generation,
        preset,
      };
    },
  );

/** Options of `modelFromCheckpoint`. */
export interface CheckpointModelOptions {
  /**
   * GPU storage of the weights. "f32" (the default) is what training needs; "bf16"/"f16" store
   * the matrices in 16 bits for inference; "auto" picks `defaultWeightsDtype` from the
   * checkpoint's own dtype (what `generate` and `eval` use).
   */
  readonly weightsDtype?: WeightsDtype | "auto";
}

/** Uploads are staged on the host until a submit; flush them every this many bytes. */
const UPLOAD_FLUSH_BYTES = 256 * 1024 * 1024;

/**
 * A model from a checkpoint folder. Every tensor is checked against the config (and the storage
 * dtype against the shapes) before any GPU work; then the tensors are read and uploaded one at a
 * time, as stored: a 16-bit checkpoint into 16-bit storage is copied bit for bit, and the host
 * never holds more than one tensor (a BF16 3B model needs its 7.5 GB once, on the GPU, not
 * another 15 GB of widened f32 arrays). If reading fails midway the weights are freed.
 */
export const modelFromCheckpoint = (
  rt: GpuRuntime,
  dir: string,
  options: CheckpointModelOptions = {},
) =>
  Effect.gen(function* () {
    const opened = yield* openCheckpoint(dir);
    const side = yield* readCheckpointSideFiles(dir);
    const requested = options.weightsDtype ?? "f32";
    const weightsDtype = requested === "auto"
      ? defaultWeightsDtype(checkpointMatrixDtype(opened))
      : requested;
    yield* Effect.fromResult(checkPackable(qwen25vlTensorShapes(opened.config), weightsDtype));
    const vlm = new Vlm(rt, opened.config, undefined, { weightsDtype });
    let staged = 0;
    yield* Effect.onError(
      forEachCheckpointTensor(opened, (name, tensor) =>
        Effect.gen(function* () {
          staged += vlm.params.loadStored(rt, name, tensor);
          if (staged < UPLOAD_FLUSH_BYTES) return;
          staged = 0;
          // Submitting moves the staged uploads to the GPU; waiting lets wgpu free their staging.
          rt.device.queue.submit([]);
          yield* Effect.promise(() => rt.device.queue.onSubmittedWorkDone());
        })),
      () => Effect.sync(() => vlm.params.all().forEach((p) => p.value.buffer.destroy())),
    );
    const setup: ModelSetup = {
      vlm,
      config: opened.config,
      tokenizer: side.tokenizer,
      preprocessor: side.preprocessor,
      generation: side.generation,
    };
    return setup;
  });

/** Where a run stands when it saves; the optimizer's part of the state comes from the optimizer. */
export interface RunPosition {
  /** Training steps completed (names the folder `step-XXXXXXXX`). */
  readonly step: number;
  readonly seed: number;
  /** How the run's randomness derives from the seed. */
  readonly rng: TrainerState["rng"];
  readonly dataOrder: TrainerState["data_order"];
  /** The learning rate of the last step. */
  readonly learningRate: number;
}

/** Reads the weights and optimizer moments back and writes `root/step-XXXXXXXX` atomically. */
export const saveRunCheckpoint = (
  root: string,
  setup: ModelSetup,
  optimizer: AdamW,
  run: RunPosition,
) =>
  Effect.gen(function* () {
    const { beta1, beta2, eps, weightDecay } = optimizer.settings;
    const state: TrainerState = {
      format: "spatial-thinker/trainer-state@1",
      step: run.step,
      seed: run.seed,
      rng: run.rng,
      data_order: run.dataOrder,
      optimizer: {
        name: "adamw",
        updates: optimizer.step,
        learning_rate: run.learningRate,
        beta1,
        beta2,
        epsilon: eps,
        weight_decay: weightDecay,
      },
      ...(setup.preset ? { preset: setup.preset } : {}),
    };
    const rt = setup.vlm.runtime;
    const rec = new CommandRecorder(rt, "checkpoint");
    setup.vlm.params.read(rec);
    optimizer.read(rec);
    const { arrays } = yield* Effect.promise(() => rec.submit().resolve());
    const count = setup.vlm.params.all().length;
    const weights = setup.vlm.params.collect(arrays.slice(0, count));
    const moments = optimizer.collect(arrays.slice(count));
    const dir = `${root}/${checkpointDirName(state.step)}`;
    yield* saveCheckpoint(dir, {
      config: setup.config,
      weights,
      generation: setup.generation,
      preprocessor: setup.preprocessor,
      tokenizer: setup.tokenizer,
    }, { expAvg: moments.m, expAvgSq: moments.v, state });
    return dir;
  });
