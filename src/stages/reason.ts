/**
 * The `reason` stage: sample `n` responses per prompt from the policy on the GPU (the GRPO group),
 * decoded to text. Sampling is seeded by (run seed, step), so a resumed run draws the same
 * rollouts as an uninterrupted one.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { generate } from "../nn/generate.ts";
import type { PromptExample } from "./examples.ts";
import { Policy } from "./policy.ts";

/** One sampled response. */
export interface Rollout {
  /** Index of the prompt in this step's batch: the GRPO group key. */
  readonly group: number;
  /** Index inside the group, 0 … n−1. */
  readonly sample: number;
  readonly example: PromptExample;
  /** Response token ids (ending with the stop token when it stopped). */
  readonly tokens: ReadonlyArray<number>;
  /** Decoded response without special tokens. */
  readonly text: string;
}

/** Sampling settings of one rollout step. */
export interface RolloutOptions {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Training step: part of the sampling seed. */
  readonly step: number;
}

/** The reason stage as a service. */
export class Reasoner extends Context.Service<Reasoner, {
  readonly rollouts: (
    prompts: ReadonlyArray<PromptExample>,
    options: RolloutOptions,
  ) => Effect.Effect<ReadonlyArray<Rollout>>;
}>()("spatial-thinker/stages/Reasoner") {
  /** Rollouts from the policy's model; one generation call, one readback. */
  static readonly layer: Layer.Layer<Reasoner, never, Policy> = Layer.effect(
    Reasoner,
    Effect.gen(function* () {
      const { setup } = yield* Policy;
      const c = setup.config;
      const visionTokens = [
        c.vision_start_token_id,
        c.vision_end_token_id,
        c.vision_token_id,
        c.image_token_id,
        c.video_token_id,
      ];
      const rollouts = Effect.fn("Reasoner.rollouts")(function* (
        prompts: ReadonlyArray<PromptExample>,
        o: RolloutOptions,
      ) {
        const repeated = prompts.flatMap((example, group) =>
          Array.from({ length: o.n }, (_, sample) => ({ example, group, sample }))
        );
        const generated = yield* Effect.promise(() =>
          generate(
            setup.vlm,
            repeated.map(({ example }) => ({
              tokens: example.promptTokens,
              image: example.image,
              responseStart: example.promptTokens.length,
            })),
            {
              maxNewTokens: o.maxNewTokens,
              temperature: o.temperature,
              topP: o.topP,
              // One stream per step: the seed's low bits carry the step.
              seed: o.seed * 1_000_003 + o.step,
              stopTokens: setup.generation.eos_token_id,
              padId: setup.generation.pad_token_id,
              stepsPerSubmit: o.maxNewTokens,
              bannedTokens: visionTokens,
            },
          )
        );
        return repeated.map(({ example, group, sample }, i): Rollout => ({
          group,
          sample,
          example,
          tokens: generated[i]!.tokens,
          text: setup.tokenizer.decode(generated[i]!.tokens, { skipSpecialTokens: true }),
        }));
      });
      return Reasoner.of({ rollouts });
    }),
  );
}
