/**
 * Typed failures of the run folder: reading, validating and writing metrics, rollouts, config and
 * reports. Every data error names the file and, for JSON Lines files, the 1-based line number.
 *
 * @module
 */
import { Schema } from "effect";

/** A record in a run file (a metrics line, a rollout line, config.json) does not fit its schema. */
export class RunRecordInvalid extends Schema.TaggedError<RunRecordInvalid>()("RunRecordInvalid", {
  file: Schema.String,
  /** 1-based line number for JSON Lines files; 0 for whole-file JSON such as config.json. */
  line: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}` : this.file;
    return `invalid record in ${where}: ${this.reason}`;
  }
}

/** A record was rejected before writing because it does not fit its schema; nothing was written. */
export class RunRecordRejected extends Schema.TaggedError<RunRecordRejected>()(
  "RunRecordRejected",
  { file: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `refused to write an invalid record to ${this.file}: ${this.reason}`;
  }
}

/** A run file could not be read or written (missing folder, permissions, full disk). */
export class RunFileError extends Schema.TaggedError<RunFileError>()("RunFileError", {
  file: Schema.String,
  operation: Schema.Literals(["read", "write", "copy", "list"]),
  reason: Schema.String,
}) {
  override get message(): string {
    return `could not ${this.operation} ${this.file}: ${this.reason}`;
  }
}

/** A plot or rollout image could not be rendered (vega or the rasteriser rejected its input). */
export class RenderFailed extends Schema.TaggedError<RenderFailed>()("RenderFailed", {
  what: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `could not render ${this.what}: ${this.reason}`;
  }
}
