import assert from "node:assert/strict";
import { Effect } from "effect";
import { encode as encodePng } from "fast-png";
import { runEval } from "../../src/cli/eval.ts";
import { saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { PRESETS } from "../../src/nn/config.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import { seededRandom } from "../gpu/harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A tiny-preset checkpoint with seeded initial weights, written to `dir`. */
const tinyCheckpoint = async (dir: string, seed = 3): Promise<void> => {
  const preset = PRESETS.tiny;
  const tokenizer = await Effect.runPromise(
    loadTokenizer(`${ROOT}data/tokenizer/tiny/tokenizer.json`),
  );
  await Effect.runPromise(saveCheckpoint(dir, {
    config: preset.config,
    weights: initialWeights(preset.config, seed),
    generation: preset.generation,
    preprocessor: preset.preprocessor,
    tokenizer,
  }));
};

/**
 * A held-out records folder in our pipeline's layout: `val.jsonl` and PNGs of three sizes, the
 * last one too small for the processor (4×3 px).
 */
const recordsFolder = async (dir: string): Promise<void> => {
  await Deno.mkdir(`${dir}/images`, { recursive: true });
  const sizes = [[96, 96], [120, 90], [96, 96], [4, 3]] as const;
  const lines: Array<string> = [];
  for (const [i, [width, height]] of sizes.entries()) {
    const random = seededRandom(i + 1);
    await Deno.writeFile(
      `${dir}/images/${i}.png`,
      encodePng({
        width,
        height,
        channels: 3,
        depth: 8,
        data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)),
      }),
    );
    lines.push(JSON.stringify({
      image_id: `img${i}`,
      question_only: `Is the red cube left of the blue sphere ${i}?`,
      options: ["left of", "right of"],
      answer_only: i % 2 === 0 ? "A" : "B",
      category: i < 2 ? "relation" : "depth",
      image: `images/${i}.png`,
    }));
  }
  await Deno.writeTextFile(`${dir}/val.jsonl`, lines.join("\n") + "\n");
};

Deno.test({
  name: "eval --model decodes checkpoints side by side, writes predictions that re-score to " +
    "the same table, and lists the records it could not run",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir();
    await tinyCheckpoint(`${root}/ckpt`);
    await tinyCheckpoint(`${root}/other`, 4);
    await recordsFolder(`${root}/data`);
    const progress: Array<string> = [];
    const printed = await Effect.runPromise(runEval([
      "--benchmark=stvqa",
      `--data=${root}/data`,
      `--model=tiny=${root}/ckpt`,
      `--model=other=${root}/other`,
      "--prompt=compact",
      "--batch-size=2",
      "--max-new-tokens=6",
      `--out=${root}/out`,
    ], (line) => progress.push(line)));
    assert.match(printed, /^4 records of stvqa/);
    assert.match(printed, /tiny: decoded 3\/4 records in [\d.]+ s \([\d.]+ records\/s/);
    assert.match(
      printed,
      /1 could not run \(scored as missing; reasons in summary\.json\), first: stvqa\/img3:4: image of 4×3 px/,
    );
    assert.match(printed, /\| stvqa \| all \| 4 \| [\d.]+ \| [\d.]+ \| \d \| 1 \|/);
    assert.match(printed, /other: decoded 3\/4 records/);
    assert.match(printed, /## side by side\n\n\| benchmark \| category \| n \| tiny \| other \|/);
    assert.ok(progress.includes("tiny: 4/4 records"));
    assert.equal(progress.at(-1), "other: 4/4 records");

    const predictions = (await Deno.readTextFile(`${root}/out/tiny.predictions.jsonl`)).trim()
      .split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(predictions.map((p) => p.id), ["img0:1", "img1:2", "img2:3"]);
    for (const p of predictions) assert.equal(typeof p.prediction, "string");
    const summary = JSON.parse(await Deno.readTextFile(`${root}/out/summary.json`));
    const [tiny, other] = summary.models;
    assert.deepEqual([tiny.name, tiny.checkpoint, other.name], ["tiny", `${root}/ckpt`, "other"]);
    assert.equal(tiny.prompt, "compact");
    assert.equal(tiny.decoded, 3);
    assert.deepEqual(tiny.failures.map((f: { id: string }) => f.id), ["img3:4"]);
    assert.ok(tiny.generatedTokens > 0 && tiny.generatedTokens <= 3 * 6);

    // The predictions file is an ordinary predictions file: scoring it again gives the same rows.
    await Effect.runPromise(runEval([
      "--benchmark=stvqa",
      `--data=${root}/data`,
      `--predictions=again=${root}/out/tiny.predictions.jsonl`,
      `--out=${root}/again`,
    ]));
    const strip = (text: string) =>
      text.trim().split("\n").map((l) => JSON.stringify(JSON.parse(l)));
    assert.deepEqual(
      strip(await Deno.readTextFile(`${root}/again/again.scored.jsonl`)),
      strip(await Deno.readTextFile(`${root}/out/tiny.scored.jsonl`)),
    );
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("eval --model rejects a bad --prompt, a non-positive --batch-size and a name used twice", async () => {
  const base = ["--benchmark=mmvp", "--data=x", "--model=ckpt"];
  const flip = (args: Array<string>) => Effect.runPromise(Effect.flip(runEval(args)));
  assert.match(
    (await flip([...base, "--prompt=long"])).message,
    /--prompt must be one of eval, compact, paper/,
  );
  assert.match(
    (await flip([...base, "--batch-size=0"])).message,
    /--batch-size must be a positive integer/,
  );
  assert.match(
    (await flip([...base, "--limit=two"])).message,
    /--limit must be a positive integer/,
  );
  assert.match(
    (await flip([...base, "--predictions=model=p.jsonl"])).message,
    /two systems are named model/,
  );
});

Deno.test({
  name: "eval --model on a folder that is not a checkpoint fails naming it and writes nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir();
    await recordsFolder(`${root}/data`);
    const error = await Effect.runPromise(Effect.flip(runEval([
      "--benchmark=stvqa",
      `--data=${root}/data`,
      `--model=${root}/nothing`,
      `--out=${root}/out`,
    ])));
    assert.match(error.message, new RegExp(`${root}/nothing`));
    await assert.rejects(() => Deno.stat(`${root}/out`));
    await Deno.remove(root, { recursive: true });
  },
});
