/**
 * Visual Genome import: streams `scene_graphs.json`, looks up each image's size in
 * `image_data.json`, converts the annotations to our scene graphs and writes STVQA records for the
 * categories 2D annotations can answer (see `vg_questions.ts`), split by image into
 * `train/val/test.jsonl`. Image paths are relative to a VG image root (`VG_100K/1.jpg`).
 *
 * @module
 */
import { Effect, Schema, Stream } from "effect";
import { makeRng } from "../domain/random.ts";
import { convertVgScene, VgImageData, vgImagePath, VgSceneGraph } from "../scene/visual_genome.ts";
import { DEFAULT_SPLIT_FRACTIONS, type Split, splitOfScene, SPLITS } from "./balance.ts";
import { buildRecord } from "./build.ts";
import { streamJsonArray } from "./json_array.ts";
import { writeJsonl } from "./jsonl.ts";
import { CATEGORIES, type Category } from "./question.ts";
import {
  DatasetIoError,
  type RecordDecodeError,
  SourceRecordError,
  StvqaRecord,
} from "./record.ts";
import { withStagingFolder } from "./staging.ts";
import { VG_SKIPPED, vgQuestions } from "./vg_questions.ts";

/** What to import. */
export interface VgImportOptions {
  readonly sceneGraphs: string;
  readonly imageData: string;
  readonly out: string;
  readonly seed: number;
  /** Stop after this many images (all when undefined). */
  readonly maxImages?: number;
  /** Questions per category and image. */
  readonly perCategory: number;
}

/** Counts of an import. */
export interface VgImportSummary {
  readonly images: number;
  readonly records: Readonly<Record<Split, Readonly<Record<Category, number>>>>;
  /** Categories not produced, with the reason. */
  readonly skipped: Readonly<Partial<Record<Category, string>>>;
}

const describe = (error: unknown) =>
  String(error instanceof Error ? error.message : error).split("\n").slice(0, 4).join(" ");

/** Streams a JSON array file, decoding each element and naming file and element on failure. */
const decodedElements = <S extends Schema.Decoder<unknown>>(
  path: string,
  schema: S,
  label: (v: unknown) => string,
) => {
  const decode = Schema.decodeUnknownResult(schema);
  return Stream.fromAsyncIterable(
    streamJsonArray(path),
    (cause) =>
      new DatasetIoError({
        path,
        reason: `cannot read: ${describe(cause)}`,
      }),
  ).pipe(
    Stream.mapEffect((element) => {
      if ("error" in element) {
        return Effect.fail(
          new SourceRecordError({
            file: path,
            record: `element ${element.index}`,
            reason: `invalid JSON: ${element.error}`,
          }),
        );
      }
      const result = decode(element.value);
      return result._tag === "Success" ? Effect.succeed(result.success as S["Type"]) : Effect.fail(
        new SourceRecordError({
          file: path,
          record: `element ${element.index}${label(element.value)}`,
          reason: describe(result.failure),
        }),
      );
    }),
  );
};

const imageIdLabel = (v: unknown) => {
  const id = (v as { image_id?: unknown; id?: unknown } | null)?.image_id ??
    (v as { id?: unknown } | null)?.id;
  return typeof id === "number" ? ` (image_id ${id})` : "";
};

/**
 * Imports Visual Genome into `options.out` (written atomically; it must not exist yet).
 *
 * @example Import the bundled fixture
 * ```ts
 * import { Effect } from "effect";
 * import { importVisualGenome } from "./import_vg.ts";
 * const dir = await Deno.makeTempDir();
 * const out = `${dir}/vg`;
 * const summary = await Effect.runPromise(importVisualGenome({
 *   sceneGraphs: "data/fixtures/visual_genome/scene_graphs.json",
 *   imageData: "data/fixtures/visual_genome/image_data.json",
 *   out,
 *   seed: 1,
 *   perCategory: 2,
 * }));
 * await Deno.remove(dir, { recursive: true });
 * if (summary.images !== 3) throw new Error("expected the fixture's three images");
 * ```
 */
export const importVisualGenome = Effect.fn("importVisualGenome")(function* (
  options: VgImportOptions,
): Effect.fn.Return<
  VgImportSummary,
  DatasetIoError | SourceRecordError | RecordDecodeError
> {
  const sizes = new Map<number, { width: number; height: number; path: string }>();
  yield* Stream.runForEach(
    decodedElements(options.imageData, VgImageData, imageIdLabel),
    (image) =>
      Effect.gen(function* () {
        const id = image.image_id ?? image.id;
        if (id === undefined) {
          return yield* new SourceRecordError({
            file: options.imageData,
            record: `image of size ${image.width}×${image.height}`,
            reason: "has neither image_id nor id",
          });
        }
        sizes.set(id, {
          width: image.width,
          height: image.height,
          path: vgImagePath(id, image.url),
        });
      }),
  );
  const bySplit = new Map<Split, StvqaRecord[]>(SPLITS.map((s) => [s, []]));
  let images = 0;
  const root = makeRng(options.seed);
  const graphs = decodedElements(options.sceneGraphs, VgSceneGraph, imageIdLabel).pipe(
    options.maxImages === undefined ? (s) => s : Stream.take(options.maxImages),
  );
  yield* Stream.runForEach(graphs, (vg) =>
    Effect.gen(function* () {
      const size = sizes.get(vg.image_id);
      if (size === undefined) {
        return yield* new SourceRecordError({
          file: options.sceneGraphs,
          record: `image_id ${vg.image_id}`,
          reason: `no entry in ${options.imageData}, so the image size is unknown`,
        });
      }
      const scene = convertVgScene(vg, size.width, size.height);
      const index = images++;
      const split = splitOfScene(options.seed, vg.image_id, DEFAULT_SPLIT_FRACTIONS);
      const image = {
        imageId: String(vg.image_id),
        path: size.path,
        width: size.width,
        height: size.height,
      };
      for (const q of vgQuestions(scene, root.fork(index), options.perCategory)) {
        bySplit.get(split)!.push(
          buildRecord(q, { graph: scene.graph, stored: scene.graph }, image),
        );
      }
    }));
  const records = Object.fromEntries(
    SPLITS.map((
      s,
    ) => [
      s,
      Object.fromEntries(
        CATEGORIES.map((c) => [c, bySplit.get(s)!.filter((r) => r.category === c).length]),
      ),
    ]),
  ) as VgImportSummary["records"];
  const summary: VgImportSummary = { images, records, skipped: VG_SKIPPED };
  yield* withStagingFolder(options.out, (tmp) =>
    Effect.gen(function* () {
      for (const split of SPLITS) {
        yield* writeJsonl(
          `${tmp}/${split}.jsonl`,
          StvqaRecord,
          Stream.fromIterable(bySplit.get(split)!),
        );
      }
      yield* Effect.tryPromise({
        try: () =>
          Deno.writeTextFile(
            `${tmp}/summary.json`,
            JSON.stringify({ source: "visual_genome", ...summary }, null, 2) + "\n",
          ),
        catch: (cause) =>
          new DatasetIoError({ path: `${tmp}/summary.json`, reason: String(cause) }),
      });
    }));
  return summary;
});
