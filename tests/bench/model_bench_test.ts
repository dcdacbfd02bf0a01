import assert from "node:assert/strict";
import { benchShapes, callTinyVlmPeer, runTinyVlmPeer } from "../../bench/model_bench.ts";
import { findTorchPython } from "../../bench/peers/torch.ts";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { parameterCount, PRESETS } from "../../src/nn/config.ts";
import { processImage } from "../../src/nn/image_processor.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { seededRandom, sharedRuntime } from "../gpu/harness.ts";

const torch = await findTorchPython();

Deno.test({
  name: "the PyTorch peer builds the tiny preset with exactly its parameter count and times " +
    "every case",
  ignore: torch === undefined,
  fn: async () => {
    const report = await runTinyVlmPeer({ ...benchShapes(true), reps: 1 }, [1, 6, 6], 13);
    assert.ok(report !== undefined);
    assert.equal(report.parameters, parameterCount(PRESETS.tiny.config));
    for (const name of ["train-step", "prefill", "generate"]) {
      const ms = report.ms.get(name);
      assert.ok(ms !== undefined && ms > 0, name);
    }
  },
});

Deno.test({
  name: "the PyTorch peer computes our model's logits from the same weights and batch",
  ignore: torch === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const rt = await sharedRuntime();
    const config = PRESETS.tiny.config;
    const random = seededRandom(9);
    // Norms and biases off their initial 1 and 0, so a mistake in either shows in the logits.
    const weights = new Map(
      [...initialWeights(config, 4)].map(([name, values]) => {
        const moved = /\.bias$|norm|ln_q/.test(name);
        return [name, Float32Array.from(values, (x) => 3 * x + (moved ? random() - 0.5 : 0))];
      }),
    );
    const image = processImage({
      width: 96,
      height: 96,
      data: Uint8Array.from({ length: 96 * 96 * 3 }, () => Math.floor(random() * 256)),
    });
    const text = () => Math.floor(random() * config.bos_token_id);
    const tokens = [
      text(),
      config.vision_start_token_id,
      ...Array.from({ length: image.imageTokens }, () => config.image_token_id),
      config.vision_end_token_id,
      ...Array.from({ length: 12 }, text),
    ];
    const host = packBatch(config, [{ tokens, image, responseStart: tokens.length }], 0);
    const vlm = new Vlm(rt, config, weights);
    const arena = new Arena(rt.pool);
    const rec = new CommandRecorder(rt, "peer-check");
    rec.read(vlm.forward(rec, arena, vlm.upload(arena, host)).logits);
    const ours = (await rec.submit().resolve()).arrays[0] as Float32Array;
    arena.reset();

    const dir = await Deno.makeTempDir();
    const entries = [...weights, ["pixels", image.pixelValues] as const];
    const tensors: Array<{ name: string; shape: number[]; offset: number }> = [];
    const all = new Float32Array(entries.reduce((n, [, v]) => n + v.length, 0));
    let offset = 0;
    const patches = image.grid[0] * image.grid[1] * image.grid[2];
    for (const [name, values] of entries) {
      // Weights are reshaped by name on the peer's side; the pixels need their row shape.
      const shape = name === "pixels" ? [patches, values.length / patches] : [values.length];
      tensors.push({ name, shape, offset });
      all.set(values, offset);
      offset += values.length;
    }
    await Deno.writeFile(`${dir}/weights.f32`, new Uint8Array(all.buffer));
    const T = host.length;
    const positions = [0, 1, 2].map((
      axis,
    ) => [Array.from(host.positions.subarray(axis * T, (axis + 1) * T))]);
    const answer = await callTinyVlmPeer(torch!, {
      mode: "logits",
      config,
      weights: { file: `${dir}/weights.f32`, tensors },
      ids: [tokens],
      positions,
      grid: image.grid,
    }) as { logits: number[] };
    await Deno.remove(dir, { recursive: true });
    assert.equal(answer.logits.length, ours.length);
    const scale = Math.max(...ours.map(Math.abs));
    const worst = Math.max(...answer.logits.map((x, i) => Math.abs(x - ours[i]!)));
    assert.ok(scale > 0.1, `logits of magnitude ${scale} would make the check vacuous`);
    assert.ok(
      worst < 1e-4 * Math.max(1, scale) + 1e-4,
      `largest difference ${worst} (scale ${scale})`,
    );
  },
});
