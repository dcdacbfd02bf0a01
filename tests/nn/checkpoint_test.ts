import assert from "node:assert/strict";
import { Effect, Option } from "effect";
import {
  checkpointDirName,
  latestCheckpoint,
  loadCheckpoint,
  loadTrainingState,
  openCheckpoint,
  readCheckpointTensors,
  removeInterruptedSaves,
  saveCheckpoint,
} from "../../src/nn/checkpoint.ts";
import { qwen25vlTensorShapes } from "../../src/nn/config.ts";
import { bf16ToF32, f32ToBf16 } from "../../src/nn/dtype.ts";
import {
  encodeSafetensors,
  type HostTensor,
  readSafetensorsHeader,
  readSafetensorsTensors,
} from "../../src/nn/safetensors.ts";
import { tinyModelCheckpoint, tinyTrainingCheckpoint } from "./checkpoint_fixture.ts";

const run = Effect.runPromise;
const tempRoot = () => Deno.makeTempDir({ prefix: "ckpt_test_" });
const model = tinyModelCheckpoint();
const training = tinyTrainingCheckpoint();

/** Rewrites model.safetensors of `dir` through `edit` (a map of stored tensors). */
const editModelFile = async (dir: string, edit: (tensors: Map<string, HostTensor>) => void) => {
  const path = `${dir}/model.safetensors`;
  const header = await run(readSafetensorsHeader(path));
  const tensors = await run(
    readSafetensorsTensors(path, header, header.tensors.map((t) => t.name)),
  );
  edit(tensors);
  await Deno.writeFile(path, encodeSafetensors(tensors, { format: "pt" }));
};

const savedTiny = async () => {
  const dir = `${await tempRoot()}/${checkpointDirName(7)}`;
  await run(saveCheckpoint(dir, model, training));
  return dir;
};

Deno.test("a saved tiny checkpoint loads back with identical weights, configs and tokenizer", async () => {
  const dir = await savedTiny();
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
  assert.deepEqual(names, [
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "optimizer.safetensors",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "trainer_state.json",
  ]);
  const loaded = await run(loadCheckpoint(dir));
  assert.deepEqual(loaded.config, model.config);
  assert.deepEqual(loaded.generation, model.generation);
  assert.deepEqual(loaded.preprocessor, model.preprocessor);
  assert.deepEqual([...loaded.weights.keys()], [...model.weights.keys()]);
  for (const [name, values] of model.weights) {
    assert.deepEqual(loaded.weights.get(name), values, name);
  }
  const text = "the cube is left of the ball<|im_end|>";
  assert.deepEqual(loaded.tokenizer.encode(text), model.tokenizer.encode(text));
});

Deno.test("optimizer moments and trainer_state.json round-trip with the seed", async () => {
  const dir = await savedTiny();
  const loaded = await run(loadTrainingState(dir, model.config));
  assert.deepEqual(loaded.state, training.state);
  assert.equal(loaded.state.seed, 1234);
  for (const [name, values] of training.expAvg) assert.deepEqual(loaded.expAvg.get(name), values);
  for (const [name, values] of training.expAvgSq) {
    assert.deepEqual(loaded.expAvgSq.get(name), values);
  }
});

Deno.test("bf16 storage rounds each weight to nearest even and records torch_dtype", async () => {
  const dir = `${await tempRoot()}/bf16`;
  await run(saveCheckpoint(dir, model, undefined, { dtype: "BF16" }));
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.torch_dtype, "bfloat16");
  const header = await run(readSafetensorsHeader(`${dir}/model.safetensors`));
  assert.ok(header.tensors.every((tensor) => tensor.dtype === "BF16"));
  const loaded = await run(loadCheckpoint(dir));
  for (const [name, values] of model.weights) {
    assert.deepEqual(loaded.weights.get(name), bf16ToF32(f32ToBf16(values)), name);
  }
});

Deno.test("f16 storage loads back within half-precision rounding", async () => {
  const dir = `${await tempRoot()}/f16`;
  await run(saveCheckpoint(dir, model, undefined, { dtype: "F16" }));
  const loaded = await run(loadCheckpoint(dir));
  const values = model.weights.get("model.layers.0.mlp.up_proj.weight")!;
  const back = loaded.weights.get("model.layers.0.mlp.up_proj.weight")!;
  for (let i = 0; i < values.length; i++) {
    assert.ok(Math.abs(back[i]! - values[i]!) <= Math.abs(values[i]!) * 2 ** -11 + 2 ** -25);
  }
});

Deno.test("sharded weights get numbered files and an index that loads back", async () => {
  const dir = `${await tempRoot()}/sharded`;
  await run(saveCheckpoint(dir, model, undefined, { maxShardBytes: 1_000_000 }));
  const files = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((n) =>
    n.startsWith("model")
  );
  const shards = files.filter((name) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(name));
  assert.ok(shards.length >= 5, `expected several shards, got ${files}`);
  assert.ok(files.includes("model.safetensors.index.json") && !files.includes("model.safetensors"));
  const index = JSON.parse(await Deno.readTextFile(`${dir}/model.safetensors.index.json`));
  const shapes = qwen25vlTensorShapes(model.config);
  assert.deepEqual(Object.keys(index.weight_map).sort(), [...shapes.keys()].sort());
  assert.equal(
    index.metadata.total_size,
    [...model.weights.values()].reduce((s, v) => s + v.byteLength, 0),
  );
  const loaded = await run(loadCheckpoint(dir));
  for (const [name, values] of model.weights) {
    assert.deepEqual(loaded.weights.get(name), values, name);
  }
});

Deno.test("tensor names with the newer model.language_model. and model.visual. prefixes load", async () => {
  const dir = await savedTiny();
  await editModelFile(dir, (tensors) => {
    for (const [name, tensor] of [...tensors]) {
      tensors.delete(name);
      const renamed = name.startsWith("visual.")
        ? `model.${name}`
        : name.replace(/^model\./, "model.language_model.");
      tensors.set(renamed, tensor);
    }
  });
  const opened = await run(openCheckpoint(dir));
  assert.ok(opened.tensors.has("visual.blocks.0.attn.qkv.weight"));
  const read = await run(readCheckpointTensors(opened, ["model.norm.weight"]));
  assert.deepEqual(read.get("model.norm.weight"), model.weights.get("model.norm.weight"));
});

Deno.test("a tensor with the wrong shape is named with its expected shape before any data is read", async () => {
  const dir = await savedTiny();
  await editModelFile(dir, (tensors) => {
    tensors.set("model.layers.2.self_attn.k_proj.weight", {
      dtype: "F32",
      shape: [32, 128],
      data: new Uint8Array(32 * 128 * 4),
    });
  });
  const error = await run(Effect.flip(openCheckpoint(dir)));
  assert.equal(error._tag, "CheckpointMismatch");
  assert.match(
    error.message,
    /model\.layers\.2\.self_attn\.k_proj\.weight" should be F32\[64, 128\], found F32\[32, 128\]/,
  );
  assert.match(error.message, new RegExp(dir.replaceAll("/", "\\/")));
});

Deno.test("missing, unexpected and non-float tensors are each reported by name", async () => {
  const cases: Array<[(tensors: Map<string, HostTensor>) => void, RegExp]> = [
    [
      (t) => t.delete("visual.merger.ln_q.weight"),
      /"visual\.merger\.ln_q\.weight" should be float\[96\], found no such tensor/,
    ],
    [
      (t) =>
        t.set("model.layers.9.mlp.up_proj.weight", {
          dtype: "F32",
          shape: [1],
          data: new Uint8Array(4),
        }),
      /"model\.layers\.9\.mlp\.up_proj\.weight" should be no such tensor in this config/,
    ],
    [
      (t) => t.set("model.norm.weight", { dtype: "I32", shape: [128], data: new Uint8Array(512) }),
      /"model\.norm\.weight" should be F32\|F16\|BF16\[128\], found I32\[128\]/,
    ],
  ];
  for (const [edit, expected] of cases) {
    const dir = await savedTiny();
    await editModelFile(dir, edit);
    const error = await run(Effect.flip(loadCheckpoint(dir)));
    assert.match(error.message, expected);
  }
});

Deno.test("an index that points a tensor at the wrong shard is rejected", async () => {
  const dir = `${await tempRoot()}/sharded`;
  await run(saveCheckpoint(dir, model, undefined, { maxShardBytes: 1_000_000 }));
  const indexPath = `${dir}/model.safetensors.index.json`;
  const index = JSON.parse(await Deno.readTextFile(indexPath));
  const files = [...new Set(Object.values(index.weight_map) as Array<string>)].sort();
  index.weight_map["model.norm.weight"] = files.find((file) =>
    file !== index.weight_map["model.norm.weight"]
  );
  await Deno.writeTextFile(indexPath, JSON.stringify(index));
  const error = await run(Effect.flip(openCheckpoint(dir)));
  assert.equal(error._tag, "CheckpointFileInvalid");
  assert.match(error.message, /model\.safetensors\.index\.json/);
});

Deno.test("saving weights that do not match the config writes nothing", async () => {
  const root = await tempRoot();
  const weights = new Map(model.weights);
  weights.set("model.norm.weight", new Float32Array(3));
  const error = await run(Effect.flip(saveCheckpoint(`${root}/bad`, { ...model, weights })));
  assert.equal(error._tag, "CheckpointMismatch");
  assert.match(error.message, /model\.norm\.weight" should be 128 values/);
  assert.deepEqual([...Deno.readDirSync(root)], []);
});

Deno.test("an existing checkpoint folder is never overwritten", async () => {
  const dir = await savedTiny();
  const error = await run(Effect.flip(saveCheckpoint(dir, tinyModelCheckpoint(5))));
  assert.equal(error._tag, "CheckpointExists");
  const loaded = await run(loadCheckpoint(dir));
  assert.deepEqual(loaded.weights.get("model.norm.weight"), model.weights.get("model.norm.weight"));
});

Deno.test("a bad trainer_state.json and mismatched optimizer moments are typed errors", async () => {
  const dir = await savedTiny();
  const statePath = `${dir}/trainer_state.json`;
  const state = JSON.parse(await Deno.readTextFile(statePath));
  await Deno.writeTextFile(statePath, JSON.stringify({ ...state, step: -1 }));
  const bad = await run(Effect.flip(loadTrainingState(dir, model.config)));
  assert.equal(bad._tag, "CheckpointFileInvalid");
  assert.match(bad.message, /trainer_state\.json[\s\S]*step/);
  await Deno.writeTextFile(statePath, JSON.stringify(state));
  const optimizerPath = `${dir}/optimizer.safetensors`;
  const header = await run(readSafetensorsHeader(optimizerPath));
  const moments = await run(
    readSafetensorsTensors(optimizerPath, header, header.tensors.map((t) => t.name)),
  );
  moments.delete("model.norm.weight.exp_avg_sq");
  await Deno.writeFile(optimizerPath, encodeSafetensors(moments));
  const missing = await run(Effect.flip(loadTrainingState(dir, model.config)));
  assert.match(
    missing.message,
    /model\.norm\.weight\.exp_avg_sq" should be F32\[128\], found no such tensor/,
  );
});

Deno.test("latestCheckpoint returns the highest step and ignores temporary folders", async () => {
  const root = await tempRoot();
  assert.ok(Option.isNone(await run(latestCheckpoint(root))));
  for (const name of ["step-00000002", "step-00000010", "step-00000011.tmp-5-0", "notes"]) {
    await Deno.mkdir(`${root}/${name}`);
  }
  assert.equal(Option.getOrThrow(await run(latestCheckpoint(root))), `${root}/step-00000010`);
});

Deno.test("a save killed with SIGKILL leaves the previous checkpoint loadable", async () => {
  const root = await tempRoot();
  const previous = `${root}/${checkpointDirName(1)}`;
  await run(saveCheckpoint(previous, model, training));
  const child = new URL("./checkpoint_kill_child.ts", import.meta.url).pathname;
  let interrupted = 0;
  for (const delayMs of [0, 5, 15, 30, 60, 120]) {
    const next = `${root}/${checkpointDirName(2)}`;
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", child, next],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = process.stdout.getReader();
    let seen = "";
    while (!seen.includes("saving")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      process.kill("SIGKILL");
    } catch {
      // Already exited: the save completed before the kill.
    }
    reader.releaseLock();
    await process.stdout.cancel();
    await process.status;
    const entries = [...Deno.readDirSync(root)].map((entry) => entry.name);
    const nextExists = entries.includes(checkpointDirName(2));
    if (!nextExists && entries.some((name) => name.includes(".tmp-"))) interrupted++;
    // The previous checkpoint is always complete, and so is whatever latestCheckpoint returns.
    const loaded = await run(loadCheckpoint(previous));
    assert.deepEqual(
      loaded.weights.get("model.norm.weight"),
      model.weights.get("model.norm.weight"),
    );
    await run(loadTrainingState(previous, model.config));
    const latest = Option.getOrThrow(await run(latestCheckpoint(root)));
    await run(loadCheckpoint(latest));
    await run(loadTrainingState(latest, model.config));
    // A resuming run clears what the killed save left, and only that.
    const removed = await run(removeInterruptedSaves(root));
    assert.deepEqual(removed, entries.filter((name) => name.includes(".tmp-")).sort());
    const left = [...Deno.readDirSync(root)].map((entry) => entry.name);
    assert.ok(left.every((name) => !name.includes(".tmp-")) && left.includes(checkpointDirName(1)));
    if (nextExists) await Deno.remove(`${root}/${checkpointDirName(2)}`, { recursive: true });
  }
  assert.ok(interrupted > 0, "no kill landed during a save; the test did not exercise anything");
});

Deno.test("checkpointDirName sorts by step", () => {
  assert.equal(checkpointDirName(42), "step-00000042");
  assert.ok(checkpointDirName(9) < checkpointDirName(10));
});
