/**
 * Speed of the synthetic data pipeline: `deno bench -A bench/data_bench.ts`.
 *
 * - "render 64 scenes" is one GPU batch at 96×96 (one submit, one readback): scenes/s = 64 / time.
 * - "synthesise records for 64 scenes" is question synthesis, the ambiguity filter and record
 *   building on CPU: records/s = records per batch (printed once) / time.
 * - "generate 200 scenes end to end" runs the whole `deno task data` program (render, PNG, questions,
 *   balancing, JSONL, rename) into a temporary folder.
 *
 * Target: 10,000 records (2,000 scenes at 5 records each) in under 2 minutes on the 2-core machine.
 *
 * @module
 */
import { Effect, Layer, ManagedRuntime } from "effect";
import { Gpu } from "../src/gpu/gpu.ts";
import { buildRecord, scene3dOf } from "../src/dataset/build.ts";
import { DEFAULT_GENERATE_OPTIONS, generateDataset } from "../src/dataset/generate.ts";
import { synthesiseQuestions } from "../src/dataset/synthesise.ts";
import { encodeRgbPng } from "../src/scene/png.ts";
import { makeRng } from "../src/domain/random.ts";
import { SceneRenderer } from "../src/scene/render.ts";
import { sampleScene } from "../src/scene/sampler.ts";

const runtime = ManagedRuntime.make(SceneRenderer.layer.pipe(Layer.provide(Gpu.layer)));
const scenes = Array.from({ length: 64 }, (_, i) => sampleScene(makeRng(i), i));
const render = () => runtime.runPromise(Effect.flatMap(SceneRenderer, (r) => r.render(scenes)));
const rendered = await render();

const synthesise = () =>
  rendered.flatMap((r) => {
    const s = synthesiseQuestions(r, makeRng(r.scene.index));
    const image = {
      imageId: "b",
      path: "images/b.png",
      width: r.scene.width,
      height: r.scene.height,
    };
    const scene3d = scene3dOf(r);
    return s.questions.map((q) =>
      buildRecord(q, { graph: s.graph, stored: s.canonicalGraph }, image, scene3d)
    );
  });
console.log(`records per 64-scene batch before balancing: ${synthesise().length}`);

Deno.bench("sample 64 scenes", { group: "scenes" }, () => {
  for (let i = 0; i < 64; i++) sampleScene(makeRng(i), i);
});

Deno.bench("render 64 scenes (96×96, one submit and readback)", { group: "scenes" }, async () => {
  await render();
});

Deno.bench("encode 64 PNGs (96×96)", { group: "scenes" }, () => {
  for (const r of rendered) encodeRgbPng(r.rgba, r.scene.width, r.scene.height);
});

Deno.bench("synthesise records for 64 scenes", { group: "records" }, () => {
  synthesise();
});

const root = await Deno.makeTempDir({ prefix: "data_bench_" });
let run = 0;
Deno.bench("generate 200 scenes end to end (≈1,000 records)", {
  group: "end to end",
  n: 3,
  warmup: 1,
}, async () => {
  const out = `${root}/run${run++}`;
  await runtime.runPromise(
    generateDataset({ ...DEFAULT_GENERATE_OPTIONS, scenes: 200, out, seed: run }),
  );
  await Deno.remove(out, { recursive: true });
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(root, { recursive: true });
});
