/**
 * `deno task data`: generates the synthetic spatial VQA data set (rendered scenes, nine question
 * categories, STVQA records) with a progress bar and a per-category summary at the end.
 *
 * ```
 * deno task data --scenes 2000 --out data/generated/stvqa-synth --seed 1
 * ```
 *
 * @module
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node";
import { Console, Effect, Layer, Schema } from "effect";
import { Command, Flag } from "effect/cli";
import { Gpu } from "../gpu/gpu.ts";
import { SceneRenderer } from "../scene/render.ts";
import { paperShares } from "../dataset/balance.ts";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../dataset/generate.ts";
import { formatSummary } from "../dataset/summary.ts";

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

if (import.meta.main) {
  data.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  );
}
