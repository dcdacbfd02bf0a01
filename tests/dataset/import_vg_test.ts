import assert from "node:assert/strict";
import { Effect, Schema } from "effect";
import { importVisualGenome } from "../../src/dataset/import_vg.ts";
import { streamJsonArray } from "../../src/dataset/json_array.ts";
import { StvqaRecord } from "../../src/dataset/record.ts";
import { plural, VG_CATEGORIES } from "../../src/dataset/vg_questions.ts";
import { convertVgScene, idStem, VgSceneGraph } from "../../src/scene/visual_genome.ts";

const FIXTURE = "data/fixtures/visual_genome";
const root = await Deno.makeTempDir({ prefix: "import_vg_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const fixtureGraphs =
  (JSON.parse(Deno.readTextFileSync(`${FIXTURE}/scene_graphs.json`)) as unknown[])
    .map((g) => Schema.decodeUnknownSync(VgSceneGraph)(g));

const run = (options: { sceneGraphs?: string; imageData?: string; out: string }) =>
  Effect.runPromise(Effect.result(importVisualGenome({
    sceneGraphs: `${FIXTURE}/scene_graphs.json`,
    imageData: `${FIXTURE}/image_data.json`,
    seed: 1,
    perCategory: 2,
    ...options,
  })));

const readRecords = (dir: string) =>
  ["train", "val", "test"].flatMap((s) =>
    Deno.readTextFileSync(`${dir}/${s}.jsonl`).split("\n").filter((l) => l.length > 0)
      .map((l) => Schema.decodeUnknownSync(StvqaRecord)(JSON.parse(l)))
  );

Deno.test("VG names become ids that satisfy the reward's id rule", () => {
  assert.equal(idStem("traffic light"), "traffic_light");
  assert.equal(idStem("T-Shirt"), "t_shirt");
  assert.equal(idStem("2"), "");
  const scene = convertVgScene(fixtureGraphs[0]!, 800, 600);
  const ids = scene.graph.objects.map((o) => o.id);
  assert.deepEqual(ids, ["clock.1", "man.1", "bus.1", "traffic_light.1", "t_shirt.1"]);
  for (const id of ids) assert.match(id, /^[a-zA-Z_]+\.\d+$/);
  assert.deepEqual(scene.graph.objects[0]!.bbox, [420, 40, 480, 140]);
});

Deno.test("VG relations map to our ids, lower-cased, without dangling or duplicate ends", () => {
  const scene = convertVgScene(fixtureGraphs[0]!, 800, 600);
  assert.deepEqual(scene.graph.relationships, [
    { subject: "clock.1", predicate: "above", object: "bus.1" },
    { subject: "man.1", predicate: "wears", object: "t_shirt.1" },
    { subject: "traffic_light.1", predicate: "behind", object: "bus.1" },
    { subject: "man.1", predicate: "to the left of", object: "bus.1" },
  ]);
});

Deno.test("the importer writes valid records only for categories 2D annotations can answer", async () => {
  const out = `${root}/ok`;
  const result = await run({ out });
  assert.equal(result._tag, "Success");
  if (result._tag !== "Success") return;
  assert.equal(result.success.images, 3);
  assert.deepEqual(Object.keys(result.success.skipped).sort(), [
    "depth",
    "distance",
    "existence",
    "orientation",
    "reach",
  ]);
  const records = readRecords(out);
  assert.ok(records.length >= 8);
  for (const r of records) {
    assert.ok(VG_CATEGORIES.includes(r.category), r.category);
    assert.match(r.image, /^VG_100K(_2)?\/\d+\.jpg$/);
    assert.match(r.problem, new RegExp(`Image size: \\(${r.width} x ${r.height}\\)`));
  }
  const summary = JSON.parse(Deno.readTextFileSync(`${out}/summary.json`));
  assert.equal(summary.source, "visual_genome");
});

Deno.test("relation answers are the annotated predicate, and box-contradicted annotations are not asked", async () => {
  const out = `${root}/relations`;
  await run({ out });
  const relations = readRecords(out).filter((r) => r.category === "relation");
  assert.ok(relations.length >= 2);
  for (const r of relations) {
    const [, subject, object] = r.question_only.match(
      /^Where is the (.+) with respect to the (.+)\?$/,
    )!;
    const id = (name: string) =>
      r.scene_graph.objects.find((o) => o.id.startsWith(`${name!.replaceAll(" ", "_")}.`))!.id;
    assert.ok(
      r.scene_graph.relationships.some((x) =>
        x.subject === id(subject!) && x.object === id(object!) && x.predicate === r.answer_text_only
      ),
    );
  }
  assert.ok(!relations.some((r) => r.question_only.includes("the tree with respect to the car")));
});

Deno.test("count answers equal the annotated instances", async () => {
  assert.deepEqual(["bus", "pony", "dog", "box"].map(plural), ["buses", "ponies", "dogs", "boxes"]);
  const out = `${root}/counts`;
  await run({ out });
  const counts = readRecords(out).filter((r) => r.category === "count");
  assert.ok(counts.some((r) => r.answer_text_only === "2"), "the two dogs are counted");
  for (const r of counts) {
    const noun = r.question_only.match(/^How many (.+) are there/)![1]!;
    const n = r.scene_graph.objects.filter((o) =>
      plural(o.id.slice(0, o.id.lastIndexOf(".")).replaceAll("_", " ")) === noun
    ).length;
    assert.equal(r.answer_text_only, String(n), r.question_only);
  }
});

Deno.test("a malformed scene graph fails naming the file and the element, and leaves no output", async () => {
  const bad = `${root}/bad_graphs.json`;
  const graphs = JSON.parse(Deno.readTextFileSync(`${FIXTURE}/scene_graphs.json`));
  graphs[1].objects[0].x = "left";
  Deno.writeTextFileSync(bad, JSON.stringify(graphs));
  const out = `${root}/bad`;
  const result = await run({ sceneGraphs: bad, out });
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.equal(result.failure._tag, "SourceRecordError");
    assert.match(result.failure.message, /bad_graphs\.json, element 1 \(image_id 2\)/);
  }
  assert.ok(![...Deno.readDirSync(root)].some((e) => e.name.startsWith("bad") && e.isDirectory));
});

Deno.test("an image missing from image_data.json is a typed error naming the image", async () => {
  const partial = `${root}/partial_images.json`;
  Deno.writeTextFileSync(
    partial,
    JSON.stringify(JSON.parse(Deno.readTextFileSync(`${FIXTURE}/image_data.json`)).slice(0, 2)),
  );
  const result = await run({ imageData: partial, out: `${root}/partial` });
  assert.equal(result._tag, "Failure");
  if (result._tag === "Failure") {
    assert.match(result.failure.message, /image_id 3: no entry in .*partial_images\.json/);
  }
});

Deno.test("streamJsonArray splits elements correctly around strings with brackets, commas and escapes", async () => {
  const path = `${root}/tricky.json`;
  const values = [{ a: "x,]}[{" }, [1, [2, 3]], 'q"uote\\', null, { b: { c: [] } }];
  Deno.writeTextFileSync(path, ` \n${JSON.stringify(values)}\n`);
  const seen: unknown[] = [];
  for await (const element of streamJsonArray(path)) {
    assert.ok("value" in element);
    seen.push(element.value);
  }
  assert.deepEqual(seen, values);
});

Deno.test("streamJsonArray rejects a file that is not an array or is cut short", async () => {
  const notArray = `${root}/object.json`, cut = `${root}/cut.json`;
  Deno.writeTextFileSync(notArray, '{"a": 1}');
  Deno.writeTextFileSync(cut, '[{"a": 1}, {"b":');
  for (const path of [notArray, cut]) {
    await assert.rejects(async () => {
      for await (const _ of streamJsonArray(path)) { /* drain */ }
    }, SyntaxError);
  }
});
