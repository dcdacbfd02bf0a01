/**
 * Typed failures of the evaluation harness. Each names the file and, for record errors, the
 * record (row number, 1-based, and id when known), so a user can find and fix the input.
 *
 * @module
 */
import { Schema } from "effect";

/** A benchmark or predictions file could not be found, read or parsed as a whole. */
export class EvalFileError extends Schema.TaggedError<EvalFileError>()("EvalFileError", {
  file: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.file}: ${this.reason}`;
  }
}

/** One record of a benchmark file does not have the benchmark's published layout. */
export class BenchmarkRecordInvalid
  extends Schema.TaggedError<BenchmarkRecordInvalid>()("BenchmarkRecordInvalid", {
    file: Schema.String,
    row: Schema.Number,
    reason: Schema.String,
  }) {
  override get message(): string {
    return `${this.file}, record ${this.row}: ${this.reason}`;
  }
}

/** A predictions file line is malformed, duplicated or names a record that does not exist. */
export class PredictionInvalid extends Schema.TaggedError<PredictionInvalid>()(
  "PredictionInvalid",
  {
    file: Schema.String,
    line: Schema.Number,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `${this.file}, line ${this.line}: ${this.reason}`;
  }
}

/** The benchmark name is not one the harness knows. */
export class BenchmarkUnknown extends Schema.TaggedError<BenchmarkUnknown>()("BenchmarkUnknown", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
}) {
  override get message(): string {
    return `unknown benchmark "${this.name}"; known: ${this.known.join(", ")}`;
  }
}
