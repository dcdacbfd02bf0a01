/**
 * `deno task data`: generates the synthetic spatial VQA data set (rendered scenes, nine question
 * categories, STVQA records) with a progress bar and a per-category summary at the end.
 *
 * ```
 * deno task data --scenes 2000 --out data/generated/stvqa-synth --seed 1
 * deno task data import-vg --scene-graphs scene_graphs.json --image-data image_data.json --out data/generated/vg
 * deno task data import-stvqa --parquet train-00000-of-00001.parquet --split train --out data/generated/stvqa-7k
 * ```
 *
 * @module
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node";
import { Console, Effect, Layer, Option, Schema } from "effect";
import { Command, Flag } from "effect/cli";
import { Gpu } from "../gpu/gpu.ts";
import { SceneRenderer } from "../scene/render.ts";
import { paperShares } from "../dataset/balance.ts";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../dataset/generate.ts";
import { formatCounts, formatSummary } from "../dataset/summary.ts";
import { importVisualGenome } from "../dataset/import_vg.ts";
import { importStvqaParquet } from "../dataset/import_stvqa.ts";

/** A one-line progress bar on stderr, redrawn in place. */
const progressBar = () => {
  const started = performance.now();
  const encoder = new TextEncoder();
  return (done: number, total: number) => {
    const width = 30;
    const filled = Math.round(width * done / total);
    const rate = done / ((performance.now() - started) / 1000);
    Deno.stderr.writeSync(encoder.encode(
      `\rscenes [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ` +
        `${rate.toFixed(1)}/s${done === total ? "\n" : ""}`,
    ));
  };
};

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1));

const positiveInt = (name: string, fallback: number) =>
  Flag.Int(name).pipe(Flag.withSchema(PositiveInt), Flag.withDefault(fallback));

const data = Command.make(
  "data",
  {
    scenes: positiveInt("scenes", DEFAULT_GENERATE_OPTIONS.scenes).pipe(
      Flag.withDescription("Number of scenes (images) to render"),
    ),
    out: Flag.String("out").pipe(
      Flag.withDescription("Output folder (must not exist), e.g. data/generated/stvqa-synth"),
    ),
    seed: Flag.Int("seed").pipe(
      Flag.withDefault(DEFAULT_GENERATE_OPTIONS.seed),
      Flag.withDescription("Seed of every random choice; the same seed gives identical bytes"),
    ),
    size: positiveInt("size", DEFAULT_GENERATE_OPTIONS.width).pipe(
      Flag.withDescription("Image side in pixels (96 for the CPU model, e.g. 448 for real models)"),
    ),
    recordsPerScene: positiveInt("records-per-scene", DEFAULT_GENERATE_OPTIONS.recordsPerScene)
      .pipe(Flag.withDescription("Records per image the balancer aims for")),
    relationShare: Flag.Finite("relation-share").pipe(
      Flag.withSchema(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
      Flag.withDefault(0.5),
      Flag.withDescription("Share of relation questions; the rest is split equally"),
    ),
    batch: positiveInt("batch", DEFAULT_GENERATE_OPTIONS.batchSize).pipe(
      Flag.withDescription("Scenes rendered per GPU submit"),
    ),
  },
  Effect.fn("data")(function* ({ scenes, out, seed, size, recordsPerScene, relationShare, batch }) {
    const summary = yield* generateDataset({
      ...DEFAULT_GENERATE_OPTIONS,
      scenes,
      out,
      seed,
      width: size,
      height: size,
      recordsPerScene,
      shares: paperShares(relationShare),
      batchSize: batch,
      onProgress: progressBar(),
    }).pipe(Effect.provide(SceneRenderer.layer.pipe(Layer.provide(Gpu.layer))));
    yield* Console.log(formatSummary(summary));
    yield* Console.log(`wrote ${out}/{train,val,test}.jsonl, ${out}/images/, ${out}/summary.json`);
  }),
).pipe(Command.withDescription("Render synthetic 3D scenes and write spatial VQA records"));

const importVg = Command.make(
  "import-vg",
  {
    sceneGraphs: Flag.String("scene-graphs").pipe(
      Flag.withDescription("Visual Genome scene_graphs.json"),
    ),
    imageData: Flag.String("image-data").pipe(
      Flag.withDescription("Visual Genome image_data.json (image sizes and URLs)"),
    ),
    out: Flag.String("out").pipe(Flag.withDescription("Output folder (must not exist)")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(1)),
    maxImages: Flag.Int("max-images").pipe(Flag.withSchema(PositiveInt), Flag.optional),
    perCategory: positiveInt("per-category", 2).pipe(
      Flag.withDescription("Questions per category and image"),
    ),
  },
  Effect.fn("import-vg")(function* ({ sceneGraphs, imageData, out, seed, maxImages, perCategory }) {
    const summary = yield* importVisualGenome({
      sceneGraphs,
      imageData,
      out,
      seed,
      perCategory,
      ...(Option.isSome(maxImages) ? { maxImages: maxImages.value } : {}),
    });
    yield* Console.log(formatCounts(summary.records));
    for (const [category, reason] of Object.entries(summary.skipped)) {
      yield* Console.log(`skipped ${category}: ${reason}`);
    }
    yield* Console.log(`imported ${summary.images} images into ${out}`);
  }),
).pipe(Command.withDescription("Import Visual Genome scene graphs as spatial VQA records"));

const importStvqa = Command.make(
  "import-stvqa",
  {
    parquet: Flag.String("parquet").pipe(
      Flag.withDescription("A published STVQA-7K parquet file (one split)"),
    ),
    split: Flag.String("split").pipe(
      Flag.withDefault("train"),
      Flag.withDescription("Name of the JSONL file to write (<split>.jsonl)"),
    ),
    out: Flag.String("out").pipe(Flag.withDescription("Output folder (must not exist)")),
  },
  Effect.fn("import-stvqa")(function* ({ parquet, split, out }) {
    const summary = yield* importStvqaParquet({ parquet, split, out });
    yield* Console.log(formatCounts({ [split]: summary.records }));
    yield* Console.log(
      `imported ${summary.rows} rows and ${summary.images} images into ${out}` +
        (summary.sizeMismatches > 0
          ? ` (${summary.sizeMismatches} JPEGs differ from the prompt's image size; the prompt's size is kept)`
          : ""),
    );
  }),
).pipe(Command.withDescription("Import a published STVQA-7K parquet file as our records"));

if (import.meta.main) {
  data.pipe(
    Command.withSubcommands([importVg, importStvqa]),
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  );
}
