import assert from "node:assert/strict";
import { Effect, Result } from "effect";
import { parsePredictions } from "../../src/eval/predictions.ts";
import { evaluateWithPredictor, PredictionFailed, Predictor } from "../../src/eval/predictor.ts";
import type { EvalRecord } from "../../src/eval/record.ts";

const record = (benchmark: string, id: string): EvalRecord => ({
  id,
  benchmark,
  category: "c",
  question: "q",
  choices: ["yes", "no"],
  answer: "A",
  images: [],
});
const RECORDS = [
  record("cv-bench-2d", "0"),
  record("cv-bench-3d", "0"),
  record("cv-bench-2d", "1"),
];

const failure = (text: string) => {
  const r = parsePredictions("p.jsonl", text, RECORDS);
  assert.ok(Result.isFailure(r), "expected a failure");
  return r.failure.message;
};

Deno.test("parsePredictions joins lines by id, using benchmark to tell repeated ids apart", () => {
  const r = parsePredictions(
    "p.jsonl",
    '{"id": 0, "benchmark": "cv-bench-3d", "prediction": "x"}\n\n{"id": "1", "prediction": "y"}\n',
    RECORDS,
  );
  assert.ok(Result.isSuccess(r));
  assert.deepEqual([...r.success], [["cv-bench-3d/0", "x"], ["cv-bench-2d/1", "y"]]);
});

Deno.test("parsePredictions asks for a benchmark field when an id is ambiguous", () => {
  assert.match(
    failure('{"id": 0, "prediction": "x"}'),
    /line 1: id 0 exists in cv-bench-2d and cv-bench-3d/,
  );
});

Deno.test("parsePredictions rejects unknown ids, duplicates, bad JSON and missing fields", () => {
  assert.match(failure('{"id": 7, "prediction": "x"}'), /line 1: id 7 is not a loaded record/);
  assert.match(
    failure('{"id": 1, "prediction": "x"}\n{"id": 1, "prediction": "y"}'),
    /line 2: a second prediction for cv-bench-2d\/1/,
  );
  assert.match(failure("{oops"), /line 1: not JSON/);
  assert.match(failure('{"id": 1}'), /line 1: prediction/);
});

Deno.test("evaluateWithPredictor scores each record with the plugged-in Predictor's output", async () => {
  const scored = await Effect.runPromise(
    evaluateWithPredictor(RECORDS).pipe(
      Effect.provide(
        Predictor.fromFunction((r) => Effect.succeed(r.id === "0" ? "<answer>yes</answer>" : "no")),
      ),
    ),
  );
  assert.deepEqual(scored.map((s) => s.correct), [true, true, false]);
});

Deno.test("evaluateWithPredictor fails with the Predictor's typed error", async () => {
  const error = await Effect.runPromise(
    Effect.flip(
      evaluateWithPredictor(RECORDS).pipe(
        Effect.provide(
          Predictor.fromFunction((r) =>
            Effect.fail(new PredictionFailed({ benchmark: r.benchmark, id: r.id, reason: "lost" }))
          ),
        ),
      ),
    ),
  );
  assert.equal(error.message, "prediction for cv-bench-2d/0 failed: lost");
});
