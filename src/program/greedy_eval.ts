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
import { generate } from "../nn/generate.ts";
import { spatialThinkerReward } from "../stages/reward.ts";
import type { PromptExample } from "../stages/examples.ts";
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
}

/** Aggregates of an evaluation. */
export interface EvaluationSummary {
  readonly count: number;
  readonly formatRate: number;
  readonly accuracy: number;
  readonly meanReward: number;
  readonly perCategory: Readonly<
    Record<string, { accuracy: number; count: number; chance: number }>
  >;
}

/** Greedy responses for `examples`, `batchSize` prompts per generation call, each scored. */
export const evaluateGreedy = async (
  setup: ModelSetup,
  examples: ReadonlyArray<PromptExample>,
  options: { readonly batchSize: number; readonly maxNewTokens: number; readonly seed: number },
): Promise<EvaluatedPrompt[]> => {
  const out: EvaluatedPrompt[] = [];
  for (let i = 0; i < examples.length; i += options.batchSize) {
    const batch = examples.slice(i, i + options.batchSize);
    const generated = await generate(
      setup.vlm,
      batch.map((e) => ({
        tokens: e.promptTokens,
        image: e.image,
        responseStart: e.promptTokens.length,
      })),
      {
        maxNewTokens: options.maxNewTokens,
        temperature: 0,
        seed: options.seed,
        stopTokens: setup.generation.eos_token_id,
        padId: setup.generation.pad_token_id,
      },
    );
    batch.forEach((example, k) => {
      const response = setup.tokenizer.decode(generated[k]!.tokens, { skipSpecialTokens: true });
      const r = example.record;
      out.push({
        imageId: r.image_id,
        category: r.category,
        options: r.options.length,
        response,
        correct: (() => {
          const choice = extractChoice(response, r.options);
          return choice.kind === "choice" && choice.letter === r.answer_only;
        })(),
        reward: spatialThinkerReward({
          response,
          groundTruth: r.answer_option_text,
          problem: r.problem,
        }),
      });
    });
  }
  return out;
};

/** Format rate, accuracy (overall and per category, with the chance level) and mean reward. */
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
    perCategory,
  };
};
