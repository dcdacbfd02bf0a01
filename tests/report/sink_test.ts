import assert from "node:assert/strict";
import { Effect, Exit, Layer } from "effect";
import { join } from "node:path";
import { readConfig, readMetrics, readRollouts, runPaths } from "../../src/report/run_folder.ts";
import { MetricsSink } from "../../src/report/sink.ts";
import type { MetricsRow } from "../../src/report/metrics.ts";
import type { RolloutSample } from "../../src/report/rollouts.ts";
import { copyFixtureRun, FIXTURE_RUN, trainRow } from "./fixture.ts";

const withSink = <A, E>(
  root: string,
  body: (sink: MetricsSink["Service"]) => Effect.Effect<A, E>,
) =>
  Effect.runPromiseExit(
    Effect.gen(function* () {
      return yield* body(yield* MetricsSink);
    }).pipe(Effect.provide(MetricsSink.layer(root))),
  );

const freshRun = async () => {
  const parent = await Deno.makeTempDir({ prefix: "sink-test-" });
  return {
    root: join(parent, "run"),
    [Symbol.asyncDispose]: () => Deno.remove(parent, { recursive: true }),
  };
};

const fixtureSamples = () => Effect.runPromise(readRollouts(runPaths(FIXTURE_RUN).rollouts, 10));

Deno.test("MetricsSink creates the run folder and appends rows that read back unchanged", async () => {
  await using run = await freshRun();
  const rows: Array<MetricsRow> = [trainRow(1), trainRow(2, 0.75)];
  const exit = await withSink(run.root, (sink) => Effect.forEach(rows, sink.append));
  assert.ok(Exit.isSuccess(exit));
  assert.ok((await Deno.stat(join(run.root, "checkpoints"))).isDirectory);
  assert.deepEqual(await Effect.runPromise(readMetrics(runPaths(run.root).metrics)), rows);
});

Deno.test("MetricsSink refuses a row with a NaN KL and leaves metrics.jsonl untouched", async () => {
  await using run = await freshRun();
  const exit = await withSink(
    run.root,
    (sink) =>
      Effect.andThen(sink.append(trainRow(1)), sink.append({ ...trainRow(2), kl: Number.NaN })),
  );
  assert.ok(Exit.isFailure(exit));
  assert.match(
    String(exit.cause.reasons[0]?._tag === "Fail" && exit.cause.reasons[0].error),
    /\["kl"\]/,
  );
  const rows = await Effect.runPromise(readMetrics(runPaths(run.root).metrics));
  assert.deepEqual(rows.map((r) => r.step), [1]);
});

Deno.test("MetricsSink writes rollouts whole and refuses image paths outside the run", async () => {
  await using run = await freshRun();
  const samples = await fixtureSamples();
  const escaping: RolloutSample = {
    ...samples[0]!,
    image: { ...samples[0]!.image, path: "../../etc/passwd" },
  };
  const refused = await withSink(
    run.root,
    (sink) => sink.writeRollouts(10, [samples[1]!, escaping]),
  );
  assert.ok(Exit.isFailure(refused));
  assert.deepEqual([...Deno.readDirSync(runPaths(run.root).rollouts)].map((e) => e.name), [
    "images",
  ]);

  const mismatched = await withSink(run.root, (sink) => sink.writeRollouts(20, samples));
  assert.ok(Exit.isFailure(mismatched));

  const written = await withSink(run.root, (sink) => sink.writeRollouts(10, samples));
  assert.ok(Exit.isSuccess(written));
  assert.deepEqual(await Effect.runPromise(readRollouts(runPaths(run.root).rollouts, 10)), samples);
});

Deno.test("MetricsSink copies an image in under a plain name and refuses other names", async () => {
  await using run = await freshRun();
  const source = join(FIXTURE_RUN, "rollouts", "images", "scene-0001.png");
  const copied = await withSink(run.root, (sink) => sink.copyImage(source, "scene-7.png"));
  assert.deepEqual(copied, Exit.succeed("rollouts/images/scene-7.png"));
  assert.deepEqual(
    await Deno.readFile(join(run.root, "rollouts", "images", "scene-7.png")),
    await Deno.readFile(source),
  );
  for (const name of ["../x.png", "a/b.png", "x.svg", ".hidden.png"]) {
    assert.ok(
      Exit.isFailure(await withSink(run.root, (sink) => sink.copyImage(source, name))),
      name,
    );
  }
});

Deno.test("MetricsSink writes config.json with extra keys and refuses an invalid config", async () => {
  await using run = await freshRun();
  const { config, raw } = await Effect.runPromise(readConfig(runPaths(FIXTURE_RUN).config));
  const extra = { ...config, maxResponseTokens: 256 };
  assert.ok(Exit.isSuccess(await withSink(run.root, (sink) => sink.writeConfig(extra))));
  assert.deepEqual((await Effect.runPromise(readConfig(runPaths(run.root).config))).raw, raw);
  const bad = await withSink(run.root, (sink) => sink.writeConfig({ ...config, groupSize: 0 }));
  assert.ok(Exit.isFailure(bad));
  assert.deepEqual((await Effect.runPromise(readConfig(runPaths(run.root).config))).raw, raw);
});

Deno.test("MetricsSink.layer fails with RunFileError when the folder cannot be created", async () => {
  await using run = await copyFixtureRun();
  const exit = await Effect.runPromiseExit(
    Layer.build(MetricsSink.layer(join(run.root, "config.json", "nested"))).pipe(Effect.scoped),
  );
  assert.ok(Exit.isFailure(exit));
});
