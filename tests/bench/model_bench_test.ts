import assert from "node:assert/strict";
import { benchShapes, runTinyVlmPeer } from "../../bench/model_bench.ts";
import { findTorchPython } from "../../bench/peers/torch.ts";
import { parameterCount, PRESETS } from "../../src/nn/config.ts";

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
    // Generation includes the prompt pass, so it cannot be faster than the prompt pass alone.
    assert.ok(report.ms.get("generate")! > report.ms.get("prefill")!);
  },
});
