import assert from "node:assert/strict";
import { Effect, Exit } from "effect";
import { join } from "node:path";
import { startOfFile } from "../../src/report/jsonl.ts";
import {
  listRolloutSteps,
  readConfig,
  readMetrics,
  readMetricsTail,
  readRollouts,
  rolloutFileName,
  rolloutStepOf,
  runPaths,
} from "../../src/report/run_folder.ts";
import { copyFixtureRun, FIXTURE_RUN, trainRow } from "./fixture.ts";

const fixture = runPaths(FIXTURE_RUN);

Deno.test("the fixture run folder reads back with 12 train rows and 2 validation rows", async () => {
  const rows = await Effect.runPromise(readMetrics(fixture.metrics));
  assert.equal(rows.filter((r) => r.kind === "train").length, 12);
  assert.deepEqual(rows.filter((r) => r.kind === "val").map((r) => r.step), [5, 10]);
  const { config, raw } = await Effect.runPromise(readConfig(fixture.config));
  assert.equal(config.groupSize, 4);
  assert.equal(raw["maxResponseTokens"], 256, "keys beyond the contract are kept in raw");
});

Deno.test("readMetrics fails on a broken line with the file and line number", async () => {
  await using run = await copyFixtureRun();
  const { metrics } = runPaths(run.root);
  const lines = (await Deno.readTextFile(metrics)).split("\n");
  lines[2] = lines[2]!.replace('"accuracy":', '"accuracy":"high","was":');
  await Deno.writeTextFile(metrics, lines.join("\n"));
  const exit = await Effect.runPromiseExit(readMetrics(metrics));
  assert.ok(Exit.isFailure(exit));
  const error = exit.cause.reasons[0];
  assert.ok(error?._tag === "Fail" && error.error._tag === "RunRecordInvalid");
  assert.equal(error.error.file, metrics);
  assert.equal(error.error.line, 3);
});

Deno.test("readMetricsTail returns only complete appended rows and reports invalid lines", async () => {
  await using run = await copyFixtureRun();
  const { metrics } = runPaths(run.root);
  const all = await Effect.runPromise(readMetricsTail(metrics, startOfFile));
  assert.equal(all.rows.length, 14);
  assert.equal(all.restarted, false);

  const row = JSON.stringify(trainRow(13));
  await Deno.writeTextFile(metrics, `not json\n${row.slice(0, 20)}`, { append: true });
  const partial = await Effect.runPromise(readMetricsTail(metrics, all.next));
  assert.equal(partial.rows.length, 0);
  assert.equal(partial.invalid.length, 1);
  assert.equal(partial.invalid[0]!.line, all.next.line);

  await Deno.writeTextFile(metrics, `${row.slice(20)}\n`, { append: true });
  const completed = await Effect.runPromise(readMetricsTail(metrics, partial.next));
  assert.deepEqual(completed.rows.map((r) => r.step), [13]);
  assert.equal(completed.invalid.length, 0);
});

Deno.test("readMetricsTail starts again from the top when the file was replaced by a shorter one", async () => {
  await using run = await copyFixtureRun();
  const { metrics } = runPaths(run.root);
  const all = await Effect.runPromise(readMetricsTail(metrics, startOfFile));
  await Deno.writeTextFile(metrics, JSON.stringify(trainRow(1)) + "\n");
  const again = await Effect.runPromise(readMetricsTail(metrics, all.next));
  assert.equal(again.restarted, true);
  assert.deepEqual(again.rows.map((r) => r.step), [1]);
});

Deno.test("readMetricsTail reads a missing metrics file as empty", async () => {
  const tail = await Effect.runPromise(
    readMetricsTail(join(FIXTURE_RUN, "no-such.jsonl"), startOfFile),
  );
  assert.deepEqual(tail.rows, []);
  assert.deepEqual(tail.next, startOfFile);
});

Deno.test("listRolloutSteps sorts steps and ignores temp and foreign files", async () => {
  await using run = await copyFixtureRun();
  const { rollouts } = runPaths(run.root);
  await Deno.writeTextFile(join(rollouts, rolloutFileName(2)), "");
  await Deno.writeTextFile(join(rollouts, `${rolloutFileName(30)}.tmp-1-1`), "");
  await Deno.writeTextFile(join(rollouts, "notes.txt"), "");
  assert.deepEqual(await Effect.runPromise(listRolloutSteps(rollouts)), [2, 10]);
  assert.equal(rolloutStepOf("step-1234567.jsonl"), 1234567);
});

Deno.test("readRollouts decodes the fixture samples, including one that failed to parse", async () => {
  const samples = await Effect.runPromise(readRollouts(fixture.rollouts, 10));
  assert.equal(samples.length, 2);
  assert.equal(samples[0]!.predicted?.objects.length, 2);
  assert.equal(samples[1]!.predicted, null);
  assert.equal(samples[1]!.parseFailure, "missing <scene> block");
});
