/**
 * The `reward` stage: the SpatialThinker reward (`spatial_sgg_compute_score` of the official code)
 * and its ablations, as named configurations of one function.
 *
 * Default `spatial-thinker`: `overall = 0.1·format + 0.2·count + 0.5·accuracy + 0.2·spatial`,
 * where format 0 sets every component to 0 and spatial is only scored when accuracy is 1
 * (lexicographic gating: format ≻ {count, accuracy} ≻ spatial).
 *
 * - format: all rules of the `parse` stage hold.
 * - count: `0.7·max(0, 1 − |ΔN_obj|/max(N_obj,1)) + 0.3·(same for relations)`, objects only
 *   when the ground truth has no relations.
 * - accuracy: case-insensitive equality of the trimmed `<answer>` texts.
 * - spatial: Σ mCIoU over Hungarian-matched objects / number of ground-truth objects; relations
 *   are matched but do not change it (the official `REL_GATING = False`).
 *
 * Errors: any response text yields a breakdown. The image size comes from the prompt, which is
 * trusted input; a prompt without `Image size: (W x H)` is a data error, {@link ImageSizeMissing},
 * returned as a `Result` by {@link imageSizeFromProblem} and thrown by the synchronous
 * {@link spatialThinkerReward} (the official reward raises `ValueError` there too).
 *
 * @module
 */
import { Context, Effect, Layer, Result, Schema } from "effect";
import { ImageSize, ImageSizeMissing } from "../domain/image_size.ts";
import type { Grounding } from "../domain/grounding.ts";
import type { FormatRule, ParsedResponse } from "../domain/response.ts";
import { EMPTY_SCENE, type SceneGraph } from "../domain/scene_graph.ts";
import type { RewardBreakdown, RewardConfig, RewardVariant } from "../domain/reward.ts";
import { defaultLabelSimilarity, type LabelSimilarity } from "../text/label_similarity.ts";
import { Grounder, groundScenes } from "./ground.ts";
import { Parser, parseResponse } from "./parse.ts";

const SPATIAL_THINKER: RewardConfig = {
  variant: "spatial-thinker",
  weights: { format: 0.1, count: 0.2, accuracy: 0.5, spatial: 0.2 },
  formatRule: "spatial-thinker",
  gateOnFormat: true,
  gateSpatialOnAccuracy: true,
  spatialScore: "matched-mciou",
  countWeights: { objects: 0.7, relations: 0.3 },
  relationGating: false,
  answerWithoutTag: "empty",
};

/**
 * The variants:
 * - `spatial-thinker`: the shipped reward (above).
 * - `sparse`: the vanilla-GRPO baseline `r1v`, `0.5·format + 0.5·accuracy`, format = the whole
 *   text is `<think>…</think>\s*<answer>…</answer>`, no gating. Accuracy is our case-insensitive
 *   equality, not `mathruler.grade_answer` (identical for multiple-choice answers like `(A) left`
 *   up to its spacing and LaTeX normalisation).
 * - `naive-spatial`: the paper's reward-hacking ablation (Table 5, "+ Spatial (naive)", 23.7%):
 *   format, accuracy and spatial with the default weights, no count, no gating at all.
 * - `strict`: the official but unused `spatial_reward`, spatial = `0.5·objects + 0.5·relations`,
 *   objects = mean over ground-truth objects of `0.5·(IoU + 5·exp(−L1))/6 + 0.5·label similarity`,
 *   relations = mean triplet similarity over ground-truth relations; gated like the default.
 */
export const REWARD_VARIANTS: Readonly<Record<RewardVariant, RewardConfig>> = {
  "spatial-thinker": SPATIAL_THINKER,
  sparse: {
    ...SPATIAL_THINKER,
    variant: "sparse",
    weights: { format: 0.5, count: 0, accuracy: 0.5, spatial: 0 },
    formatRule: "think-answer",
    gateOnFormat: false,
    gateSpatialOnAccuracy: false,
    answerWithoutTag: "whole-text",
  },
  "naive-spatial": {
    ...SPATIAL_THINKER,
    variant: "naive-spatial",
    weights: { format: 0.1, count: 0, accuracy: 0.5, spatial: 0.2 },
    gateOnFormat: false,
    gateSpatialOnAccuracy: false,
  },
  strict: { ...SPATIAL_THINKER, variant: "strict", spatialScore: "objects-and-relations" },
};

/**
 * A variant's configuration with some weights replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rewardConfig } from "./reward.ts";
 * assert.equal(rewardConfig("spatial-thinker", { weights: { spatial: 0.3 } }).weights.spatial, 0.3);
 * ```
 */
export const rewardConfig = (
  variant: RewardVariant,
  overrides: {
    readonly weights?: Partial<RewardConfig["weights"]>;
    readonly countWeights?: RewardConfig["countWeights"];
  } = {},
): RewardConfig => {
  const base = REWARD_VARIANTS[variant];
  return {
    ...base,
    weights: { ...base.weights, ...overrides.weights },
    countWeights: overrides.countWeights ?? base.countWeights,
  };
};

const IMAGE_SIZE = /Image size: \((.*?) x (.*?)\)/;
const INTEGER = /^\s*\+?\d+\s*$/;

/**
 * Reads `Image size: (W x H)` from a training prompt, like the official `extract_image_size`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { imageSizeFromProblem } from "./reward.ts";
 * const size = imageSizeFromProblem("… Image size: (640 x 480) …");
 * assert.deepEqual(Result.getOrThrow(size), { width: 640, height: 480 });
 * ```
 */
export const imageSizeFromProblem = (
  problem: string,
): Result.Result<ImageSize, ImageSizeMissing> => {
  const excerpt = problem.slice(0, 120);
  const match = IMAGE_SIZE.exec(problem);
  if (match === null) {
    return Result.fail(new ImageSizeMissing({ reason: "no 'Image size: (W x H)'", excerpt }));
  }
  const [width, height] = [match[1]!, match[2]!];
  if (!INTEGER.test(width) || !INTEGER.test(height)) {
    return Result.fail(
      new ImageSizeMissing({ reason: `'${width} x ${height}' is not two integers`, excerpt }),
    );
  }
  const size = Schema.decodeUnknownResult(ImageSize)({
    width: Number(width),
    height: Number(height),
  });
  return Result.mapError(
    size,
    () => new ImageSizeMissing({ reason: `'${width} x ${height}' is not positive`, excerpt }),
  );
};

/** A response scored against its ground truth, with what the score was computed from. */
export interface ScoredResponse {
  readonly breakdown: RewardBreakdown;
  readonly response: ParsedResponse;
  readonly groundTruth: ParsedResponse;
  /** The matching, whenever the response has a readable scene graph (even when not scored). */
  readonly grounding: Grounding | undefined;
}

/** Rules on the scene's items: the official spatial score is 0 when one fails, even ungated. */
const ITEM_RULES: ReadonlySet<FormatRule> = new Set<FormatRule>([
  "objects-list",
  "relationships-list",
  "object-keys",
  "object-id",
  "object-bbox",
  "relation-keys",
  "relation-predicate",
  "relation-id",
]);

const relativeCountScore = (predicted: number, truth: number): number =>
  Math.max(0, 1 - Math.abs(predicted - truth) / Math.max(truth, 1));

/** The official `count_reward`. */
const countScore = (
  response: ParsedResponse,
  groundTruth: ParsedResponse,
  config: RewardConfig,
): number => {
  const predicted = response.response.scene;
  const truth = groundTruth.response.scene ?? EMPTY_SCENE;
  if (predicted === undefined || !response.sceneListsObjects || !groundTruth.sceneListsObjects) {
    return 0;
  }
  const objects = relativeCountScore(predicted.objects.length, truth.objects.length);
  if (truth.relationships.length === 0) return objects;
  const relations = relativeCountScore(
    predicted.relationships.length,
    truth.relationships.length,
  );
  return objects * config.countWeights.objects + relations * config.countWeights.relations;
};

/** The official `relaxed_spatial_reward` (shipped) or `spatial_reward` (strict). */
const spatialScore = (grounding: Grounding, config: RewardConfig): number => {
  const { groundTruthObjects: G, predictedObjects: P } = grounding.counts;
  const { groundTruthRelations, predictedRelations } = grounding.counts;
  if (config.spatialScore === "objects-and-relations") {
    let boxes = 0;
    let labels = 0;
    for (const match of grounding.objectMatches) {
      boxes += (1 * match.iou + 5 * Math.exp(-match.l1)) / 6;
      labels += match.labelSimilarity;
    }
    const objects = G === 0 ? (P === 0 ? 1 : 0) : 0.5 * (boxes / G) + 0.5 * (labels / G);
    let triplets = 0;
    for (const match of grounding.tripletMatches) triplets += match.similarity;
    const relations = groundTruthRelations === 0
      ? (predictedRelations === 0 ? 1 : 0)
      : triplets / groundTruthRelations;
    return 0.5 * objects + 0.5 * relations;
  }
  if (groundTruthRelations === 0 && G === 0) return P === 0 ? 1 : 0;
  if (config.relationGating && groundTruthRelations > 0 && grounding.tripletMatches.length === 0) {
    return 0;
  }
  // With relations in the ground truth but no objects, the official score is 1 (empty mean).
  if (G === 0) return 1;
  let sum = 0;
  for (const match of grounding.objectMatches) sum += match.mappedCiou;
  return sum / G;
};

/** The answer the accuracy compares: the trimmed `<answer>` text, or the variant's fallback. */
const answerOf = (parsed: ParsedResponse, text: string, config: RewardConfig): string =>
  parsed.response.answer ?? (config.answerWithoutTag === "whole-text" ? text.trim() : "");

/** What {@link scoreParsed} needs: both texts parsed, and the image size. */
export interface ParsedRewardInput {
  readonly response: ParsedResponse;
  readonly responseText: string;
  readonly groundTruth: ParsedResponse;
  readonly groundTruthText: string;
  readonly size: ImageSize;
}

/**
 * Scores a parsed response: the core of every variant. Pure; never throws.
 *
 * @param similarity label similarity for the matching; by default the word-vector one, loaded
 * only when a scene graph has to be matched.
 */
export const scoreParsed = (
  input: ParsedRewardInput,
  config: RewardConfig = SPATIAL_THINKER,
  similarity?: LabelSimilarity,
): ScoredResponse => {
  const { response, groundTruth, size } = input;
  const weights = config.weights;
  const format = config.formatRule === "spatial-thinker"
    ? (response.failures.length === 0 ? 1 : 0)
    : (response.thinkAnswerLayout ? 1 : 0);
  const open = !config.gateOnFormat || format === 1;
  const ground = (prediction: SceneGraph) =>
    groundScenes(
      prediction,
      groundTruth.response.scene ?? EMPTY_SCENE,
      size,
      similarity ?? defaultLabelSimilarity(),
    );
  const predictedScene = response.response.scene;
  const grounding = predictedScene === undefined ? undefined : ground(predictedScene);
  const count = open && weights.count !== 0 ? countScore(response, groundTruth, config) : 0;
  const accuracy = open && weights.accuracy !== 0 &&
      answerOf(response, input.responseText, config).toLowerCase() ===
        answerOf(groundTruth, input.groundTruthText, config).toLowerCase()
    ? 1
    : 0;
  const itemsValid = !response.failures.some((failure) => ITEM_RULES.has(failure.rule));
  const spatialOpen = open && weights.spatial !== 0 && itemsValid &&
    (!config.gateSpatialOnAccuracy || accuracy === 1);
  // A response whose scene is missing or not an object counts as an empty scene, as in Python.
  const spatial = !spatialOpen ? 0 : spatialScore(grounding ?? ground(EMPTY_SCENE), config);
  const overall = format * weights.format + count * weights.count + accuracy * weights.accuracy +
    spatial * weights.spatial;
  return {
    breakdown: { overall, format, count, accuracy, spatial },
    response,
    groundTruth,
    grounding,
  };
};

/** Ground truths and prompts repeat for every rollout of a prompt: read each once. */
const PER_PROMPT_MEMO_LIMIT = 4096;
/** Texts longer than this are read each time, so the memo stays below ~1 GB whatever comes. */
const PER_PROMPT_MEMO_MAX_LENGTH = 100_000;
const memoisePerPrompt = <A>(read: (text: string) => A): (text: string) => A => {
  const memo = new Map<string, A>();
  return (text) => {
    if (text.length > PER_PROMPT_MEMO_MAX_LENGTH) return read(text);
    let value = memo.get(text);
    if (value === undefined) {
      value = read(text);
      if (memo.size >= PER_PROMPT_MEMO_LIMIT) memo.clear();
      memo.set(text, value);
    }
    return value;
  };
};
const parseGroundTruth = memoisePerPrompt(parseResponse);
const imageSizeOfProblem = memoisePerPrompt(imageSizeFromProblem);

/**
 * The reward of one response for a known image size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spatialThinkerRewardForSize } from "./reward.ts";
 * const scene = '{"objects": [{"id": "cube.1", "bbox": [10, 10, 50, 50]}]}';
 * const reward = spatialThinkerRewardForSize({
 *   response: `<observe>o</observe><scene>${scene}</scene><think>t</think><answer>(A) left</answer>`,
 *   groundTruth: `<scene>${scene}</scene>\n<answer>(a) LEFT</answer>`,
 *   width: 100,
 *   height: 100,
 * });
 * assert.ok(reward.overall > 0.99);
 * ```
 */
export const spatialThinkerRewardForSize = (
  input: {
    readonly response: string;
    readonly groundTruth: string;
    readonly width: number;
    readonly height: number;
  },
  config: RewardConfig = SPATIAL_THINKER,
): RewardBreakdown =>
  scoreParsed({
    response: parseResponse(input.response),
    responseText: input.response,
    groundTruth: parseGroundTruth(input.groundTruth),
    groundTruthText: input.groundTruth,
    size: { width: input.width, height: input.height },
  }, config).breakdown;

/**
 * The SpatialThinker reward of one response, with the official signature
 * `(response, ground_truth, problem)`. Synchronous and deterministic; loads the word vectors on
 * its first use.
 *
 * @throws ImageSizeMissing when `problem` has no `Image size: (W x H)`; never for any response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spatialThinkerReward } from "./reward.ts";
 * const reward = spatialThinkerReward({
 *   response: "<think>no scene</think><answer>(A) left</answer>",
 *   groundTruth: '<scene>{"objects": []}</scene>\n<answer>(A) left</answer>',
 *   problem: "Image size: (640 x 480)\nQ. Where is the cube?",
 * });
 * assert.deepEqual(reward, { overall: 0, format: 0, count: 0, accuracy: 0, spatial: 0 });
 * ```
 */
export const spatialThinkerReward = (
  input: { readonly response: string; readonly groundTruth: string; readonly problem: string },
  config: RewardConfig = SPATIAL_THINKER,
): RewardBreakdown => {
  const size = imageSizeOfProblem(input.problem);
  if (Result.isFailure(size)) throw size.failure;
  return spatialThinkerRewardForSize({ ...input, ...size.success }, config);
};

/** The input of the {@link Rewarder} service. */
export interface RewardInput {
  readonly response: string;
  readonly groundTruth: string;
  readonly problem: string;
}

/** The `reward` stage as a service: parses with {@link Parser}, matches with {@link Grounder}. */
export class Rewarder extends Context.Service<Rewarder, {
  readonly config: RewardConfig;
  readonly score: (input: RewardInput) => Effect.Effect<ScoredResponse, ImageSizeMissing>;
}>()("spatial-thinker/stages/Rewarder") {
  /** A rewarder for `config`, built on whichever Parser and Grounder the program provides. */
  static readonly layerWith = (
    config: RewardConfig,
  ): Layer.Layer<Rewarder, never, Parser | Grounder> =>
    Layer.effect(
      Rewarder,
      Effect.gen(function* () {
        const parser = yield* Parser;
        const grounder = yield* Grounder;
        const score = Effect.fn("Rewarder.score")(function* (input: RewardInput) {
          const size = yield* Effect.fromResult(imageSizeFromProblem(input.problem));
          const response = yield* parser.parse(input.response);
          const groundTruth = yield* parser.parse(input.groundTruth);
          return scoreParsed(
            {
              response,
              responseText: input.response,
              groundTruth,
              groundTruthText: input.groundTruth,
              size,
            },
            config,
            grounder.labelSimilarity,
          );
        });
        return Rewarder.of({ config, score });
      }),
    );

  /** The default `spatial-thinker` rewarder. */
  static readonly layer: Layer.Layer<Rewarder, never, Parser | Grounder> = Rewarder.layerWith(
    SPATIAL_THINKER,
  );
}
