/**
 * The seam where a model plugs into the harness: a `Predictor` turns one record into the
 * model's raw output text (greedy decoding, as in the paper's protocol). The harness only needs
 * this service, so our checkpoint, an API model or a stub for tests are interchangeable.
 *
 * @module
 */
import { Context, Effect, Layer, Schema } from "effect";
import type { EvalRecord } from "./record.ts";
import { recordKey, scoreAll, type ScoredPrediction } from "./scoring.ts";

/** The model failed on one record (decoding error, image unreadable, device lost …). */
export class PredictionFailed extends Schema.TaggedError<PredictionFailed>()("PredictionFailed", {
  benchmark: Schema.String,
  id: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `prediction for ${this.benchmark}/${this.id} failed: ${this.reason}`;
  }
}

/** Produces a model's raw output for a record. */
export class Predictor extends Context.Service<Predictor, {
  readonly predict: (record: EvalRecord) => Effect.Effect<string, PredictionFailed>;
}>()("spatial-thinker/eval/Predictor") {
  /** A Predictor from a plain function (for external systems, tests and baselines). */
  static readonly fromFunction = (
    predict: (record: EvalRecord) => Effect.Effect<string, PredictionFailed>,
  ): Layer.Layer<Predictor> => Layer.succeed(Predictor, Predictor.of({ predict }));
}

/**
 * Runs the Predictor on every record, in order, one at a time (the model owns the GPU), and
 * returns outputs keyed by `recordKey`.
 */
export const predictAll = Effect.fn("predictAll")(function* (
  records: ReadonlyArray<EvalRecord>,
): Effect.fn.Return<ReadonlyMap<string, string>, PredictionFailed, Predictor> {
  const predictor = yield* Predictor;
  const outputs = new Map<string, string>();
  for (const r of records) outputs.set(recordKey(r), yield* predictor.predict(r));
  return outputs;
});

/**
 * Predicts and scores every record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { evaluateWithPredictor, Predictor } from "./predictor.ts";
 * const records = [{ id: "1", benchmark: "b", category: "c", question: "q", choices: ["x", "y"], answer: "B", images: [] }];
 * const scored = await Effect.runPromise(
 *   evaluateWithPredictor(records).pipe(
 *     Effect.provide(Predictor.fromFunction(() => Effect.succeed("<answer>(B) y</answer>"))),
 *   ),
 * );
 * assert.equal(scored[0]!.correct, true);
 * ```
 */
export const evaluateWithPredictor = Effect.fn("evaluateWithPredictor")(function* (
  records: ReadonlyArray<EvalRecord>,
): Effect.fn.Return<ReadonlyArray<ScoredPrediction>, PredictionFailed, Predictor> {
  return scoreAll(records, yield* predictAll(records));
});
