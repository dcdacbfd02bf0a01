import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { type HostBatch, IGNORE_TARGET, packBatch } from "../../src/nn/batch.ts";
import { recordSftLoss, weightedLogProbGradient } from "../../src/nn/sft_loss.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { gpuTest } from "../gpu/harness.ts";
import { micro, samples, weightsFor } from "./micro.ts";

/** Every parameter gradient of the SFT objective on `host`, from zeroed gradients. */
const gradientsOf = async (rt: GpuRuntime, vlm: Vlm, host: HostBatch) => {
  const arena = new Arena(rt.pool);
  const rec = new CommandRecorder(rt);
  vlm.params.zeroGrads(rec);
  recordSftLoss(rec, arena, vlm, host);
  vlm.params.read(rec, "grad");
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  return vlm.params.collect(arrays);
};

const assertClose = (
  a: Map<string, Float32Array>,
  b: Map<string, Float32Array>,
  tolerance: number,
) => {
  for (const [name, x] of a) {
    const y = b.get(name)!;
    const scale = Math.max(1e-6, ...y.map(Math.abs));
    x.forEach((v, i) =>
      assert.ok(Math.abs(v - y[i]!) <= tolerance * scale, `${name}[${i}]: ${v} vs ${y[i]}`)
    );
  }
};

Deno.test("weightedLogProbGradient is −scale·w/Σw, and zero for a batch with no weight", () => {
  assert.deepEqual(
    [...weightedLogProbGradient(new Float32Array([0, 1, 3, 0]), 0.5)],
    [-0, -0.125, -0.375, -0],
  );
  assert.deepEqual([...weightedLogProbGradient(new Float32Array(3), 1)], [0, 0, 0]);
});

gpuTest(
  "scaling every token weight by the same factor leaves the gradients unchanged",
  async (rt) => {
    const vlm = new Vlm(rt, micro, weightsFor(21));
    const plain = packBatch(micro, samples(), 0);
    const scaled = packBatch(
      micro,
      samples().map((s) => ({ ...s, tokenWeights: s.tokens.map(() => 7) })),
      0,
    );
    assertClose(await gradientsOf(rt, vlm, scaled), await gradientsOf(rt, vlm, plain), 1e-5);
  },
);

gpuTest("a token of weight 0 contributes exactly what an ignored target does", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(22));
  const base = samples();
  // Weight 0 on the first learned token of each sequence, 1 elsewhere.
  const weighted = packBatch(
    micro,
    base.map((s) => ({
      ...s,
      tokenWeights: s.tokens.map((_, t) => (t === s.responseStart ? 0 : 1)),
    })),
    0,
  );
  const plain = packBatch(micro, base, 0);
  const ignored: HostBatch = {
    ...plain,
    targets: plain.targets.map((target, row) =>
      weighted.targetWeights[row] === 0 ? IGNORE_TARGET : target
    ),
    targetWeights: weighted.targetWeights,
  };
  assert.ok(ignored.targets.some((t, row) => t === IGNORE_TARGET && plain.targets[row] !== t));
  assertClose(await gradientsOf(rt, vlm, weighted), await gradientsOf(rt, vlm, ignored), 1e-5);
});

gpuTest("doubling the weight of some tokens changes the gradients", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(23));
  const base = samples();
  const plain = await gradientsOf(rt, vlm, packBatch(micro, base, 0));
  const focused = await gradientsOf(
    rt,
    vlm,
    packBatch(
      micro,
      base.map((s) => ({ ...s, tokenWeights: s.tokens.map((_, t) => (t % 2 === 0 ? 2 : 1)) })),
      0,
    ),
  );
  const differs = [...plain].some(([name, a]) => {
    const b = focused.get(name)!;
    const scale = Math.max(...a.map(Math.abs));
    return a.some((v, i) => Math.abs(v - b[i]!) > 1e-3 * scale);
  });
  assert.ok(differs);
});
