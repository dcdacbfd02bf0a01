import assert from "node:assert/strict";
import { Effect, Layer } from "effect";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { generate } from "../../src/nn/generate.ts";
import { AdamW } from "../../src/nn/optimizer.ts";
import { modelFromPreset } from "../../src/stages/model_setup.ts";
import { Policy } from "../../src/stages/policy.ts";
import { type AdvantagedRollout, type UpdateOptions, Updater } from "../../src/stages/update.ts";
import { gpuTest } from "../gpu/harness.ts";
import { noiseImageExample } from "./model_fixtures.ts";

const OPTIONS: UpdateOptions = {
  clipLow: 0.2,
  clipHigh: 0.3,
  dualClip: 3,
  klCoef: 0,
  klEstimator: "low_var_kl",
  aggregation: "token-mean",
  maxResponseLength: 16,
  miniBatch: 2,
  microBatch: 2,
  temperature: 1,
};

/**
 * A fresh tiny policy, updated `updates` times on one prompt with two responses of advantage +1
 * (`rewarded`) and −1 (`punished`); returns the greedy response's tokens afterwards and the
 * rewarded response's.
 */
const greedyAfterUpdates = async (
  rt: GpuRuntime,
  rewarded: string,
  punished: string,
  updates: number,
): Promise<{ greedy: number[]; rewarded: number[]; punished: number[] }> => {
  const setup = await Effect.runPromise(modelFromPreset(rt, "tiny", 4));
  const example = noiseImageExample(setup);
  const stop = setup.generation.eos_token_id[0]!;
  const rollout = (response: string, sample: number, advantage: number): AdvantagedRollout => ({
    group: 0,
    sample,
    example,
    tokens: [...setup.tokenizer.encode(response), stop],
    text: response,
    advantage,
  });
  const rollouts = [rollout(rewarded, 0, 1), rollout(punished, 1, -1)];
  const policy = Layer.succeed(Policy)(Policy.of({
    setup,
    reference: undefined,
    optimizer: new AdamW(rt, setup.vlm.params, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    }),
  }));
  await Effect.runPromise(
    Effect.gen(function* () {
      const updater = yield* Updater;
      for (let i = 0; i < updates; i++) yield* updater.update(rollouts, 3e-3, OPTIONS);
    }).pipe(Effect.provide(Updater.layer.pipe(Layer.provide(policy)))),
  );
  const [greedy] = await generate(setup.vlm, [{
    tokens: example.promptTokens,
    image: example.image,
    responseStart: example.promptTokens.length,
  }], {
    maxNewTokens: 12,
    temperature: 0,
    seed: 1,
    stopTokens: setup.generation.eos_token_id,
    padId: setup.generation.pad_token_id,
  });
  return {
    greedy: [...greedy!.tokens],
    rewarded: [...rollouts[0]!.tokens],
    punished: [...rollouts[1]!.tokens],
  };
};

const UPDATES = 60;

gpuTest(
  "GRPO updates make the rewarded response the greedy one, whichever of the two is rewarded",
  async (rt) => {
    // No token in common but the stop token: tokens both responses share get advantages +1 and −1
    // and, with token-mean aggregation, no net gradient (as GRPO intends), so only distinct
    // tokens can tell whether the update moves the right way.
    const yes = "left of the cube", no = "behind";
    const untrained = await greedyAfterUpdates(rt, yes, no, 0);
    assert.notDeepEqual(untrained.greedy, untrained.rewarded);
    assert.notDeepEqual(untrained.greedy, untrained.punished);
    const body = (tokens: number[]) => tokens.slice(0, -1);
    assert.ok(body(untrained.rewarded).every((t) => !untrained.punished.includes(t)));
    for (const [rewarded, punished] of [[yes, no], [no, yes]] as const) {
      const trained = await greedyAfterUpdates(rt, rewarded, punished, UPDATES);
      assert.deepEqual(
        trained.greedy.slice(0, trained.rewarded.length - 1),
        body(trained.rewarded),
      );
    }
  },
);
