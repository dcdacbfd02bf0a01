/**
 * The GRPO training program: an Effect composition over the five stages, provided by Layers at the
 * entry point, so a user can replace any one (their own reward, say) in their own program.
 *
 *   prompts ─reason─▶ n rollouts each ─parse/ground/reward─▶ RewardBreakdown per rollout
 *           ─group advantages─▶ ─update─▶ one NaN-guarded AdamW step per mini-batch
 *
 * Every step appends a metrics row; every `valFreq` steps a greedy validation row (accuracy per
 * category, independent of the reward); every `saveFreq` steps and at the end an atomic
 * checkpoint with optimizer, RNG and data-order state, from which `resume` continues exactly.
 *
 * @module
 */
import { Effect, Option, Stream } from "effect";
import { readJsonl } from "../dataset/jsonl.ts";
import { StvqaRecord } from "../dataset/record.ts";
import {
  latestCheckpoint,
  loadCheckpoint,
  loadTrainingState,
  removeInterruptedSaves,
} from "../nn/checkpoint.ts";
import { parseResponse } from "../stages/parse.ts";
import { cachedPromptExamples, type PromptStyle } from "../stages/examples.ts";
import { processorSettings, saveRunCheckpoint } from "../stages/model_setup.ts";
import { Policy } from "../stages/policy.ts";
import { Reasoner, type Rollout } from "../stages/reason.ts";
import { Rewarder, type ScoredResponse } from "../stages/reward.ts";
import { type AdvantagedRollout, Updater } from "../stages/update.ts";
import { groupAdvantages } from "../rl/advantages.ts";
import { keepInformativeGroups, zeroVarianceGroupFraction } from "../rl/dynamic_sampling.ts";
import type { GrpoConfig } from "../rl/config.ts";
import { learningRateAt } from "../rl/schedule.ts";
import { MetricsSink } from "../report/sink.ts";
import type { RolloutSample } from "../report/rollouts.ts";
import type { RewardMeans, TrainMetrics } from "../report/metrics.ts";
import type { RewardBreakdown } from "../domain/reward.ts";
import { readMetrics } from "../report/run_folder.ts";
import { writeFileAtomic } from "../report/atomic_write.ts";
import { showProgress } from "../report/progress.ts";
import { answerOutcome, evaluateGreedy, summarize } from "./greedy_eval.ts";
import { DataOrder } from "./data_order.ts";

/** Settings of a run beyond the GRPO config. */
export interface TrainRun {
  readonly name: string;
  /** Run folder. */
  readonly out: string;
  /** Records folder (train.jsonl, val.jsonl, images). */
  readonly data: string;
  readonly grpo: GrpoConfig;
  readonly promptStyle: PromptStyle;
  /** Validation prompts per validation pass. */
  readonly valPrompts: number;
  /** Rollout samples are written every this many steps. */
  readonly rolloutEvery: number;
  /** Continue from the latest checkpoint in `out/checkpoints`. */
  readonly resume: boolean;
  /** Where the starting weights came from (recorded in config.json). */
  readonly model: string;
}

/** Mean of `f` over `xs` (0 for none). */
const mean = <T>(xs: ReadonlyArray<T>, f: (x: T) => number) =>
  xs.length === 0 ? 0 : xs.reduce((s, x) => s + f(x), 0) / xs.length;

/** Mean of each reward component. */
const rewardMeans = (rewards: ReadonlyArray<RewardBreakdown>): RewardMeans => ({
  overall: mean(rewards, (r) => r.overall),
  format: mean(rewards, (r) => r.format),
  count: mean(rewards, (r) => r.count),
  accuracy: mean(rewards, (r) => r.accuracy),
  spatial: mean(rewards, (r) => r.spatial),
});

const sceneRecord = (parsed: ScoredResponse["response"]) => {
  const scene = parsed.response.scene;
  return scene === undefined ? null : {
    objects: scene.objects.map((o) => ({
      id: o.id,
      bbox: [...o.bbox] as [number, number, number, number],
    })),
    relationships: [...scene.relationships],
  };
};

/** Loads a record file as cached prompt examples (image decode + tokenize on first use). */
const examplesOf = (file: string, run: TrainRun) =>
  Effect.gen(function* () {
    const { setup } = yield* Policy;
    const records = [...yield* Stream.runCollect(readJsonl(file, StvqaRecord))];
    const get = cachedPromptExamples(
      records,
      run.data,
      setup.tokenizer,
      processorSettings(setup.preprocessor),
      run.promptStyle,
    );
    return { records, get };
  });

/** Scores every rollout with the reward stage (which parses and grounds through its services). */
const scoreRollouts = (rollouts: ReadonlyArray<Rollout>) =>
  Effect.gen(function* () {
    const rewarder = yield* Rewarder;
    return yield* Effect.forEach(rollouts, (r) =>
      rewarder.score({
        response: r.text,
        groundTruth: r.example.record.answer_option_text,
        problem: r.example.record.problem,
      }));
  });

/** The GRPO run. Needs the five stage services and the metrics sink. */
export const runGrpo = Effect.fn("runGrpo")(function* (run: TrainRun) {
  const policy = yield* Policy;
  const reasoner = yield* Reasoner;
  const updater = yield* Updater;
  const sink = yield* MetricsSink;
  const g = run.grpo;
  const checkpoints = sink.paths.checkpoints;
  let start = 0;
  let dataPosition = { epoch: 0, position: 0 };
  if (run.resume) {
    yield* removeInterruptedSaves(checkpoints);
    const last = Option.getOrUndefined(yield* latestCheckpoint(checkpoints));
    if (last !== undefined) {
      // The policy continues from the checkpoint; the reference stays the starting model.
      const training = yield* loadTrainingState(last, policy.setup.config);
      const { weights } = yield* loadCheckpoint(last);
      const rt = policy.setup.vlm.runtime;
      policy.setup.vlm.params.load(
        rt,
        new Map([...weights].map(([name, values]) => [name, Float32Array.from(values)])),
      );
      policy.optimizer.load(rt, {
        m: training.expAvg,
        v: training.expAvgSq,
        step: training.state.optimizer.updates,
      });
      start = training.state.step;
      dataPosition = training.state.data_order;
      // Rows a killed run logged after its last checkpoint are replayed: drop them.
      const logged = yield* readMetrics(sink.paths.metrics).pipe(
        Effect.catchTag("RunFileError", () => Effect.succeed([])),
      );
      const kept = logged.filter((row) => row.step <= start);
      yield* writeFileAtomic(
        sink.paths.metrics,
        kept.map((r) => JSON.stringify(r) + "\n").join(""),
      );
    }
  }
  yield* sink.writeConfig({
    name: run.name,
    createdAt: new Date().toISOString(),
    seed: g.trainer.seed,
    model: run.model,
    dataset: run.data,
    reward: g.reward.variant,
    steps: g.trainer.steps,
    promptsPerStep: g.rollout.batchSize,
    groupSize: g.rollout.n,
    learningRate: g.actor.lr,
    klCoef: g.algorithm.klCoef,
    valEvery: Math.max(1, g.trainer.valFreq),
    rolloutEvery: run.rolloutEvery,
    grpo: g,
    promptStyle: run.promptStyle,
  });
  const train = yield* examplesOf(`${run.data}/train.jsonl`, run);
  const val = yield* examplesOf(`${run.data}/val.jsonl`, run);
  const order = new DataOrder(train.records.length, g.trainer.seed, dataPosition);

  const validate = Effect.fn("validate")(function* (step: number) {
    const examples = yield* Effect.forEach(
      Array.from({ length: Math.min(run.valPrompts, val.records.length) }, (_, i) => i),
      val.get,
    );
    const results = yield* Effect.promise(() =>
      evaluateGreedy(policy.setup, examples, {
        batchSize: 16,
        maxNewTokens: g.rollout.maxNewTokens,
        seed: g.trainer.seed,
      })
    );
    const summary = summarize(results);
    yield* sink.append({
      kind: "val",
      step,
      time: Date.now() / 1000,
      reward: rewardMeans(results.map((r) => r.reward)),
      accuracy: summary.accuracy,
      formatRate: summary.formatRate,
      objectRecall: summary.objectRecall,
      validAnswerRate: summary.validAnswerRate,
      responseLength: mean(results, (r) => policy.setup.tokenizer.encode(r.response).length),
      perCategory: Object.fromEntries(
        Object.entries(summary.perCategory).map((
          [k, v],
        ) => [k, { accuracy: v.accuracy, count: v.count }]),
      ),
    });
    return summary;
  });

  const checkpoint = (step: number) =>
    saveRunCheckpoint(checkpoints, policy.setup, policy.optimizer, {
      step,
      seed: g.trainer.seed,
      rng: {
        algorithm: "philox(seed·1000003 + step) / sfc32-fork(seed, epoch)",
        state: `${g.trainer.seed}`,
      },
      dataOrder: order.state,
      learningRate: g.actor.lr,
    });

  if (start === 0 && g.trainer.valFreq > 0) yield* validate(0);
  for (let step = start; step < g.trainer.steps; step++) {
    const t0 = performance.now();
    const prompts = yield* Effect.forEach(order.take(g.rollout.batchSize), train.get);
    const rollouts = yield* reasoner.rollouts(prompts, {
      n: g.rollout.n,
      temperature: g.rollout.temperature,
      topP: g.rollout.topP,
      maxNewTokens: g.rollout.maxNewTokens,
      seed: g.trainer.seed,
      step,
    });
    const t1 = performance.now();
    const scored = yield* scoreRollouts(rollouts);
    const rewards = scored.map((s) => s.breakdown.overall);
    const groups = rollouts.map((r) => r.group);
    const advantages = groupAdvantages(rewards, groups, {
      normalizeByStd: g.algorithm.normalizeAdvantageByStd,
    });
    const accuracy = scored.map((s) => s.breakdown.accuracy);
    const kept = g.algorithm.dynamicSampling
      ? keepInformativeGroups(accuracy, groups).keptResponses
      : rollouts.map((_, i) => i);
    const advantaged: AdvantagedRollout[] = kept.map((i) => ({
      ...rollouts[i]!,
      advantage: advantages[i]!,
    }));
    const t2 = performance.now();
    const lr = learningRateAt(step, { lr: g.actor.lr, warmupSteps: g.actor.warmupSteps });
    const updates = advantaged.length === 0 ? [] : yield* updater.update(advantaged, lr, {
      clipLow: g.algorithm.clipLow,
      clipHigh: g.algorithm.clipHigh,
      dualClip: g.algorithm.dualClip,
      klCoef: g.algorithm.klCoef,
      klEstimator: g.algorithm.klEstimator,
      aggregation: g.algorithm.aggregation,
      maxResponseLength: g.rollout.maxNewTokens,
      miniBatch: g.actor.miniBatchSize * g.rollout.n,
      microBatch: g.actor.microBatchSize,
      temperature: g.rollout.temperature,
    });
    const t3 = performance.now();
    const skipped = updates.filter((u) => !u.applied).length;
    if (skipped > 0) {
      yield* Effect.logWarning(
        `step ${step + 1}: ${skipped} update(s) skipped (non-finite loss or gradient)`,
      );
    }
    const tokens = updates.reduce((s, u) => s + u.tokens, 0);
    const stat = <K extends "clipFractionLow" | "clipFractionHigh" | "clipFractionDual" | "klMean">(
      k: K,
    ) => tokens === 0 ? 0 : updates.reduce((s, u) => s + u.statistics[k] * u.tokens, 0) / tokens;
    const outcomes = rollouts.map((r) => answerOutcome(r.text, r.example.record));
    const row: TrainMetrics = {
      kind: "train",
      step: step + 1,
      time: Date.now() / 1000,
      reward: rewardMeans(scored.map((s) => s.breakdown)),
      accuracy: mean(outcomes, (o) => o.correct ? 1 : 0),
      validAnswerRate: mean(outcomes, (o) => o.namesOneOption ? 1 : 0),
      formatRate: mean(scored, (s) => s.breakdown.format),
      zeroVarianceGroups: zeroVarianceGroupFraction(rewards, groups),
      clip: {
        low: stat("clipFractionLow"),
        high: stat("clipFractionHigh"),
        dual: stat("clipFractionDual"),
      },
      kl: stat("klMean"),
      entropy: tokens === 0
        ? 0
        : updates.reduce((s, u) => s + (u.statistics.entropyMean ?? 0) * u.tokens, 0) / tokens,
      responseLength: mean(rollouts, (r) => r.tokens.length),
      gradNorm: updates.length === 0
        ? 0
        : Math.max(...updates.map((u) => Number.isFinite(u.gradNorm) ? u.gradNorm : 0)),
      lr,
      tokensPerSecond: rollouts.reduce((s, r) => s + r.tokens.length, 0) / ((t3 - t0) / 1000),
      seconds: { rollout: (t1 - t0) / 1000, scoring: (t2 - t1) / 1000, update: (t3 - t2) / 1000 },
    };
    yield* sink.append(row);
    showProgress(
      row.step,
      g.trainer.steps,
      `reward ${row.reward.overall.toFixed(3)} (format ${row.reward.format.toFixed(2)} ` +
        `count ${row.reward.count.toFixed(2)} accuracy ${row.reward.accuracy.toFixed(2)} ` +
        `spatial ${row.reward.spatial.toFixed(2)}) kl ${row.kl.toExponential(2)} ` +
        `len ${row.responseLength.toFixed(0)} ${((t3 - t0) / 1000).toFixed(1)} s/step`,
    );
    if ((step + 1) % run.rolloutEvery === 0 || step + 1 === g.trainer.steps) {
      const samples: RolloutSample[] = [];
      for (const [i, r] of rollouts.slice(0, 8).entries()) {
        const record = r.example.record;
        const image = yield* sink.copyImage(
          `${run.data}/${record.image}`,
          record.image.split("/").pop()!,
        );
        const s = scored[i]!;
        samples.push({
          step: step + 1,
          promptId: record.image_id,
          sampleIndex: r.sample,
          category: record.category,
          question: record.question_with_options,
          groundTruthAnswer: record.answer_option_text_only,
          image: { path: image, width: record.width, height: record.height },
          response: r.text,
          predicted: sceneRecord(s.response),
          parseFailure: s.response.failures[0]?.rule ?? null,
          groundTruth: sceneRecord(parseResponse(record.answer_option_text)) ??
            { objects: [], relationships: [] },
          reward: s.breakdown,
          advantage: advantages[i]!,
        });
      }
      yield* sink.writeRollouts(step + 1, samples);
    }
    if (g.trainer.valFreq > 0 && (step + 1) % g.trainer.valFreq === 0) yield* validate(step + 1);
    if (
      (g.trainer.saveFreq > 0 && (step + 1) % g.trainer.saveFreq === 0) ||
      step + 1 === g.trainer.steps
    ) {
      yield* checkpoint(step + 1);
    }
  }
});
