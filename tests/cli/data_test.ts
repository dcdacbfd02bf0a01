import assert from "node:assert/strict";

const root = await Deno.makeTempDir({ prefix: "data_cli_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const cli = async (...args: string[]) => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/data.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
};

Deno.test("deno task data writes the data set and prints a per-category summary", async () => {
  const out = `${root}/synth`;
  const run = await cli("--scenes", "8", "--out", out, "--seed", "3");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /scenes \[#+\] 8\/8/);
  for (const category of ["relation", "orientation", "existence", "total"]) {
    assert.match(run.stdout, new RegExp(`^${category}\\s+\\d+`, "m"));
  }
  assert.equal([...Deno.readDirSync(`${out}/images`)].length, 8);
  assert.ok(Deno.statSync(`${out}/train.jsonl`).size > 0);
});

Deno.test("deno task data refuses an existing output folder with a clear message and exit code 1", async () => {
  const out = `${root}/exists`;
  Deno.mkdirSync(out);
  const run = await cli("--scenes", "2", "--out", out);
  assert.equal(run.code, 1);
  assert.match(run.stdout + run.stderr, /output folder already exists/);
});

Deno.test("deno task data rejects a non-positive scene count before doing any work", async () => {
  const out = `${root}/zero`;
  const run = await cli("--scenes", "0", "--out", out);
  assert.notEqual(run.code, 0);
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
});

Deno.test("import-vg and import-stvqa run on the fixtures", async () => {
  const vg = await cli(
    "import-vg",
    "--scene-graphs",
    "data/fixtures/visual_genome/scene_graphs.json",
    "--image-data",
    "data/fixtures/visual_genome/image_data.json",
    "--out",
    `${root}/vg`,
  );
  assert.equal(vg.code, 0, vg.stderr);
  assert.match(vg.stdout, /skipped depth: /);
  const stvqa = await cli(
    "import-stvqa",
    "--parquet",
    "data/fixtures/stvqa/stvqa_sample.parquet",
    "--out",
    `${root}/stvqa`,
  );
  assert.equal(stvqa.code, 0, stvqa.stderr);
  assert.match(stvqa.stdout, /imported 3 rows and 3 images/);
});
