/**
 * Supervised fine-tuning: teacher-forced training on dataset records with the response in the
 * paper's format, loss on response tokens only, AdamW with warm-up and cosine decay and gradient
 * clipping, NaN-guarded steps, metrics JSONL, atomic checkpoints with optimizer and data-order
 * state, and a greedy held-out evaluation at the end. It is the paper's SFT baseline and the cold
 * start for GRPO (the tiny model has no pre-training). With `task: "grounding"` it trains on box
 * questions instead ("Where is the red cube?" → its box), a warm-up that teaches a model from
 * scratch to look at the image, evaluated by IoU.
 *
 * @module
 */
import { Effect, Option, Schema, Stream } from "effect";
import { readJsonl } from "../dataset/jsonl.ts";
import { StvqaRecord } from "../dataset/record.ts";
import { Gpu } from "../gpu/gpu.ts";
import { Arena } from "../gpu/buffer_pool.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { packBatch, type SequenceSample } from "../nn/batch.ts";
import { latestCheckpoint, loadTrainingState, removeInterruptedSaves } from "../nn/checkpoint.ts";
import { AdamW } from "../nn/optimizer.ts";
import { recordSftLoss } from "../nn/sft_loss.ts";
import { optimizerStep } from "../nn/train_step.ts";
import { writeFileAtomic } from "../report/atomic_write.ts";
import { showProgress } from "../report/progress.ts";
import { DataOrder } from "./data_order.ts";
import { cachedPromptExamples, type PromptExample, sftSample } from "../stages/examples.ts";
import {
  cachedGroundingExamples,
  type GroundingExample,
  groundingItems,
  groundingSample,
} from "../stages/grounding_examples.ts";
import type { ImageUnreadable } from "../nn/image_file.ts";
import { evaluateGreedy, summarize } from "./greedy_eval.ts";
import { evaluateGrounding } from "./grounding_eval.ts";
import {
  modelFromCheckpoint,
  modelFromPreset,
  type ModelSetup,
  processorSettings,
  saveRunCheckpoint,
} from "../stages/model_setup.ts";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const Positive = Schema.Finite.check(Schema.isGreaterThan(0));

/** Every setting of an SFT run (recorded in the run folder). */
export const SftOptions = Schema.Struct({
  preset: Schema.Literals(["tiny", "small"]),
  /** Start from this checkpoint folder instead of fresh preset weights. */
  init: Schema.optionalKey(Schema.String),
  /** Records folder with train.jsonl, val.jsonl and the images. */
  data: Schema.String,
  /** Run folder: metrics, checkpoints, evaluation. */
  out: Schema.String,
  steps: PositiveInt,
  /** Sequences per optimizer step. */
  batchSize: PositiveInt,
  /** Sequences per forward/backward (gradients accumulate over a step's micro-batches). */
  microBatch: PositiveInt,
  lr: Positive,
  warmupSteps: NonNegativeInt,
  /** Cosine decay floor as a fraction of `lr`. */
  minLrRatio: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  weightDecay: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  maxGradNorm: Positive,
  /**
   * Loss weight of the response tokens outside the scene JSON (observation, reasoning, answer)
   * relative to the scene's; 1 = plain mean cross-entropy.
   */
  focusWeight: Positive,
  /** Relationships in the target scene graph: all of the question's subgraph, or the cited one. */
  sceneRelations: Schema.Literals(["all", "cited"]),
  /**
   * What the model learns: `stvqa`, the full response to each record's question; `grounding`, the
   * box of one object of a scene per sequence ("Where is the red cube?"), a warm-up that makes a
   * model from scratch look at the image.
   */
  task: Schema.Literals(["stvqa", "grounding"]),
  /**
   * With `task: "stvqa"`, the share of each batch that is grounding questions about the training
   * scenes, their box tokens weighted like the reasoning (`focusWeight`): it keeps a model from a
   * grounding warm-up looking at the image while it learns the full response. 0 = none.
   */
  groundingMix: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  seed: NonNegativeInt,
  promptStyle: Schema.Literals(["compact", "paper"]),
  /** Records whose SFT sequence is longer are skipped (counted in the summary). */
  maxTokens: PositiveInt,
  saveEvery: PositiveInt,
  /** Held-out prompts decoded greedily at the end (0 = none). */
  evalPrompts: NonNegativeInt,
  maxNewTokens: PositiveInt,
  resume: Schema.Boolean,
});
/** A decoded {@link SftOptions}. */
export type SftOptions = typeof SftOptions.Type;

/** Defaults for the `tiny` preset on a CPU adapter (see the README for the measured run). */
export const SFT_DEFAULTS: SftOptions = {
  preset: "tiny",
  data: "data/generated/stvqa-synth",
  out: "runs/sft-tiny",
  steps: 250,
  batchSize: 8,
  microBatch: 4,
  lr: 2e-3,
  warmupSteps: 20,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  focusWeight: 1,
  sceneRelations: "all",
  task: "stvqa",
  groundingMix: 0,
  seed: 1,
  promptStyle: "compact",
  maxTokens: 512,
  saveEvery: 100,
  evalPrompts: 64,
  maxNewTokens: 400,
  resume: false,
};

/** Linear warm-up to `lr`, then cosine decay to `lr · minLrRatio` at the last step. */
export const sftLearningRate = (step: number, o: SftOptions): number => {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.steps - o.warmupSteps));
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
};

const readRecords = (file: string) => Stream.runCollect(readJsonl(file, StvqaRecord));

/** The run's records as cached prompt examples. */
const exampleCache = (records: ReadonlyArray<StvqaRecord>, setup: ModelSetup, o: SftOptions) =>
  cachedPromptExamples(
    records,
    o.data,
    setup.tokenizer,
    processorSettings(setup.preprocessor),
    o.promptStyle,
  );

/** A run's training sequences (by index) and its held-out evaluation. */
interface TaskSource {
  readonly size: number;
  readonly sample: (i: number) => Effect.Effect<SequenceSample, ImageUnreadable>;
  /** The greedy held-out evaluation: a summary, and for `stvqa` the first responses. */
  readonly evaluate: (
    prompts: number,
  ) => Effect.Effect<{ readonly summary: unknown; readonly samples?: unknown }, ImageUnreadable>;
}

const stvqaSource = (
  train: ReadonlyArray<StvqaRecord>,
  val: ReadonlyArray<StvqaRecord>,
  setup: ModelSetup,
  o: SftOptions,
): TaskSource => {
  const example = exampleCache(train, setup, o);
  const imEnd = setup.generation.eos_token_id[0]!;
  return {
    size: train.length,
    sample: (i) =>
      Effect.map(example(i), (e) =>
        sftSample(e, setup.tokenizer, imEnd, {
          focusWeight: o.focusWeight,
          relations: o.sceneRelations,
        })),
    evaluate: Effect.fn("evaluateStvqa")(function* (prompts: number) {
      const valExample = exampleCache(val, setup, o);
      const examples: PromptExample[] = [];
      for (let i = 0; i < Math.min(prompts, val.length); i++) {
        examples.push(yield* valExample(i));
      }
      const results = yield* Effect.promise(() =>
        evaluateGreedy(setup, examples, {
          batchSize: 8,
          maxNewTokens: o.maxNewTokens,
          seed: o.seed,
        })
      );
      return { summary: summarize(results), samples: results.slice(0, 8) };
    }),
  };
};

/** `sample` with every response token weighted `weight` (1: unchanged). */
const weighted = (sample: SequenceSample, weight: number): SequenceSample =>
  weight === 1 ? sample : { ...sample, tokenWeights: sample.tokens.map(() => weight) };

const groundingSource = (
  train: ReadonlyArray<StvqaRecord>,
  val: ReadonlyArray<StvqaRecord>,
  setup: ModelSetup,
  o: SftOptions,
  weight = 1,
): TaskSource => {
  const processor = processorSettings(setup.preprocessor);
  const items = groundingItems(train);
  const example = cachedGroundingExamples(items, o.data, setup.tokenizer, processor);
  const imEnd = setup.generation.eos_token_id[0]!;
  return {
    size: items.length,
    sample: (i) =>
      Effect.map(example(i), (e) => weighted(groundingSample(e, setup.tokenizer, imEnd), weight)),
    evaluate: Effect.fn("evaluateGrounding")(function* (prompts: number) {
      const valItems = groundingItems(val).slice(0, prompts);
      const valExample = cachedGroundingExamples(valItems, o.data, setup.tokenizer, processor);
      const examples: GroundingExample[] = [];
      for (let i = 0; i < valItems.length; i++) examples.push(yield* valExample(i));
      const summary = yield* Effect.promise(() =>
        evaluateGrounding(setup, examples, { batchSize: 8, seed: o.seed })
      );
      return { summary };
    }),
  };
};

/** `extra` spread evenly through `primary`, so every micro-batch gets its share. */
const spreadEvenly = <A>(primary: ReadonlyArray<A>, extra: ReadonlyArray<A>): A[] => {
  const total = primary.length + extra.length;
  const out: A[] = [];
  let [p, e] = [0, 0];
  for (let i = 0; i < total; i++) {
    const extraDue = Math.floor(((i + 1) * extra.length) / total) > e;
    out.push(extraDue ? extra[e++]! : primary[p++]!);
  }
  return out;
};

/** The cursor of a {@link DataOrder} over `size` items after `taken` draws. */
const positionAfter = (taken: number, size: number) => ({
  epoch: Math.floor(taken / size),
  position: taken % size,
});

/** The SFT run as an Effect (needs the `Gpu` service). */
export const runSft = Effect.fn("runSft")(function* (o: SftOptions) {
  const gpu = yield* Gpu;
  const rt = new GpuRuntime(gpu);
  const checkpoints = `${o.out}/checkpoints`;
  if (o.resume) yield* removeInterruptedSaves(checkpoints);
  const resumeFrom = o.resume
    ? Option.getOrUndefined(yield* latestCheckpoint(checkpoints))
    : undefined;
  const setup: ModelSetup = resumeFrom !== undefined
    ? yield* modelFromCheckpoint(rt, resumeFrom)
    : o.init !== undefined
    ? yield* modelFromCheckpoint(rt, o.init)
    : yield* modelFromPreset(rt, o.preset, o.seed);
  const optimizer = new AdamW(rt, setup.vlm.params, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: o.weightDecay,
    maxGradNorm: o.maxGradNorm,
  });
  let dataPosition = { epoch: 0, position: 0 };
  let firstStep = 0;
  if (resumeFrom !== undefined) {
    const training = yield* loadTrainingState(resumeFrom, setup.config);
    optimizer.load(rt, {
      m: training.expAvg,
      v: training.expAvgSq,
      step: training.state.optimizer.updates,
    });
    dataPosition = training.state.data_order;
    firstStep = training.state.step;
  }
  const train = [...yield* readRecords(`${o.data}/train.jsonl`)];
  const val = [...yield* readRecords(`${o.data}/val.jsonl`)];
  const source = o.task === "grounding"
    ? groundingSource(train, val, setup, o)
    : stvqaSource(train, val, setup, o);
  const order = new DataOrder(source.size, o.seed, dataPosition);
  // The grounding share of a mixed batch: its order is a function of the step, so resume is exact.
  const groundingPerStep = o.task === "stvqa" ? Math.round(o.batchSize * o.groundingMix) : 0;
  const grounding = groundingPerStep === 0 ? undefined : (() => {
    const mixed = groundingSource(train, val, setup, o, o.focusWeight);
    const start = positionAfter(firstStep * groundingPerStep, mixed.size);
    return { source: mixed, order: new DataOrder(mixed.size, o.seed + 1, start) };
  })();
  yield* Effect.promise(() => Deno.mkdir(o.out, { recursive: true }));
  yield* writeFileAtomic(`${o.out}/sft_options.json`, JSON.stringify(o, null, 2));
  const metricsFile = `${o.out}/sft_metrics.jsonl`;
  const arena = new Arena(rt.pool);
  let skippedLong = 0;
  const started = performance.now();
  for (let step = firstStep; step < o.steps; step++) {
    const primary: SequenceSample[] = [];
    while (primary.length < o.batchSize - groundingPerStep) {
      const sample = yield* source.sample(order.next());
      if (sample.tokens.length > o.maxTokens) skippedLong++;
      else primary.push(sample);
    }
    const extra: SequenceSample[] = [];
    while (grounding !== undefined && extra.length < groundingPerStep) {
      extra.push(yield* grounding.source.sample(grounding.order.next()));
    }
    const samples = spreadEvenly(primary, extra);
    const micro = Math.ceil(o.batchSize / o.microBatch);
    const lr = sftLearningRate(step, o);
    const stepStart = performance.now();
    const outcome = yield* Effect.promise(() =>
      optimizerStep(
        setup.vlm,
        optimizer,
        arena,
        lr,
        (rec) =>
          Array.from({ length: micro }, (_, m) =>
            recordSftLoss(
              rec,
              arena,
              setup.vlm,
              packBatch(
                setup.config,
                samples.slice(m * o.microBatch, (m + 1) * o.microBatch),
                setup.generation.pad_token_id,
              ),
              1 / micro,
            )),
      )
    );
    const seconds = (performance.now() - stepStart) / 1000;
    const loss = outcome.readouts.reduce((s, r) => s + r[0]!, 0) / micro;
    const tokens = samples.reduce((s, x) => s + x.tokens.length, 0);
    const row = {
      step: step + 1,
      loss,
      gradNorm: outcome.gradNorm,
      lr,
      applied: outcome.applied,
      tokensPerSecond: tokens / seconds,
      seconds,
    };
    yield* Effect.promise(() =>
      Deno.writeTextFile(metricsFile, JSON.stringify(row) + "\n", { append: true })
    );
    showProgress(
      row.step,
      o.steps,
      `sft loss ${loss.toFixed(4)} |g| ${outcome.gradNorm.toFixed(3)} ` +
        `lr ${lr.toExponential(2)} ${seconds.toFixed(2)} s/step${
          outcome.applied ? "" : " (skipped: non-finite)"
        }`,
    );
    if (row.step % o.saveEvery === 0 || row.step === o.steps) {
      yield* saveRunCheckpoint(checkpoints, setup, optimizer, {
        step: row.step,
        seed: o.seed,
        rng: { algorithm: "sfc32-fork(seed, epoch)", state: `${o.seed}` },
        dataOrder: order.state,
        learningRate: lr,
      });
    }
  }
  const trainMinutes = (performance.now() - started) / 60000;
  if (o.evalPrompts === 0) return { trainMinutes, skippedLong };
  const evaluation = yield* source.evaluate(o.evalPrompts);
  yield* writeFileAtomic(
    `${o.out}/sft_eval.json`,
    JSON.stringify({ ...evaluation, trainMinutes, skippedLong }, null, 2),
  );
  return { trainMinutes, skippedLong, summary: evaluation.summary };
});
