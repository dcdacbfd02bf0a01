import assert from "node:assert/strict";
import { Result } from "effect";
import { parseGenerateArgs, TextStream } from "../../src/cli/generate.ts";
import { encode as encodePng } from "fast-png";
import { microHf, microHfWeights, microTokenizer, writeHfCheckpoint } from "../nn/hf_fixture.ts";
import { image } from "../nn/micro.ts";

const parse = (...args: string[]) => parseGenerateArgs(args);
const reason = (result: ReturnType<typeof parseGenerateArgs>) =>
  Result.isFailure(result) ? result.failure.reason : "parsed";

Deno.test("generate flags parse with greedy, top-p 1 and seed 0 as defaults", () => {
  const options = Result.getOrThrow(parse("--model", "ckpt", "--image", "a.png", "--prompt", "Q"));
  assert.deepEqual(options, {
    model: "ckpt",
    image: "a.png",
    prompt: "Q",
    maxNewTokens: 512,
    temperature: 0,
    topP: 1,
    seed: 0,
  });
  const sampled = Result.getOrThrow(
    parse(
      "--model=m",
      "--prompt=Q",
      "--temperature=0.7",
      "--top-p=0.9",
      "--seed=5",
      "--max-new-tokens=8",
      "--dump-logits=out.safetensors",
    ),
  );
  assert.equal(sampled.temperature, 0.7);
  assert.equal(sampled.topP, 0.9);
  assert.equal(sampled.seed, 5);
  assert.equal(sampled.maxNewTokens, 8);
  assert.equal(sampled.dumpLogits, "out.safetensors");
});

Deno.test("missing, unknown and out-of-range generate flags are typed errors naming the problem", () => {
  assert.match(reason(parse("--prompt", "Q")), /--model/);
  assert.match(reason(parse("--model", "m")), /--prompt/);
  assert.match(reason(parse("--model", "m", "--prompt", "Q", "--bogus", "1")), /bogus/);
  assert.match(reason(parse("--model", "m", "--prompt", "Q", "--top-p", "0")), /topP/);
  assert.match(
    reason(parse("--model", "m", "--prompt", "Q", "--temperature", "-1")),
    /temperature/,
  );
  assert.match(reason(parse("--model", "m", "--prompt", "Q", "--max-new-tokens", "2.5")), /maxNew/);
  assert.match(reason(parse("--model", "m", "--prompt", "Q", "--seed", "")), /seed/);
});

Deno.test("--weights-dtype takes f32, bf16 or f16 and is absent (from the checkpoint) by default", () => {
  const base = ["--model", "m", "--prompt", "Q"];
  assert.equal(Result.getOrThrow(parse(...base)).weightsDtype, undefined);
  for (const dtype of ["f32", "bf16", "f16"]) {
    assert.equal(Result.getOrThrow(parse(...base, "--weights-dtype", dtype)).weightsDtype, dtype);
  }
  assert.match(reason(parse(...base, "--weights-dtype", "f8")), /weightsDtype/);
});

Deno.test("TextStream holds back a character split across tokens until it is complete", () => {
  const tokenizer = microTokenizer();
  const ids = tokenizer.encode("cube é!");
  const stream = new TextStream(tokenizer);
  const pieces = ids.map((id) => stream.push([id]));
  assert.equal(pieces.join("") + stream.flush(), "cube é!");
  assert.ok(pieces.every((piece) => !piece.includes("\uFFFD")));
  // "é" is two byte-level tokens here: the first yields nothing.
  assert.ok(pieces.includes(""));
});

const CLI = new URL("../../src/cli/generate.ts", import.meta.url).pathname;

const runCli = async (...args: string[]) => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
};

Deno.test({
  name: "the generate command answers from a checkpoint folder and reports bad input by name",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await writeHfCheckpoint(dir, microHf, microHfWeights(microHf, 2), {
      dtype: "F16",
      shards: 1,
      names: "published",
    });
    const rgb = image(5);
    await Deno.writeFile(
      `${dir}/scene.png`,
      encodePng({ width: rgb.width, height: rgb.height, data: rgb.data, channels: 3 }),
    );
    const dump = `${dir}/logits.safetensors`;
    const ok = await runCli(
      ...["--model", dir, "--image", `${dir}/scene.png`, "--prompt", "where is the cube"],
      ...["--max-new-tokens", "5", "--temperature", "1", "--seed", "4", "--dump-logits", dump],
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /\[\d+ prompt tokens, \d generated in [\d.]+ s \([\d.]+ tokens\/s\)/);
    assert.ok((await Deno.stat(dump)).size > 0);

    const badImage = await runCli("--model", dir, "--image", `${dir}/missing.png`, "--prompt", "q");
    assert.equal(badImage.code, 1);
    assert.match(badImage.stderr, /cannot read image .*missing\.png/);
    const badFlag = await runCli("--model", dir, "--prompt", "q", "--top-p", "2");
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /topP/);
    await Deno.remove(dir, { recursive: true });
  },
});
