/**
 * `MetricsSink`: the service a trainer uses to write its run folder. Every record is validated
 * against the run-folder schemas before anything touches the disk, metrics lines are appended
 * whole, and config, rollout files and images are written through a temp file and a rename, so
 * readers (reports, the live dashboard) never see a half-written file.
 *
 * @module
 */
import { Context, Effect, Layer, Result, Schema } from "effect";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic_write.ts";
import { RunFileError, RunRecordRejected } from "./errors.ts";
import { MetricsRow } from "./metrics.ts";
import { RolloutSample } from "./rollouts.ts";
import { RunConfig } from "./run_config.ts";
import { rolloutFileName, type RunPaths, runPaths } from "./run_folder.ts";
import { runRelativeSegments } from "./safe_path.ts";

/** What a trainer can write into its run folder. */
export interface MetricsSinkShape {
  readonly paths: RunPaths;
  /** Writes `config.json`; keys beyond `RunConfig` are kept as given. */
  readonly writeConfig: (
    config: RunConfig & Readonly<Record<string, unknown>>,
  ) => Effect.Effect<void, RunRecordRejected | RunFileError>;
  /** Appends one row to `metrics.jsonl`. */
  readonly append: (row: MetricsRow) => Effect.Effect<void, RunRecordRejected | RunFileError>;
  /** Writes `rollouts/step-NNNNNN.jsonl`; every sample must carry this `step`. */
  readonly writeRollouts: (
    step: number,
    samples: ReadonlyArray<RolloutSample>,
  ) => Effect.Effect<void, RunRecordRejected | RunFileError>;
  /**
   * Copies an image into `rollouts/images/<name>` and returns its run-relative path, to be used
   * as `RolloutSample.image.path`.
   */
  readonly copyImage: (
    source: string,
    name: string,
  ) => Effect.Effect<string, RunRecordRejected | RunFileError>;
}

const validate = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  file: string,
  value: unknown,
) =>
  Effect.fromResult(
    Result.mapError(
      Schema.decodeUnknownResult(schema)(value),
      (error) => new RunRecordRejected({ file, reason: error.message }),
    ),
  );

const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(png|jpe?g)$/;

const make = Effect.fn("MetricsSink.make")(function* (root: string) {
  const paths = runPaths(root);
  yield* Effect.tryPromise({
    try: async () => {
      await mkdir(paths.rolloutImages, { recursive: true });
      await mkdir(paths.checkpoints, { recursive: true });
    },
    catch: (cause) => new RunFileError({ file: root, operation: "write", reason: String(cause) }),
  });

  const writeConfig = Effect.fn("MetricsSink.writeConfig")(
    function* (config: RunConfig & Readonly<Record<string, unknown>>) {
      yield* validate(RunConfig, paths.config, config);
      yield* writeFileAtomic(paths.config, JSON.stringify(config, null, 2) + "\n");
    },
  );

  const append = Effect.fn("MetricsSink.append")(function* (row: MetricsRow) {
    const valid = yield* validate(MetricsRow, paths.metrics, row);
    // One write of one whole line: readers skip a last line that has no `\n` yet.
    yield* Effect.tryPromise({
      try: () => Deno.writeTextFile(paths.metrics, JSON.stringify(valid) + "\n", { append: true }),
      catch: (cause) =>
        new RunFileError({ file: paths.metrics, operation: "write", reason: String(cause) }),
    });
  });

  const writeRollouts = Effect.fn("MetricsSink.writeRollouts")(
    function* (step: number, samples: ReadonlyArray<RolloutSample>) {
      const file = join(paths.rollouts, rolloutFileName(step));
      const lines: Array<string> = [];
      for (const [index, sample] of samples.entries()) {
        const valid = yield* validate(RolloutSample, `${file} (sample ${index})`, sample);
        if (valid.step !== step) {
          return yield* new RunRecordRejected({
            file,
            reason: `sample ${index} is from step ${valid.step}, not ${step}`,
          });
        }
        if (runRelativeSegments(valid.image.path) === undefined) {
          return yield* new RunRecordRejected({
            file,
            reason: `sample ${index}: image path ${
              JSON.stringify(valid.image.path)
            } is not a plain path inside the run folder`,
          });
        }
        lines.push(JSON.stringify(valid) + "\n");
      }
      yield* writeFileAtomic(file, lines.join(""));
    },
  );

  const copyImage = Effect.fn("MetricsSink.copyImage")(function* (source: string, name: string) {
    if (!IMAGE_NAME.test(name)) {
      return yield* new RunRecordRejected({
        file: paths.rolloutImages,
        reason: `image name ${JSON.stringify(name)} must be a plain .png/.jpg file name`,
      });
    }
    const target = join(paths.rolloutImages, name);
    const temp = `${target}.tmp-${Deno.pid}`;
    yield* Effect.tryPromise({
      try: async () => {
        try {
          await copyFile(source, temp);
          await Deno.rename(temp, target);
        } catch (cause) {
          await Deno.remove(temp).catch(() => undefined);
          throw cause;
        }
      },
      catch: (cause) =>
        new RunFileError({ file: source, operation: "copy", reason: String(cause) }),
    });
    return `rollouts/images/${name}`;
  });

  return { paths, writeConfig, append, writeRollouts, copyImage } satisfies MetricsSinkShape;
});

/** Writes a run folder: config, metrics rows, rollout samples and their images. */
export class MetricsSink extends Context.Service<MetricsSink, MetricsSinkShape>()(
  "spatial-thinker/report/MetricsSink",
) {
  /** A sink writing into `root` (created with `rollouts/images/` and `checkpoints/` if absent). */
  static readonly layer = (root: string): Layer.Layer<MetricsSink, RunFileError> =>
    Layer.effect(MetricsSink, make(root));
}
