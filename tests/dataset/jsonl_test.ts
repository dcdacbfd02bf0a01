import assert from "node:assert/strict";
import { Effect, Schema, Stream } from "effect";
import { readJsonl, readStvqaRecords, temporaryPath, writeJsonl } from "../../src/dataset/jsonl.ts";
import { isSafeImagePath, StvqaRecord } from "../../src/dataset/record.ts";

const Row = Schema.Struct({ n: Schema.Int, image: Schema.String });

const dirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of dirs) Deno.removeSync(dir, { recursive: true });
});
const tempDir = async () => {
  const dir = await Deno.makeTempDir({ prefix: "jsonl_test_" });
  dirs.push(dir);
  return dir;
};
const readAll = <S extends Schema.Decoder<unknown>>(path: string, schema: S) =>
  Effect.runPromise(Effect.result(Stream.runCollect(readJsonl(path, schema))));

Deno.test("readJsonl streams every record and skips blank lines", async () => {
  const dir = await tempDir();
  const path = `${dir}/rows.jsonl`;
  await Deno.writeTextFile(path, '{"n": 1, "image": "a.png"}\n\n{"n": 2, "image": "b.png"}\r\n');
  const result = await readAll(path, Row);
  assert.equal(result._tag, "Success");
  if (result._tag === "Success") assert.deepEqual(result.success.map((r) => r.n), [1, 2]);
});

Deno.test("readJsonl names the file and line of invalid JSON", async () => {
  const dir = await tempDir();
  const path = `${dir}/bad.jsonl`;
  await Deno.writeTextFile(path, '{"n": 1, "image": "a.png"}\n{"n": 2,\n');
  const result = await readAll(path, Row);
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.equal(result.failure._tag, "RecordDecodeError");
    assert.match(result.failure.message, new RegExp(`^${path}:2: invalid JSON`));
  }
});

Deno.test("readJsonl names the file and line of a record that breaks the schema", async () => {
  const dir = await tempDir();
  const path = `${dir}/schema.jsonl`;
  await Deno.writeTextFile(path, '{"n": 1, "image": "a.png"}\n{"n": 1.5, "image": "b.png"}\n');
  const result = await readAll(path, Row);
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.match(result.failure.message, /schema.jsonl:2: invalid record/);
  }
});

Deno.test("readJsonl fails with DatasetIoError for a missing file", async () => {
  const result = await readAll("/nonexistent/dir/x.jsonl", Row);
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") assert.equal(result.failure._tag, "DatasetIoError");
});

Deno.test("writeJsonl writes atomically and round-trips through readJsonl", async () => {
  const dir = await tempDir();
  const path = `${dir}/out.jsonl`;
  const rows = [{ n: 1, image: "a.png" }, { n: 2, image: "b.png" }];
  const written = await Effect.runPromise(writeJsonl(path, Row, Stream.fromIterable(rows)));
  assert.equal(written, 2);
  const back = await readAll(path, Row);
  assert.ok(back._tag === "Success");
  assert.deepEqual(back.success, rows);
  assert.throws(() => Deno.statSync(temporaryPath(path)), Deno.errors.NotFound);
});

Deno.test("writeJsonl refuses an invalid record and leaves no partial file and the old file intact", async () => {
  const dir = await tempDir();
  const path = `${dir}/out.jsonl`;
  await Deno.writeTextFile(path, "previous contents\n");
  const rows = [{ n: 1, image: "a.png" }, { n: 2.5, image: "b.png" }, { n: 3, image: "c.png" }];
  const result = await Effect.runPromise(
    Effect.result(writeJsonl(path, Row, Stream.fromIterable(rows))),
  );
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.equal(result.failure._tag, "RecordDecodeError");
    assert.match(result.failure.message, /out.jsonl:2: refusing to write an invalid record/);
  }
  assert.equal(await Deno.readTextFile(path), "previous contents\n");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.jsonl"]);
});

Deno.test("readStvqaRecords reads what the generator writes and rejects unsafe image paths", async () => {
  const dir = await tempDir();
  const record = JSON.parse(Deno.readTextFileSync("data/fixtures/stvqa/synthetic_record.json"));
  const good = `${dir}/good.jsonl`, bad = `${dir}/bad.jsonl`;
  await Deno.writeTextFile(good, JSON.stringify(record) + "\n");
  await Deno.writeTextFile(
    bad,
    JSON.stringify(record) + "\n" + JSON.stringify({ ...record, image: "/abs.png" }) + "\n",
  );
  const ok = await Effect.runPromise(Effect.result(Stream.runCollect(readStvqaRecords(good))));
  assert.ok(ok._tag === "Success" && ok.success.length === 1);
  const failed = await Effect.runPromise(Effect.result(Stream.runCollect(readStvqaRecords(bad))));
  assert.ok(failed._tag === "Failure");
  assert.match(
    failed.failure.message,
    /bad\.jsonl:2: invalid record: .*image path must be relative/,
  );
});

Deno.test("image paths that are absolute or contain .. are rejected", () => {
  for (
    const bad of [
      "/etc/passwd",
      "../x.png",
      "images/../../x.png",
      "a//b.png",
      "C:/x.png",
      "a\\b.png",
      "",
    ]
  ) {
    assert.equal(isSafeImagePath(bad), false, bad);
  }
  for (const good of ["images/000001.png", "x.png", "VG_100K/1.jpg"]) {
    assert.ok(isSafeImagePath(good));
  }
});

Deno.test("a record with an unsafe image path does not decode", () => {
  const record = {
    image_id: "1",
    problem: "p",
    question_only: "q",
    question_with_options: "q",
    options: ["a", "b"],
    answer: "a",
    answer_only: "A",
    answer_text: "a",
    answer_text_only: "a",
    answer_option_text: "a",
    answer_option_text_only: "(A) a",
    category: "depth",
    level: "easy",
    rating: 5,
    image: "images/1.png",
    width: 96,
    height: 96,
    scene_graph: { objects: [], relationships: [] },
  };
  assert.equal(Schema.decodeUnknownResult(StvqaRecord)(record)._tag, "Success");
  const bad = Schema.decodeUnknownResult(StvqaRecord)({ ...record, image: "../secret.png" });
  assert.equal(bad._tag, "Failure");
  assert.match(String(bad._tag === "Failure" ? bad.failure : ""), /image path must be relative/);
});
