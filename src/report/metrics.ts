/**
 * The metrics contract of a run folder: `runs/<name>/metrics.jsonl` holds one JSON object per line,
 * a tagged union on `kind`. The GRPO trainer appends a `"train"` row after every optimiser step
 * and a `"val"` row every `valEvery` steps; reports and the dashboard read them back.
 *
 * All numbers are finite (JSON has no NaN): a diverged run must stop or log a finite sentinel
 * rather than write `null`.
 *
 * @module
 */
import { Schema } from "effect";

const Finite = Schema.Finite;
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));
const Fraction = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }));
const Step = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/** Means over a step's rollouts of each reward component (paper §1.4: format, count, accuracy, spatial). */
export const RewardMeans = Schema.Struct({
  overall: Finite,
  format: Finite,
  count: Finite,
  accuracy: Finite,
  spatial: Finite,
});
/** Means over a step's rollouts of each reward component. */
export type RewardMeans = typeof RewardMeans.Type;

/** Share of policy-loss tokens whose ratio was clipped below, above, or by the dual-clip bound. */
export const ClipFractions = Schema.Struct({ low: Fraction, high: Fraction, dual: Fraction });
/** Share of tokens clipped by each PPO bound. */
export type ClipFractions = typeof ClipFractions.Type;

/** Wall-clock seconds a step spent generating rollouts, scoring them, and updating the policy. */
export const StepSeconds = Schema.Struct({
  rollout: NonNegative,
  scoring: NonNegative,
  update: NonNegative,
});
/** Wall-clock split of one step. */
export type StepSeconds = typeof StepSeconds.Type;

/** One GRPO optimiser step. `time` is seconds since the Unix epoch when the step ended. */
export const TrainMetrics = Schema.Struct({
  kind: Schema.Literal("train"),
  step: Step,
  time: NonNegative,
  reward: RewardMeans,
  /**
   * Share of rollouts whose answer names the right option, graded like the validation and the
   * benchmarks (the reward's exact-text accuracy is `reward.accuracy`).
   */
  accuracy: Fraction,
  /** Share of rollouts whose answer names exactly one option. */
  validAnswerRate: Schema.optionalKey(Fraction),
  /** Share of rollouts that pass the format check. */
  formatRate: Fraction,
  /** Share of prompt groups whose rewards are all equal (zero advantage, no learning signal). */
  zeroVarianceGroups: Fraction,
  clip: ClipFractions,
  /** Mean per-token KL to the reference policy (low-variance k3 estimator). */
  kl: Finite,
  /** Mean per-token entropy of the policy over sampled tokens, in nats. */
  entropy: Finite,
  /** Mean response length in tokens. */
  responseLength: NonNegative,
  gradNorm: NonNegative,
  lr: NonNegative,
  tokensPerSecond: NonNegative,
  seconds: StepSeconds,
}).annotate({ identifier: "TrainMetrics" });
/** One GRPO optimiser step. */
export type TrainMetrics = typeof TrainMetrics.Type;

/** Accuracy on the validation prompts of one question category. */
export const CategoryAccuracy = Schema.Struct({
  accuracy: Fraction,
  /** Number of validation prompts of this category. */
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
});
/** Accuracy on one category. */
export type CategoryAccuracy = typeof CategoryAccuracy.Type;

/** A validation pass after `step` steps (greedy decoding on the held-out split). */
export const ValMetrics = Schema.Struct({
  kind: Schema.Literal("val"),
  step: Step,
  time: NonNegative,
  reward: RewardMeans,
  /** Share of answers naming the right option (as for `TrainMetrics.accuracy`). */
  accuracy: Fraction,
  formatRate: Fraction,
  /** Share of the question's objects the responses' scene graphs name (reads the question?). */
  objectRecall: Schema.optionalKey(Fraction),
  /** Share of answers naming exactly one option. */
  validAnswerRate: Schema.optionalKey(Fraction),
  responseLength: NonNegative,
  /** Keyed by question category (relation, size, depth, …). */
  perCategory: Schema.Record(Schema.String, CategoryAccuracy),
}).annotate({ identifier: "ValMetrics" });
/** A validation pass. */
export type ValMetrics = typeof ValMetrics.Type;

/** One line of `metrics.jsonl`: a training step or a validation pass, told apart by `kind`. */
export const MetricsRow = Schema.Union([TrainMetrics, ValMetrics]);
/** One line of `metrics.jsonl`. */
export type MetricsRow = typeof MetricsRow.Type;

/** `true` for a training-step row. */
export const isTrainRow = (row: MetricsRow): row is TrainMetrics => row.kind === "train";

/** `true` for a validation row. */
export const isValRow = (row: MetricsRow): row is ValMetrics => row.kind === "val";
