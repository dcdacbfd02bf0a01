import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Effect, Exit } from "effect";
import { paperShares, SPLITS } from "../../src/dataset/balance.ts";
import {
  DEFAULT_GENERATE_OPTIONS,
  generateDataset,
  type GenerateOptions,
} from "../../src/dataset/generate.ts";
import { CATEGORIES } from "../../src/dataset/question.ts";
import { loadRecordImage } from "../../src/dataset/images.ts";
import { rendererRuntime } from "../scene/renderer_runtime.ts";

const generate = (options: Partial<GenerateOptions> & { out: string }) =>
  rendererRuntime.runPromiseExit(
    generateDataset({ ...DEFAULT_GENERATE_OPTIONS, scenes: 48, batchSize: 20, ...options }),
  );

/** SHA-256 over every file name and its bytes, in sorted order. */
const folderHash = (dir: string): string => {
  const hash = createHash("sha256");
  const walk = (rel: string): string[] =>
    [...Deno.readDirSync(`${dir}/${rel}`)].flatMap((e) =>
      e.isDirectory ? walk(`${rel}${e.name}/`) : [`${rel}${e.name}`]
    );
  for (const file of walk("").sort()) hash.update(file).update(Deno.readFileSync(`${dir}/${file}`));
  return hash.digest("hex");
};

const root = await Deno.makeTempDir({ prefix: "generate_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
const first = await generate({ out: `${root}/a`, seed: 7 });
const second = await generate({ out: `${root}/b`, seed: 7 });

const readRecords = (dir: string, split: string) =>
  Deno.readTextFileSync(`${dir}/${split}.jsonl`).split("\n").filter((l) => l.length > 0)
    .map((l) =>
      JSON.parse(l) as {
        category: string;
        image: string;
        image_id: string;
        width: number;
        height: number;
        answer_text_only: string;
      }
    );

Deno.test("the same seed gives byte-identical output (JSONL and PNG)", () => {
  assert.ok(Exit.isSuccess(first) && Exit.isSuccess(second));
  assert.equal(folderHash(`${root}/a`), folderHash(`${root}/b`));
  assert.equal(Deno.readDirSync(`${root}/a/images`).toArray().length, 48);
});

Deno.test("a different seed gives different output", async () => {
  const other = await generate({ out: `${root}/c`, seed: 8, scenes: 6 });
  assert.ok(Exit.isSuccess(other));
  assert.notEqual(folderHash(`${root}/a`), folderHash(`${root}/c`));
});

Deno.test("category shares are within 2% of the paper's 50% relation mix", () => {
  const records = SPLITS.flatMap((s) => readRecords(`${root}/a`, s));
  const shares = paperShares(0.5);
  for (const c of CATEGORIES) {
    const share = records.filter((r) => r.category === c).length / records.length;
    assert.ok(Math.abs(share - shares[c]) <= 0.02, `${c}: ${share} vs ${shares[c]}`);
  }
  assert.ok(records.length >= 48 * 5 * 0.95);
});

Deno.test("answers are spread evenly within a category (existence: as many yes as no)", () => {
  const existence = SPLITS.flatMap((s) => readRecords(`${root}/a`, s))
    .filter((r) => r.category === "existence");
  const yes = existence.filter((r) => r.answer_text_only === "yes").length;
  assert.ok(existence.length >= 10);
  assert.ok(
    Math.abs(2 * yes - existence.length) <= SPLITS.length,
    `${yes} yes of ${existence.length}`,
  );
});

Deno.test("a configured relation share is met within 2%", async () => {
  const exit = await generate({ out: `${root}/d`, seed: 3, shares: paperShares(0.3) });
  assert.ok(Exit.isSuccess(exit));
  const records = SPLITS.flatMap((s) => readRecords(`${root}/d`, s));
  const relation = records.filter((r) => r.category === "relation").length / records.length;
  assert.ok(Math.abs(relation - 0.3) <= 0.02, `relation share ${relation}`);
});

Deno.test("every record's image loads at the record's size", async () => {
  const records = SPLITS.flatMap((s) => readRecords(`${root}/a`, s));
  for (const r of records.slice(0, 60)) {
    const image = await Effect.runPromise(
      loadRecordImage(
        `${root}/a`,
        r as unknown as { image: string; width: number; height: number },
      ),
    );
    assert.equal(image.rgb.length, 96 * 96 * 3);
  }
});

Deno.test("no image appears in two splits", () => {
  const owner = new Map<string, string>();
  for (const split of SPLITS) {
    for (const r of readRecords(`${root}/a`, split)) {
      assert.equal(
        owner.get(r.image) ?? split,
        split,
        `${r.image} in ${owner.get(r.image)} and ${split}`,
      );
      owner.set(r.image, split);
    }
  }
  assert.ok(new Set(owner.values()).size >= 2);
});

Deno.test("an existing output folder is refused and left untouched", async () => {
  const before = folderHash(`${root}/a`);
  const exit = await generate({ out: `${root}/a`, seed: 7 });
  assert.ok(Exit.isFailure(exit));
  assert.match(String(exit.cause), /already exists/);
  assert.equal(folderHash(`${root}/a`), before);
});

Deno.test("a run that fails half-way leaves no output and no temporary folder", async () => {
  const out = `${root}/failed`;
  const exit = await generate({
    out,
    seed: 7,
    onProgress: (done) => {
      if (done >= 20) throw new Error("interrupted");
    },
  });
  assert.ok(Exit.isFailure(exit));
  const left = [...Deno.readDirSync(root)].map((e) => e.name);
  assert.ok(!left.some((name) => name.startsWith("failed")), `left behind: ${left.join(", ")}`);
});
