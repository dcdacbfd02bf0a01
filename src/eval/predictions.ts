/**
 * External predictions: a JSONL file with one `{"id", "prediction", "benchmark"?}` object per
 * line, from any system (ours, an API model, another paper's outputs), joined to the loaded
 * records so every system is scored by the same extraction and metrics.
 *
 * @module
 */
import { Effect, Result, Schema, SchemaIssue } from "effect";
import { EvalFileError, PredictionInvalid } from "./errors.ts";
import type { EvalRecord } from "./record.ts";
import { recordKey } from "./scoring.ts";

/** One line of a predictions file. */
export const PredictionLine = Schema.Struct({
  /** The record id (numbers are accepted and read as their decimal text). */
  id: Schema.Union([Schema.String, Schema.Number]),
  /** The raw model output, tags and reasoning included. */
  prediction: Schema.String,
  /** Needed only when the same id exists in several loaded benchmarks (CV-Bench 2D and 3D). */
  benchmark: Schema.optionalKey(Schema.String),
});

/**
 * Joins predictions JSONL text to `records`: returns outputs keyed by `recordKey`. A line that
 * is not a prediction object, names an unknown or ambiguous id, or repeats a record is a
 * `PredictionInvalid` naming the file and line; records without a line are left out (scored as
 * missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { parsePredictions } from "./predictions.ts";
 * const records = [{ id: "7", benchmark: "mmvp", category: "all", question: "q", choices: ["a", "b"], answer: "A", images: [] }];
 * const r = parsePredictions("p.jsonl", '{"id": 7, "prediction": "(a)"}\n', records);
 * assert.ok(Result.isSuccess(r) && r.success.get("mmvp/7") === "(a)");
 * ```
 */
export const parsePredictions = (
  file: string,
  text: string,
  records: ReadonlyArray<EvalRecord>,
): Result.Result<ReadonlyMap<string, string>, PredictionInvalid> => {
  const byId = new Map<string, Array<EvalRecord>>();
  for (const r of records) {
    const list = byId.get(r.id);
    if (list === undefined) byId.set(r.id, [r]);
    else list.push(r);
  }
  const outputs = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    const fail = (reason: string) =>
      Result.fail(new PredictionInvalid({ file, line: i + 1, reason }));
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (cause) {
      return fail(`not JSON: ${cause}`);
    }
    const decoded = Schema.decodeUnknownResult(PredictionLine)(json);
    if (Result.isFailure(decoded)) {
      const [issue] = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues;
      return fail(`${(issue?.path ?? []).join(".") || "line"}: ${issue?.message}`);
    }
    const line = decoded.success;
    const id = String(line.id);
    const candidates = (byId.get(id) ?? []).filter((r) =>
      line.benchmark === undefined || r.benchmark === line.benchmark
    );
    if (candidates.length === 0) {
      return fail(
        `id ${id}${line.benchmark ? ` of ${line.benchmark}` : ""} is not a loaded record`,
      );
    }
    if (candidates.length > 1) {
      return fail(
        `id ${id} exists in ${candidates.map((r) => r.benchmark).join(" and ")}; ` +
          `add a "benchmark" field`,
      );
    }
    const key = recordKey(candidates[0]!);
    if (outputs.has(key)) return fail(`a second prediction for ${key}`);
    outputs.set(key, line.prediction);
  }
  return Result.succeed(outputs);
};

/** Reads and joins a predictions file (see {@link parsePredictions}). */
export const readPredictions = Effect.fn("readPredictions")(function* (
  file: string,
  records: ReadonlyArray<EvalRecord>,
): Effect.fn.Return<ReadonlyMap<string, string>, EvalFileError | PredictionInvalid> {
  const text = yield* Effect.tryPromise({
    try: () => Deno.readTextFile(file),
    catch: (cause) => new EvalFileError({ file, reason: String(cause) }),
  });
  return yield* Effect.fromResult(parsePredictions(file, text, records));
});
