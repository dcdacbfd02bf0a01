import assert from "node:assert/strict";
import { Effect, Exit, Result } from "effect";
import {
  ConfigFileError,
  ConfigKeyUnknown,
  ConfigValueInvalid,
  GRPO_PRESETS,
  grpoConfigKeys,
  loadGrpoConfig,
  resolveGrpoConfig,
  splitGrpoConfigArgs,
} from "../../src/rl/config.ts";

const overrides = (...o: Array<string>) => [{ kind: "overrides" as const, overrides: o }];

const failureOf = <E>(r: Result.Result<unknown, E>): E => {
  assert.ok(Result.isFailure(r), "expected a failure");
  return r.failure;
};

Deno.test("the paper preset carries the SpatialThinker script values", () => {
  const p = GRPO_PRESETS.paper;
  assert.equal(p.rollout.n, 8);
  assert.equal(p.actor.lr, 1e-6);
  assert.deepEqual([p.algorithm.clipLow, p.algorithm.clipHigh, p.algorithm.dualClip], [
    0.2,
    0.3,
    3,
  ]);
  assert.equal(p.algorithm.klEstimator, "low_var_kl");
  assert.equal(p.algorithm.klCoef, 0.01);
  assert.equal(p.actor.gradClip, 1);
});

Deno.test("both presets decode and pass the cross-key checks unchanged", () => {
  for (const preset of ["paper", "tiny"] as const) {
    const r = resolveGrpoConfig(preset, []);
    assert.ok(Result.isSuccess(r));
    assert.deepEqual(r.success, GRPO_PRESETS[preset]);
  }
});

Deno.test("dotted overrides set numbers, strings, booleans and arrays", () => {
  const r = resolveGrpoConfig(
    "tiny",
    overrides(
      "--rollout.n=4",
      "algorithm.aggregation=seq-mean-token-sum-norm",
      "--algorithm.dynamicSampling=true",
      "--actor.betas=[0.9,0.95]",
      "--reward.variant=sparse",
    ),
  );
  assert.ok(Result.isSuccess(r));
  assert.equal(r.success.rollout.n, 4);
  assert.equal(r.success.algorithm.aggregation, "seq-mean-token-sum-norm");
  assert.equal(r.success.algorithm.dynamicSampling, true);
  assert.deepEqual(r.success.actor.betas, [0.9, 0.95]);
  assert.equal(r.success.reward.variant, "sparse");
});

Deno.test("a file layer overrides the preset and later overrides override the file", () => {
  const r = resolveGrpoConfig("paper", [
    { kind: "file", path: "run.json", content: { trainer: { steps: 10, seed: 7 } } },
    ...overrides("--trainer.seed=9"),
  ]);
  assert.ok(Result.isSuccess(r));
  assert.equal(r.success.trainer.steps, 10);
  assert.equal(r.success.trainer.seed, 9);
  assert.equal(r.success.rollout.n, 8);
});

Deno.test("an unknown override key is ConfigKeyUnknown naming the key and its source", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--rollout.m=8")));
  assert.ok(e instanceof ConfigKeyUnknown);
  assert.equal(e.key, "rollout.m");
  assert.match(e.message, /rollout\.m.*command line --rollout\.m=8.*rollout\.n/);
});

Deno.test("an override that names a section instead of a leaf is ConfigKeyUnknown", () => {
  assert.ok(
    failureOf(resolveGrpoConfig("tiny", overrides("--rollout=1"))) instanceof ConfigKeyUnknown,
  );
});

Deno.test("an unknown key in a file is ConfigKeyUnknown naming the file", () => {
  const e = failureOf(resolveGrpoConfig("tiny", [
    { kind: "file", path: "bad.json", content: { actor: { learningRate: 1 } } },
  ]));
  assert.ok(e instanceof ConfigKeyUnknown);
  assert.equal(e.key, "actor.learningRate");
  assert.equal(e.source, "bad.json");
});

Deno.test("a value of the wrong type is ConfigValueInvalid naming key and value", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--actor.lr=fast")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.equal(e.key, "actor.lr");
  assert.equal(e.value, '"fast"');
  assert.match(e.source, /--actor\.lr=fast/);
});

Deno.test("an out-of-range value is ConfigValueInvalid with the schema's reason", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--rollout.n=1")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.equal(e.key, "rollout.n");
  assert.match(e.reason, /greater than or equal to 2/);
});

Deno.test("an unknown KL estimator is ConfigValueInvalid listing the allowed names", () => {
  const e = failureOf(resolveGrpoConfig("paper", overrides("--algorithm.klEstimator=k9")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.match(e.reason, /low_var_kl/);
});

Deno.test("a micro-batch that does not divide the mini-batch's responses is rejected", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--actor.microBatchSize=5")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.equal(e.key, "actor.microBatchSize");
  assert.match(e.reason, /64/);
});

Deno.test("a dual clip that can never apply is rejected", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--algorithm.dualClip=1.2")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.equal(e.key, "algorithm.dualClip");
});

Deno.test("an override without '=' is ConfigValueInvalid showing the expected form", () => {
  const e = failureOf(resolveGrpoConfig("tiny", overrides("--rollout.n")));
  assert.ok(e instanceof ConfigValueInvalid);
  assert.match(e.reason, /--key=value/);
});

Deno.test("grpoConfigKeys lists every leaf in dotted form", () => {
  const keys = grpoConfigKeys();
  assert.ok(keys.includes("rollout.n") && keys.includes("actor.betas"));
  assert.equal(keys.length, 5 + 7 + 8 + 4 + 1);
});

Deno.test("loadGrpoConfig reads a JSON file and applies overrides on top", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run.json`;
  await Deno.writeTextFile(path, JSON.stringify({ rollout: { n: 6 } }));
  const c = await Effect.runPromise(
    loadGrpoConfig({ preset: "tiny", file: path, overrides: ["--trainer.steps=3"] }),
  );
  assert.equal(c.rollout.n, 6);
  assert.equal(c.trainer.steps, 3);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadGrpoConfig fails with ConfigFileError for a missing or malformed file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
  for (const file of [`${dir}/missing.json`, `${dir}/bad.json`]) {
    const exit = await Effect.runPromiseExit(
      loadGrpoConfig({ preset: "tiny", file, overrides: [] }),
    );
    assert.ok(Exit.isFailure(exit));
    assert.match(String(exit.cause), /ConfigFileError/);
  }
  assert.equal(new ConfigFileError({ path: "x", reason: "y" }).message, "config file x: y");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("splitGrpoConfigArgs separates preset, config file, dotted overrides and other flags", () => {
  const r = splitGrpoConfigArgs(
    ["--preset", "paper", "--config=run.json", "--actor.lr=1e-5", "--out", "runs/x", "--rollout.n"],
    "tiny",
  );
  assert.ok(Result.isSuccess(r));
  assert.equal(r.success.preset, "paper");
  assert.equal(r.success.file, "run.json");
  assert.deepEqual(r.success.overrides, ["--actor.lr=1e-5", "--rollout.n"]);
  assert.deepEqual(r.success.rest, ["--out", "runs/x"]);
});

Deno.test("splitGrpoConfigArgs rejects an unknown preset and a flag without its value", () => {
  const bad = failureOf(splitGrpoConfigArgs(["--preset=huge"], "tiny"));
  assert.equal(bad.key, "preset");
  assert.match(bad.reason, /paper, tiny/);
  assert.equal(failureOf(splitGrpoConfigArgs(["--config"], "tiny")).key, "config");
});
