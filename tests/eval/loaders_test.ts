import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { StvqaRecord } from "../../src/dataset/record.ts";
import { loadBenchmark } from "../../src/eval/benchmarks.ts";
import type { EvalRecord } from "../../src/eval/record.ts";

const FIXTURES = new URL("../../data/fixtures/benchmarks", import.meta.url).pathname;
const load = (name: string, path: string) =>
  Effect.runPromise(loadBenchmark(name, `${FIXTURES}/${path}`));
/** The typed error of a load that must fail, as "Tag: message". */
const loadFailure = async (name: string, path: string) => {
  const error = await Effect.runPromise(Effect.flip(loadBenchmark(name, path)));
  return `${error._tag}: ${error.message}`;
};
const summary = (r: EvalRecord) => [r.benchmark, r.category, r.id, r.answer, r.choices.length];
const isPng = (r: EvalRecord) => {
  const image = r.images[0]!;
  return image.kind === "bytes" && image.bytes[0] === 0x89 && image.bytes[1] === 0x50;
};

Deno.test("CV-Bench parquet loads as cv-bench-2d and cv-bench-3d with embedded PNGs", async () => {
  const records = await load("cv-bench", "cv-bench");
  assert.deepEqual(records.map(summary), [
    ["cv-bench-2d", "Count", "0", "B", 4],
    ["cv-bench-2d", "Relation", "1", "A", 2],
    ["cv-bench-3d", "Depth", "0", "A", 2],
    ["cv-bench-3d", "Distance", "1", "B", 2],
  ]);
  assert.ok(records.every(isPng));
  assert.deepEqual(records[0]!.choices, ["3", "2", "1", "0"]);
});

Deno.test("CV-Bench test.jsonl resolves its filename column against the folder", async () => {
  const [record] = await load("cv-bench", "cv-bench-jsonl");
  assert.deepEqual(record!.images, [
    { kind: "path", path: `${FIXTURES}/cv-bench-jsonl/img/2D/count/ade20k_1.png` },
  ]);
  assert.equal(record!.answer, "A");
});

Deno.test("BLINK loads the four spatial sub-tasks and skips the others", async () => {
  const records = await load("blink", "blink");
  assert.deepEqual(
    [...new Set(records.map((r) => r.category))],
    ["Counting", "Object_Localization", "Relative_Depth", "Spatial_Relation"],
  );
  assert.equal(records.length, 5);
  const counting = records.find((r) => r.category === "Counting")!;
  assert.equal(counting.answer, "C");
  assert.equal(counting.id, "val_Counting_1");
  assert.equal(counting.images.length, 1);
});

Deno.test("BLINK given one file reads it, keeping every non-null image slot in order", async () => {
  const records = await load("blink", "blink/Jigsaw/val-00000-of-00001.parquet");
  assert.equal(records[0]!.images.length, 3);
  const names = records[0]!.images.map((i) => i.kind === "bytes" ? i.name : i.path);
  assert.deepEqual(names, ["Jigsaw_0_1.png", "Jigsaw_0_2.png", "Jigsaw_0_3.png"]);
});

Deno.test("3DSRBench TSV decodes base64 JPEGs and trims unused options", async () => {
  const records = await load("3dsrbench", "3dsrbench");
  assert.deepEqual(records.map(summary), [
    ["3dsrbench", "height", "0", "B", 2],
    ["3dsrbench", "orientation", "1", "A", 2],
    ["3dsrbench", "location", "2", "C", 4],
  ]);
  const image = records[0]!.images[0]!;
  assert.ok(image.kind === "bytes" && image.bytes[0] === 0xff && image.bytes[1] === 0xd8);
});

Deno.test("MMVP reads Questions.csv options and points at MMVP Images/<Index>.jpg", async () => {
  const records = await load("mmvp", "mmvp");
  assert.deepEqual(records.map(summary), [["mmvp", "all", "1", "B", 2], [
    "mmvp",
    "all",
    "2",
    "A",
    2,
  ]]);
  assert.equal(records[1]!.question, "Is the door open, or closed?");
  assert.deepEqual(records[0]!.images, [{
    kind: "path",
    path: `${FIXTURES}/mmvp/MMVP Images/1.jpg`,
  }]);
});

Deno.test("RealWorldQA splits inline options and keeps free-form questions free-form", async () => {
  const records = await load("realworldqa", "realworldqa");
  assert.deepEqual(records.map(summary), [
    ["realworldqa", "multiple-choice", "test-00000-of-00002:1", "B", 3],
    ["realworldqa", "free-form", "test-00000-of-00002:2", "2", 0],
    ["realworldqa", "multiple-choice", "test-00001-of-00002:1", "A", 2],
  ]);
  assert.equal(records[0]!.question, "Which object is closer to the camera?");
  assert.deepEqual(records[0]!.choices, ["The truck", "The bicycle", "The pole"]);
});

Deno.test("SpatialBench takes the category from the task file and accepts image lists", async () => {
  const records = await load("spatialbench", "spatialbench");
  assert.deepEqual(records.map(summary), [
    ["spatialbench", "counting", "counting:1", "3", 0],
    ["spatialbench", "existence", "existence_1", "Yes", 0],
    ["spatialbench", "existence", "existence_2", "No", 0],
    ["spatialbench", "positional", "positional_1", "Yes", 0],
  ]);
  assert.deepEqual(records[0]!.images, [
    { kind: "path", path: `${FIXTURES}/spatialbench/rgb/count_1.jpg` },
  ]);
});

Deno.test("STVQA val parquet and pipeline JSONL give the same records but for the image", async () => {
  const fromParquet = await load("stvqa", "stvqa");
  const fromJsonl = await load("stvqa", "stvqa-jsonl");
  assert.deepEqual(fromParquet.map(summary), [
    ["stvqa", "relation", "2345678:1", "B", 2],
    ["stvqa", "depth", "2345679:2", "A", 2],
  ]);
  assert.deepEqual(fromJsonl.map(summary), fromParquet.map(summary));
  assert.equal(fromParquet[0]!.images[0]!.kind, "bytes");
  assert.deepEqual(fromJsonl[1]!.images, [
    { kind: "path", path: `${FIXTURES}/stvqa-jsonl/images/1.png` },
  ]);
});

Deno.test("an unknown benchmark name lists the known ones", async () => {
  assert.match(await loadFailure("vqa-v2", FIXTURES), /BenchmarkUnknown[\s\S]*cv-bench/);
});

Deno.test("a folder without the benchmark's files names where to download them", async () => {
  assert.match(await loadFailure("mmvp", `${FIXTURES}/blink`), /MMVP\/MMVP/);
});

Deno.test("a record with an answer outside its choices names the file and record", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/Questions.csv`,
    "Index,Question,Options,Correct Answer\n1,Q?,(a) Yes (b) No,(b)\n2,Q2?,(a) Yes (b) No,(c)\n",
  );
  const message = await loadFailure("mmvp", dir);
  assert.match(message, /BenchmarkRecordInvalid/);
  assert.match(message, /Questions\.csv, record 2: answer "\(c\)"/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a JSONL record missing a column names the column", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/stvqa_val.jsonl`,
    JSON.stringify({
      image_id: "1",
      question_only: "q",
      answer_only: "A",
      category: "c",
      image: "x.png",
    }) +
      "\n",
  );
  const message = await loadFailure("stvqa", dir);
  assert.match(message, /stvqa_val\.jsonl, record 1: options/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a duplicate id within a benchmark is rejected", async () => {
  const dir = await Deno.makeTempDir();
  const row = {
    idx: 5,
    type: "2D",
    task: "Count",
    question: "q",
    choices: ["1", "2"],
    answer: "(A)",
    filename: "a.png",
  };
  await Deno.writeTextFile(`${dir}/test.jsonl`, `${JSON.stringify(row)}\n${JSON.stringify(row)}\n`);
  assert.match(await loadFailure("cv-bench", dir), /record 2: id 5 already used/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the pipeline-layout STVQA fixture is a valid record of src/dataset's schema", async () => {
  const lines = (await Deno.readTextFile(`${FIXTURES}/stvqa-jsonl/val.jsonl`)).trim().split("\n");
  assert.equal(lines.length, 2);
  for (const line of lines) Schema.decodeUnknownSync(StvqaRecord)(JSON.parse(line));
});
