/**
 * `deno task train`: the main job — GRPO with the SpatialThinker reward.
 *
 * ```
 * deno task train                                  # the embedded default, end to end
 * deno task train --steps 40 --out runs/grpo --reward sparse
 * deno task train --preset=paper --config run.json --rollout.n=8
 * deno task train --resume --out runs/grpo         # continue exactly from the last checkpoint
 * ```
 *
 * With no `--init`, the policy starts from the SFT checkpoint the repository ships
 * (`data/checkpoints/sft-tiny`, made by `deno task sft`); with no records under `--data`, a small
 * synthetic dataset is rendered first. The stages are provided here, once, as Layers.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Cause, Effect, Layer, Option, Result, Schema } from "effect";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../dataset/generate.ts";
import { Gpu } from "../gpu/gpu.ts";
import { latestCheckpoint } from "../nn/checkpoint.ts";
import { runGrpo } from "../program/train.ts";
import { loadGrpoConfig, splitGrpoConfigArgs } from "../rl/config.ts";
import { MetricsSink } from "../report/sink.ts";
import { SceneRenderer } from "../scene/render.ts";
import { Grounder } from "../stages/ground.ts";
import { Parser } from "../stages/parse.ts";
import { Policy } from "../stages/policy.ts";
import { Reasoner } from "../stages/reason.ts";
import { RewardVariant } from "../domain/reward.ts";
import { rewardConfig, Rewarder } from "../stages/reward.ts";
import { Updater } from "../stages/update.ts";

/** The SFT checkpoint the repository ships as the default starting point. */
export const SHIPPED_SFT = new URL("../../data/checkpoints/sft-tiny", import.meta.url).pathname;

/** The embedded default: the `tiny` GRPO preset scaled to minutes on a CPU adapter. */
export const DEFAULT_OVERRIDES = [
  "--trainer.steps=6",
  "--rollout.batchSize=4",
  "--rollout.n=4",
  "--actor.miniBatchSize=4",
  "--actor.microBatchSize=8",
  "--trainer.valFreq=3",
  "--trainer.saveFreq=3",
];

/** The command line was not understood. */
export class TrainUsageError extends Schema.TaggedError<TrainUsageError>()("TrainUsageError", {
  reason: Schema.String,
}) {}

const ensureData = (dir: string) =>
  Effect.gen(function* () {
    const exists = yield* Effect.promise(() =>
      Deno.stat(`${dir}/train.jsonl`).then(() => true, () => false)
    );
    if (exists) return;
    yield* Effect.logInfo(`no records in ${dir}: rendering a small synthetic dataset first`);
    yield* generateDataset({ ...DEFAULT_GENERATE_OPTIONS, scenes: 300, out: dir }).pipe(
      Effect.provide(SceneRenderer.layer),
    );
  });

const program = Effect.gen(function* () {
  const split = splitGrpoConfigArgs(Deno.args, "tiny");
  if (Result.isFailure(split)) return yield* split.failure;
  const { values } = yield* Effect.try({
    try: () =>
      parseArgs({
        args: [...split.success.rest],
        options: {
          steps: { type: "string" },
          out: { type: "string", default: "runs/grpo-tiny" },
          resume: { type: "boolean", default: false },
          reward: { type: "string", default: "spatial-thinker" },
          init: { type: "string" },
          data: { type: "string", default: "data/generated/stvqa-synth" },
          name: { type: "string" },
          "prompt-style": { type: "string", default: "compact" },
          "val-prompts": { type: "string", default: "32" },
          "rollout-every": { type: "string", default: "1" },
        },
        strict: true,
      }),
    catch: (cause) => new TrainUsageError({ reason: String(cause) }),
  });
  const variant = yield* Schema.decodeUnknownEffect(RewardVariant)(values.reward).pipe(
    Effect.mapError(() =>
      new TrainUsageError({
        reason: `--reward must be one of spatial-thinker, sparse, naive-spatial, strict`,
      })
    ),
  );
  const noConfigGiven = Deno.args.length === 0 ||
    (split.success.file === undefined && split.success.overrides.length === 0 &&
      !Deno.args.some((a) => a.startsWith("--preset")));
  const overrides = [
    ...(noConfigGiven ? DEFAULT_OVERRIDES : []),
    ...split.success.overrides,
    ...(values.steps !== undefined ? [`--trainer.steps=${values.steps}`] : []),
    `--reward.variant=${variant}`,
  ];
  const grpo = yield* loadGrpoConfig({
    preset: split.success.preset,
    file: split.success.file,
    overrides,
  });
  const out = values.out!;
  yield* ensureData(values.data!);
  const init = values.init ?? SHIPPED_SFT;
  const resumeFrom = values.resume
    ? Option.getOrUndefined(yield* latestCheckpoint(`${out}/checkpoints`))
    : undefined;
  if (values.resume && resumeFrom === undefined) {
    yield* Effect.logWarning(`--resume: no checkpoint in ${out}/checkpoints, starting fresh`);
  }
  const stages = Layer.mergeAll(Reasoner.layer, Updater.layer).pipe(
    Layer.provideMerge(
      Policy.layer({ kind: "checkpoint", dir: init }, {
        beta1: grpo.actor.betas[0],
        beta2: grpo.actor.betas[1],
        eps: 1e-8,
        weightDecay: grpo.actor.weightDecay,
        maxGradNorm: grpo.actor.gradClip,
      }, { withReference: grpo.algorithm.klCoef !== 0 }),
    ),
    Layer.merge(
      Rewarder.layerWith(rewardConfig(variant)).pipe(
        Layer.provide(Layer.mergeAll(Parser.layer, Grounder.layer)),
      ),
    ),
    Layer.merge(MetricsSink.layer(out)),
  );
  yield* runGrpo({
    name: values.name ?? out.split("/").pop()!,
    out,
    data: values.data!,
    grpo,
    promptStyle: values["prompt-style"] === "paper" ? "paper" : "compact",
    valPrompts: Number(values["val-prompts"]),
    rolloutEvery: Number(values["rollout-every"]),
    resume: resumeFrom !== undefined,
    model: init,
  }).pipe(Effect.provide(stages));
  yield* Effect.logInfo(`done: ${out}/metrics.jsonl, ${out}/checkpoints (deno task report ${out})`);
});

if (import.meta.main) {
  const exit = await Effect.runPromiseExit(program.pipe(Effect.provide(Gpu.layer)));
  if (exit._tag === "Failure") {
    const error = Cause.squash(exit.cause);
    console.error(`train: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
