/**
 * The dataset record: every field of the published STVQA-7K schema plus the image path, its size
 * and the full scene graph (and, for synthetic scenes, the 3D ground truth). Records are validated
 * with this Schema on read and before write.
 *
 * @module
 */
import { Schema } from "effect";
import { SceneGraph } from "../domain/scene_graph.ts";
import { CATEGORIES, LEVELS } from "./question.ts";

/**
 * True for a relative POSIX path with no `..` segment, no backslash and no empty segment: image
 * paths are resolved against the data set folder and must never leave it.
 *
 * @example
 * ```ts
 * import { isSafeImagePath } from "./record.ts";
 * if (!isSafeImagePath("images/000001.png")) throw new Error("should be safe");
 * if (isSafeImagePath("../etc/passwd") || isSafeImagePath("/tmp/a.png")) throw new Error("unsafe");
 * ```
 */
export const isSafeImagePath = (path: string): boolean =>
  path.length > 0 && !path.startsWith("/") && !/^[a-zA-Z]:/.test(path) && !path.includes("\\") &&
  path.split("/").every((segment) => segment !== ".." && segment !== "." && segment !== "");

/** A relative image path inside the data set folder (see {@link isSafeImagePath}). */
export const ImagePath = Schema.String.check(
  Schema.makeFilter((path: string) =>
    isSafeImagePath(path) ||
    `image path must be relative and stay inside the data set folder (no "..", no leading "/"); got ${
      JSON.stringify(path)
    }`
  ),
);

const Vec3 = Schema.Tuple([Schema.Finite, Schema.Finite, Schema.Finite]);

/** 3D truth of one synthetic object (absent for imported real images). */
export const Object3d = Schema.Struct({
  id: Schema.String,
  shape: Schema.String,
  colour: Schema.String,
  size_class: Schema.String,
  size: Vec3,
  position: Vec3,
  yaw: Schema.Finite,
  supported_by: Schema.NullOr(Schema.String),
  depth: Schema.Finite,
  camera_distance: Schema.Finite,
  visible_fraction: Schema.Finite,
  visible_pixels: Schema.Int,
});
/** A decoded {@link Object3d}. */
export type Object3d = typeof Object3d.Type;

/** The camera and objects of a synthetic scene. */
export const Scene3d = Schema.Struct({
  camera: Schema.Struct({ eye: Vec3, target: Vec3, fov_y: Schema.Finite }),
  objects: Schema.Array(Object3d),
});
/** A decoded {@link Scene3d}. */
export type Scene3d = typeof Scene3d.Type;

/** One STVQA record (JSONL line). */
export const StvqaRecord = Schema.Struct({
  image_id: Schema.String,
  problem: Schema.String,
  question_only: Schema.String,
  question_with_options: Schema.String,
  options: Schema.Array(Schema.String),
  answer: Schema.String,
  answer_only: Schema.String,
  answer_text: Schema.String,
  answer_text_only: Schema.String,
  answer_option_text: Schema.String,
  answer_option_text_only: Schema.String,
  category: Schema.Literals(CATEGORIES),
  level: Schema.Literals(LEVELS),
  rating: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 })),
  image: ImagePath,
  width: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  height: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  scene_graph: SceneGraph,
  scene_3d: Schema.optionalKey(Scene3d),
});
/** A decoded {@link StvqaRecord}. */
export type StvqaRecord = typeof StvqaRecord.Type;

/** A record file or a record in it is malformed; names the file and the 1-based line. */
export class RecordDecodeError
  extends Schema.TaggedError<RecordDecodeError>()("RecordDecodeError", {
    file: Schema.String,
    line: Schema.Number,
    reason: Schema.String,
  }) {
  override get message(): string {
    return `${this.file}:${this.line}: ${this.reason}`;
  }
}

/** Reading or writing a data set file failed (missing folder, permissions, disk full). */
export class DatasetIoError extends Schema.TaggedError<DatasetIoError>()("DatasetIoError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.path}: ${this.reason}`;
  }
}

/**
 * A record of an upstream source file (Visual Genome JSON, STVQA parquet) is malformed or refers
 * to something missing; names the file and the record (position and id).
 */
export class SourceRecordError
  extends Schema.TaggedError<SourceRecordError>()("SourceRecordError", {
    file: Schema.String,
    record: Schema.String,
    reason: Schema.String,
  }) {
  override get message(): string {
    return `${this.file}, ${this.record}: ${this.reason}`;
  }
}
