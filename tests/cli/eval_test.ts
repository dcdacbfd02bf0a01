import assert from "node:assert/strict";
import { Effect } from "effect";
import { runEval } from "../../src/cli/eval.ts";

const FIXTURES = new URL("../../data/fixtures/benchmarks", import.meta.url).pathname;

Deno.test("eval scores a predictions JSONL, prints the table and writes scored JSONL and summaries", async () => {
  const out = await Deno.makeTempDir();
  const printed = await Effect.runPromise(runEval([
    "--benchmark=cv-bench",
    `--data=${FIXTURES}/cv-bench`,
    `--predictions=theirs=${FIXTURES}/predictions/cv-bench.jsonl`,
    `--out=${out}`,
  ]));
  assert.match(printed, /\| cv-bench-2d \| all \| 2 \| 50\.0 \| 35\.4 \| 0 \| 0 \|/);
  assert.match(printed, /\| cv-bench-3d \| Distance \| 1 \| 0\.0 \| 0\.0 \| 1 \| 0 \|/);
  const scored = (await Deno.readTextFile(`${out}/theirs.scored.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(scored.map((s) => [s.benchmark, s.id, s.extracted, s.correct]), [
    ["cv-bench-2d", "0", "B", true],
    ["cv-bench-2d", "1", "B", false],
    ["cv-bench-3d", "0", "A", true],
    ["cv-bench-3d", "1", null, false],
  ]);
  const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
  assert.equal(summary.systems[0].name, "theirs");
  assert.equal(summary.systems[0].cells[0].accuracy, 0.5);
  await Deno.remove(out, { recursive: true });
});

Deno.test("eval with two prediction files adds a side-by-side table", async () => {
  const out = await Deno.makeTempDir();
  const other = `${out}/other.jsonl`;
  await Deno.writeTextFile(
    other,
    '{"id": 1, "benchmark": "cv-bench-2d", "prediction": "(A) left"}\n',
  );
  const printed = await Effect.runPromise(runEval([
    "--benchmark=cv-bench",
    `--data=${FIXTURES}/cv-bench`,
    `--predictions=a=${FIXTURES}/predictions/cv-bench.jsonl`,
    `--predictions=${other}`,
    `--out=${out}`,
  ]));
  assert.match(printed, /\| cv-bench-2d \| Relation \| 1 \| 0\.0 ± 0\.0 \| 100\.0 ± 0\.0 \|/);
  assert.match(await Deno.readTextFile(`${out}/other.scored.jsonl`), /"failure":"missing"/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("eval writes nothing when a predictions file names an unknown record", async () => {
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(`${out}/bad.jsonl`, '{"id": 99, "prediction": "A"}\n');
  const error = await Effect.runPromise(Effect.flip(runEval([
    "--benchmark=mmvp",
    `--data=${FIXTURES}/mmvp`,
    `--predictions=${out}/bad.jsonl`,
    `--out=${out}/result`,
  ])));
  assert.match(error.message, /bad\.jsonl, line 1: id 99 is not a loaded record/);
  await assert.rejects(() => Deno.stat(`${out}/result`));
  await Deno.remove(out, { recursive: true });
});

Deno.test("eval without predictions or with an unknown flag explains the usage", async () => {
  const missing = await Effect.runPromise(
    Effect.flip(runEval(["--benchmark=mmvp", `--data=${FIXTURES}/mmvp`])),
  );
  assert.equal(missing._tag, "EvalUsageError");
  assert.match(missing.message, /--predictions is required/);
  const unknown = await Effect.runPromise(Effect.flip(runEval(["--bogus"])));
  assert.match(unknown.message, /usage: deno task eval/);
});

Deno.test("eval --weights-dtype names a storage dtype, checked before any record is read", async () => {
  const error = await Effect.runPromise(Effect.flip(runEval([
    "--benchmark=mmvp",
    `--data=${FIXTURES}/mmvp`,
    "--model=ckpt",
    "--weights-dtype=f8",
  ])));
  assert.equal(error._tag, "EvalUsageError");
  assert.match(error.message, /--weights-dtype must be one of f32, bf16, f16, got f8/);
});

Deno.test("eval --list names every benchmark and where to download it", async () => {
  const printed = await Effect.runPromise(runEval(["--list"]));
  for (
    const name of ["cv-bench", "blink", "3dsrbench", "mmvp", "realworldqa", "spatialbench", "stvqa"]
  ) {
    assert.match(printed, new RegExp(`^${name} `, "m"));
  }
});

Deno.test("eval --export writes records.jsonl and the embedded images for another system", async () => {
  const out = await Deno.makeTempDir();
  const printed = await Effect.runPromise(runEval([
    "--benchmark=blink",
    `--data=${FIXTURES}/blink`,
    `--export=${out}`,
  ]));
  assert.match(printed, /exported 5 records and 5 images/);
  const lines = (await Deno.readTextFile(`${out}/records.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  const first = lines[0];
  assert.equal(first.id, "val_Counting_1");
  assert.equal(first.prompt, "How many birds are there?\nOptions:\n(A) 0\n(B) 1\n(C) 2\n(D) 3");
  assert.deepEqual(first.images, ["images/blink/0_val_Counting_1_1.png"]);
  const png = await Deno.readFile(`${out}/${first.images[0]}`);
  assert.deepEqual([...png.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  await Deno.remove(out, { recursive: true });
});
