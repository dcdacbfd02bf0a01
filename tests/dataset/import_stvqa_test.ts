import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { fixtureRows, writeStvqaParquet } from "../../data/fixtures/stvqa/make_fixture.ts";
import { importStvqaParquet } from "../../src/dataset/import_stvqa.ts";
import { StvqaRecord } from "../../src/dataset/record.ts";
import { decodePng } from "../../src/scene/png.ts";

const FIXTURE = "data/fixtures/stvqa/stvqa_sample.parquet";
const root = await Deno.makeTempDir({ prefix: "import_stvqa_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const run = (parquet: string, out: string, chunkRows = 2) =>
  Effect.runPromise(Effect.result(importStvqaParquet({ parquet, out, split: "train", chunkRows })));
const readRecords = (dir: string) =>
  Deno.readTextFileSync(`${dir}/train.jsonl`).split("\n").filter((l) => l.length > 0)
    .map((l) => Schema.decodeUnknownSync(StvqaRecord)(JSON.parse(l)));
const writeVariant = (
  name: string,
  rows: ReadonlyArray<Record<string, unknown>>,
  asList = false,
) => {
  const path = `${root}/${name}.parquet`;
  Deno.writeFileSync(path, new Uint8Array(writeStvqaParquet(rows, asList)));
  return path;
};

Deno.test("the committed fixture is what make_fixture.ts writes", () => {
  assert.deepEqual(Deno.readFileSync(FIXTURE), new Uint8Array(writeStvqaParquet(fixtureRows)));
});

Deno.test("parquet rows become records with every STVQA field, the scene graph and a PNG", async () => {
  const out = `${root}/ok`;
  const result = await run(FIXTURE, out);
  assert.equal(result._tag, "Success");
  if (result._tag === "Success") {
    assert.equal(result.success.rows, 3);
    assert.equal(result.success.sizeMismatches, 0);
  }
  const records = readRecords(out);
  assert.equal(records.length, 3);
  records.forEach((r, i) => {
    const row = fixtureRows[i]!;
    for (
      const key of [
        "problem",
        "question_only",
        "answer",
        "answer_option_text",
        "category",
        "level",
      ] as const
    ) {
      assert.equal(r[key], row[key]);
    }
    assert.deepEqual(r.options, row.options);
    assert.equal(r.image, `images/${row.image_id}.png`);
    const png = decodePng(Deno.readFileSync(`${out}/${r.image}`));
    assert.deepEqual([png.width, png.height], [r.width, r.height]);
    assert.ok(r.scene_graph.objects.length === 2);
  });
  assert.deepEqual(records[0]!.scene_graph.relationships, [
    { subject: "man.1", predicate: "behind", object: "bike.1" },
  ]);
});

Deno.test("the decoded JPEG keeps the picture: the dark box is where the fixture drew it", async () => {
  const out = `${root}/pixels`;
  await run(FIXTURE, out);
  const r = readRecords(out)[0]!;
  const png = decodePng(Deno.readFileSync(`${out}/${r.image}`));
  const at = (x: number, y: number) => png.data[(y * png.width + x) * png.channels]!;
  assert.ok(at(5, 10) < 70, "inside the box is dark");
  assert.ok(at(25, 2) > 120, "outside the box is bright");
});

Deno.test("images stored as a list of Image structs are read too", async () => {
  const path = writeVariant("as_list", fixtureRows, true);
  const out = `${root}/as_list`;
  const result = await run(path, out, 64);
  assert.equal(result._tag, "Success");
  assert.equal(readRecords(out).length, 3);
});

Deno.test("a row with a broken scene graph fails naming the file, row and image_id, and leaves nothing", async () => {
  const rows = fixtureRows.map((r, i) =>
    i === 2
      ? { ...r, answer_option_text: r.answer_option_text.replace('"chair.1"', '"chair 1"') }
      : r
  );
  const path = writeVariant("bad_scene", rows);
  const out = `${root}/bad_scene_out`;
  const result = await run(path, out);
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.equal(result.failure._tag, "SourceRecordError");
    assert.match(
      result.failure.message,
      /bad_scene\.parquet, row 2 \(image_id 2369011\): the <scene> graph is invalid/,
    );
  }
  assert.ok(![...Deno.readDirSync(root)].some((e) => e.name.startsWith("bad_scene_out")));
});

Deno.test("a row whose image is not a JPEG or whose category is unknown is a typed error", async () => {
  const notJpeg = writeVariant(
    "not_jpeg",
    fixtureRows.map((r, i) =>
      i === 1 ? { ...r, images: { bytes: new Uint8Array([1, 2, 3]), path: null } } : r
    ),
  );
  const a = await run(notJpeg, `${root}/not_jpeg_out`);
  assert.ok(
    a._tag === "Failure" &&
      /row 1 \(image_id 2417890\): the embedded image is not a decodable JPEG/.test(
        a.failure.message,
      ),
  );
  const badCategory = writeVariant(
    "bad_category",
    fixtureRows.map((r, i) => i === 0 ? { ...r, category: "color" } : r),
  );
  const b = await run(badCategory, `${root}/bad_category_out`);
  assert.ok(
    b._tag === "Failure" && b.failure._tag === "SourceRecordError" &&
      /row 0 \(image_id 2343123\)/.test(b.failure.message),
  );
});

Deno.test("rows sharing an image_id share one PNG unless their pixels differ", async () => {
  const same = { ...fixtureRows[0]!, question_only: "Is the man behind the bike?" };
  const differing = { ...fixtureRows[1]!, image_id: fixtureRows[0]!.image_id };
  const path = writeVariant("shared_ids", [fixtureRows[0]!, same, differing]);
  const out = `${root}/shared_ids_out`;
  const result = await run(path, out);
  assert.ok(result._tag === "Success" && result.success.images === 2);
  const images = readRecords(out).map((r) => r.image);
  assert.deepEqual(images, ["images/2343123.png", "images/2343123.png", "images/2343123_row2.png"]);
});

Deno.test("an empty parquet file gives an empty split", async () => {
  const path = writeVariant("empty", []);
  const out = `${root}/empty_out`;
  const result = await run(path, out);
  assert.ok(result._tag === "Success" && result.success.rows === 0);
  assert.equal(Deno.readTextFileSync(`${out}/train.jsonl`), "");
});

Deno.test("a rating outside 1–10 is reported, not clamped", async () => {
  const path = writeVariant(
    "bad_rating",
    fixtureRows.map((r, i) => i === 1 ? { ...r, rating: 12 } : r),
  );
  const result = await run(path, `${root}/bad_rating_out`);
  assert.ok(
    result._tag === "Failure" &&
      /row 1 \(image_id 2417890\): rating 12 is outside 1–10/.test(result.failure.message),
  );
});

Deno.test("a file that is not parquet is a DatasetIoError", async () => {
  const path = `${root}/not.parquet`;
  Deno.writeTextFileSync(path, "hello");
  const result = await run(path, `${root}/not_out`);
  assert.ok(result._tag === "Failure" && result.failure._tag === "DatasetIoError");
});
