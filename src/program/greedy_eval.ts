/**
 * Held-out evaluation during and after training: greedy decoding of each prompt, scored with the
 * SpatialThinker reward (format rate, components) and, separately, by the evaluation harness's
 * answer extraction against the answer letter — an accuracy that does not depend on the reward's
 * gating or shaping.
 *
 * @module
 */
import type { RewardBreakdown } from "../domain/reward.ts";
import { extractChoice } from "../eval/extract.ts";
import { parseResponse } from "../stages/parse.ts";
import { generate } from "../nn/generate.ts";
import type { ProcessedImage } from "../nn/image_processor.ts";
import { spatialThinkerReward } from "../stages/reward.ts";
import type { PromptExample } from "../stages/examples.ts";
import type { StvqaRecord } from "../dataset/record.ts";
import type { ModelSetup } from "../stages/model_setup.ts";

/** One scored held-out prompt. */
export interface EvaluatedPrompt {
  readonly imageId: string;
  readonly category: string;
  readonly options: number;
  readonly response: string;
  readonly reward: RewardBreakdown;
  /** The extracted choice equals the answer letter (no format requirement). */
  readonly correct: boolean;
  /**
   * The answer names exactly one option (right or wrong): by its letter, whose text if any names no
   * other option, or by one option's text (the rules of `extractChoice`).
   */
  readonly namesOneOption: boolean;
  /** See {@link objectNameRecall}; undefined when the ground truth names no object. */
  readonly objectRecall: number | undefined;
}

/** Aggregates of an evaluation. */
export interface EvaluationSummary {
  readonly count: number;
  readonly formatRate: number;
  readonly accuracy: number;
  readonly meanReward: number;
  /** Mean object-name recall over the prompts whose ground truth names objects. */
  readonly objectRecall: number;
  /**
   * Share of answers that name exactly one option with letter and text agreeing: a model that
   * writes "(A)" beside option B's text is wrong whatever it saw.
   */
  readonly validAnswerRate: number;
  readonly perCategory: Readonly<
    Record<string, { accuracy: number; count: number; chance: number }>
  >;
}

const objectNames = (text: string): Set<string> =>
  new Set(
    (parseResponse(text).response.scene?.objects ?? []).map((o) => o.id.replace(/\.\d+$/, "")),
  );

/**
 * The share of the ground truth's object names (ids without the `.N`: "red_cube") that the
 * response's scene graph names too — whether a model grounds the objects the question asks about,
 * independent of boxes and answer. Undefined when the ground truth names no object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectNameRecall } from "./greedy_eval.ts";
 * const scene = (ids: string[]) =>
 *   `<scene>${JSON.stringify({ objects: ids.map((id) => ({ id, bbox: [0, 0, 1, 1] })) })}</scene>`;
 * assert.equal(objectNameRecall(scene(["red_cube.1"]), scene(["red_cube.1", "blue_cone.1"])), 0.5);
 * ```
 */
export const objectNameRecall = (response: string, groundTruth: string): number | undefined => {
  const wanted = objectNames(groundTruth);
  if (wanted.size === 0) return undefined;
  const named = objectNames(response);
  return [...wanted].filter((name) => named.has(name)).length / wanted.size;
};

/**
 * Greedy decoded responses (special tokens skipped) to image prompts, in order, `batchSize` prompts
 * per generation call.
 */
export const greedyResponses = async (
  setup: ModelSetup,
  prompts: ReadonlyArray<
    { readonly promptTokens: ReadonlyArray<number>; readonly image: ProcessedImage }
  >,
  options: { readonly batchSize: number; readonly maxNewTokens: number; readonly seed: number },
): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < prompts.length; i += options.batchSize) {
    const generated = await generate(
      setup.vlm,
      prompts.slice(i, i + options.batchSize).map((p) => ({
        tokens: p.promptTokens,
        image: p.image,
        responseStart: p.promptTokens.length,
      })),
      {
        maxNewTokens: options.maxNewTokens,
        temperature: 0,
        seed: options.seed,
        stopTokens: setup.generation.eos_token_id,
        padId: setup.generation.pad_token_id,
      },
    );
    for (const g of generated) {
      out.push(setup.tokenizer.decode(g.tokens, { skipSpecialTokens: true }));
    }
  }
  return out;
};

/**
 * How a response answers a record's multiple-choice question, graded like the benchmarks (the
 * option its answer names; see `extractChoice`), independently of the reward's exact-text match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerOutcome } from "./greedy_eval.ts";
 * const record = { options: ["behind", "in front of"], answer_only: "B" };
 * assert.deepEqual(answerOutcome("<answer>(B) in front of</answer>", record), {
 *   correct: true,
 *   namesOneOption: true,
 * });
 * assert.deepEqual(answerOutcome("<answer>(A) in front of</answer>", record), {
 *   correct: false,
 *   namesOneOption: false,
 * });
 * ```
 */
export const answerOutcome = (
  response: string,
  record: Pick<StvqaRecord, "options" | "answer_only">,
): { readonly correct: boolean; readonly namesOneOption: boolean } => {
  const choice = extractChoice(response, record.options);
  return {
    correct: choice.kind === "choice" && choice.letter === record.answer_only,
    namesOneOption: choice.kind === "choice",
  };
};

/** Greedy responses for `examples`, `batchSize` prompts per generation call, each scored. */
export const evaluateGreedy = async (
  setup: ModelSetup,
  examples: ReadonlyArray<PromptExample>,
  options: { readonly batchSize: number; readonly maxNewTokens: number; readonly seed: number },
): Promise<EvaluatedPrompt[]> => {
  const responses = await greedyResponses(setup, examples, options);
  return examples.map((example, k): EvaluatedPrompt => {
    const response = responses[k]!;
    const r = example.record;
    return {
      imageId: r.image_id,
      category: r.category,
      options: r.options.length,
      response,
      objectRecall: objectNameRecall(response, r.answer_option_text),
      ...answerOutcome(response, r),
      reward: spatialThinkerReward({
        response,
        groundTruth: r.answer_option_text,
        problem: r.problem,
      }),
    };
  });
};

/**
 * Format rate, accuracy (overall and per category, with the chance level), mean reward, object
 * recall and the share of answers that name one option.
 */
export const summarize = (results: ReadonlyArray<EvaluatedPrompt>): EvaluationSummary => {
  const n = Math.max(1, results.length);
  const perCategory: Record<string, { accuracy: number; count: number; chance: number }> = {};
  for (const r of results) {
    const cell = perCategory[r.category] ?? { accuracy: 0, count: 0, chance: 0 };
    cell.accuracy += r.correct ? 1 : 0;
    cell.chance += 1 / r.options;
    cell.count++;
    perCategory[r.category] = cell;
  }
  for (const cell of Object.values(perCategory)) {
    cell.accuracy /= cell.count;
    cell.chance /= cell.count;
  }
  return {
    count: results.length,
    formatRate: results.reduce((s, r) => s + r.reward.format, 0) / n,
    accuracy: results.filter((r) => r.correct).length / n,
    meanReward: results.reduce((s, r) => s + r.reward.overall, 0) / n,
    objectRecall: (() => {
      const recalls = results.flatMap((r) => r.objectRecall === undefined ? [] : [r.objectRecall]);
      return recalls.reduce((s, x) => s + x, 0) / Math.max(1, recalls.length);
    })(),
    validAnswerRate: results.filter((r) => r.namesOneOption).length / n,
    perCategory,
  };
};
