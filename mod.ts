/**
 * SpatialThinker on WebGPU: spatial-reasoning RL for vision-language models in TypeScript, with
 * hand-written WGSL kernels running through Deno's WebGPU.
 *
 * This module only re-exports. The training step is five Effect services — `Reasoner` (reason),
 * `Parser` (parse), `Grounder` (ground), `Rewarder` (reward), `Updater` (update) — that a program
 * provides once with Layers; replace any one to change the method (see `runGrpo`).
 *
 * @example Score a response with the paper's reward
 * ```ts
 * import { spatialThinkerReward } from "./mod.ts";
 *
 * const reward = spatialThinkerReward({
 *   response: '<observe>a red cube</observe><scene>{"objects": [{"id": "red_cube.1", ' +
 *     '"bbox": [10, 10, 40, 40]}], "relationships": []}</scene><think>it is left</think>' +
 *     "<answer>(A) left of</answer>",
 *   groundTruth: '<scene>{"objects": [{"id": "red_cube.1", "bbox": [12, 10, 40, 42]}], ' +
 *     '"relationships": []}</scene>\n<answer>(A) left of</answer>',
 *   problem: "Image size: (96 x 96)\nQ. Where is the red cube?",
 * });
 * if (reward.format !== 1 || reward.accuracy !== 1 || !(reward.overall > 0.8)) {
 *   throw new Error(`unexpected reward ${JSON.stringify(reward)}`);
 * }
 * ```
 *
 * @module
 */

// GPU runtime
export { Gpu, type GpuFeatures, type GpuShape } from "./src/gpu/gpu.ts";
export { GpuDeviceLost, GpuUnavailable, ShapeMismatch, TensorTooLarge } from "./src/gpu/errors.ts";
export { GpuRuntime } from "./src/gpu/runtime.ts";
export { CommandRecorder, Readback } from "./src/gpu/recorder.ts";
export { Arena, BufferPool } from "./src/gpu/buffer_pool.ts";
export type { DType, Tensor } from "./src/gpu/tensor.ts";

// Domain types
export { Box, iou, mappedCiou, normaliseBox } from "./src/domain/box.ts";
export { Relationship, SceneGraph, SceneObject } from "./src/domain/scene_graph.ts";
export { FormatFailure, ParsedResponse, Response } from "./src/domain/response.ts";
export { Grounding } from "./src/domain/grounding.ts";
export {
  RewardBreakdown,
  RewardConfig,
  RewardVariant,
  RewardWeights,
} from "./src/domain/reward.ts";
export { ImageSize, ImageSizeMissing } from "./src/domain/image_size.ts";

// The five stages
export { Parser, parseResponse } from "./src/stages/parse.ts";
export { Grounder, groundScenes } from "./src/stages/ground.ts";
export {
  imageSizeFromProblem,
  REWARD_VARIANTS,
  rewardConfig,
  Rewarder,
  type RewardInput,
  type ScoredResponse,
  spatialThinkerReward,
  spatialThinkerRewardForSize,
} from "./src/stages/reward.ts";
export { Reasoner, type Rollout, type RolloutOptions } from "./src/stages/reason.ts";
export {
  type AdvantagedRollout,
  type UpdateOptions,
  Updater,
  type UpdateResult,
} from "./src/stages/update.ts";
export { Policy, type PolicySource } from "./src/stages/policy.ts";
export { labelSimilarity, makeLabelSimilarity } from "./src/text/label_similarity.ts";

// Programs
export { runGrpo, type TrainRun } from "./src/program/train.ts";
export { runSft, SFT_DEFAULTS, SftOptions } from "./src/program/sft.ts";

// GRPO math
export { groupAdvantages } from "./src/rl/advantages.ts";
export { tokenPolicyLoss } from "./src/rl/policy_loss.ts";
export { KL_ESTIMATORS, tokenKl } from "./src/rl/kl.ts";
export { AGGREGATION_MODES, aggregationWeights } from "./src/rl/aggregation.ts";
export { GRPO_PRESETS, GrpoConfig, loadGrpoConfig } from "./src/rl/config.ts";

// Model
export {
  parameterCount,
  type PresetName,
  PRESETS,
  Qwen25VLConfig,
  qwen25vlTensorShapes,
} from "./src/nn/config.ts";
export { Vlm } from "./src/nn/vlm.ts";
export { ContextTooLong, generate, type GenerationOptions } from "./src/nn/generate.ts";
export { processImage, smartResize } from "./src/nn/image_processor.ts";
export { ImageUnreadable, readImage } from "./src/nn/image_file.ts";
export {
  CheckpointMismatch,
  latestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./src/nn/checkpoint.ts";
export { referenceForward } from "./src/nn/reference/qwen25vl_f64.ts";
export {
  defaultWeightsDtype,
  WEIGHTS_DTYPES,
  type WeightsDtype,
  WeightsDtypeUnsupported,
} from "./src/nn/weights_dtype.ts";
export { inferenceWeightBytes } from "./src/nn/memory.ts";
export { type CheckpointModelOptions, modelFromCheckpoint } from "./src/stages/model_setup.ts";

// Text
export { loadTokenizer, Tokenizer } from "./src/text/tokenizer.ts";
export { trainByteLevelBpe } from "./src/text/trainer.ts";
export { renderChat, singleImagePrompt } from "./src/text/chat_template.ts";

// Data
export { generateDataset, type HeldOutScores } from "./src/dataset/generate.ts";
export {
  fitQuestionAware,
  type McQuestionRecord,
  optionPriorBaseline,
  questionAwareBaseline,
} from "./src/dataset/blind_baseline.ts";
export { StvqaRecord } from "./src/dataset/record.ts";
export { readJsonl, writeJsonl } from "./src/dataset/jsonl.ts";
export { SceneRenderer } from "./src/scene/render.ts";

// Evaluation and reports
export { extractChoice } from "./src/eval/extract.ts";
export { loadBenchmark } from "./src/eval/benchmarks.ts";
export { evaluateWithPredictor, Predictor } from "./src/eval/predictor.ts";
export { MetricsSink } from "./src/report/sink.ts";
export { MetricsRow, TrainMetrics, ValMetrics } from "./src/report/metrics.ts";
export { writeReport } from "./src/report/report.ts";
export { startDashboard } from "./src/report/dashboard/server.ts";
