import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { adamw, type AdamWOptions } from "../../src/gpu/ops/adamw.ts";
import { gradClipStats, reductionScratchElements } from "../../src/gpu/ops/reduce.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { adamwRef, type AdamWRefOptions } from "./reference/adamw.ts";
import { clipStatsRef } from "./reference/reduce.ts";

// Tolerance: each step changes a parameter by ≤ lr·(1/bc1)·|m|/√v̂ ≈ lr (plus decay). The f32
// update has a few roundings of relative size 2⁻²⁴ in that quantity and one in p itself, so after
// three steps the error is ≲ 1e-6 for |p| ≤ 1 and lr = 0.01; 2e-6 leaves margin while a wrong
// bias correction (off by β factors) or a missing decay term moves p by ≥ 1e-4.
const TOL = { rtol: 2e-6, atol: 2e-6 };

const HYPER = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, lr: 0.01 };

/** Runs `steps` AdamW steps on the GPU (one submit) and on the reference; compares p, m, v. */
const checkSteps = async (
  rt: GpuRuntime,
  shape: number[],
  seed: number,
  extra: { clipMaxNorm?: number; gradScale?: number; maxBindingBytes?: number } = {},
) => {
  const rng = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const p0 = randomArray(n, rng);
  const grads = [0, 1, 2].map(() => randomArray(n, rng, 0.5));
  const pt = rt.createTensor(shape, "f32", p0);
  const mt = rt.createTensor(shape, "f32", new Float32Array(n));
  const vt = rt.createTensor(shape, "f32", new Float32Array(n));
  const gts = grads.map((g) => rt.createTensor(shape, "f32", g));
  const stats = rt.createTensor([3]);
  const scratch = rt.createTensor([reductionScratchElements(rt, [pt])]);
  const [p, m, v] = await runAndRead(rt, (rec) => {
    gts.forEach((g, i) => {
      const options: AdamWOptions = {
        ...HYPER,
        step: i + 1,
        ...(extra.gradScale !== undefined ? { gradScale: extra.gradScale } : {}),
        ...(extra.maxBindingBytes !== undefined ? { maxBindingBytes: extra.maxBindingBytes } : {}),
      };
      if (extra.clipMaxNorm !== undefined) {
        gradClipStats(rec, [g], scratch, stats, {
          maxNorm: extra.clipMaxNorm,
          ...(extra.gradScale !== undefined ? { gradScale: extra.gradScale } : {}),
        });
        adamw(rec, pt, g, mt, vt, { ...options, clipStats: stats });
      } else adamw(rec, pt, g, mt, vt, options);
    });
    return [pt, mt, vt];
  });
  const pr = Float64Array.from(p0);
  const mr = new Float64Array(n);
  const vr = new Float64Array(n);
  grads.forEach((g, i) => {
    // The clip norm is that of the scaled gradient, the one AdamW applies.
    const scaled = Array.from(g, (x) => x * (extra.gradScale ?? 1));
    const clipScale = extra.clipMaxNorm === undefined
      ? 1
      : clipStatsRef([scaled], extra.clipMaxNorm)[2];
    const options: AdamWRefOptions = {
      ...HYPER,
      step: i + 1,
      gradScale: extra.gradScale ?? 1,
      clipScale,
    };
    adamwRef(pr, g, mr, vr, options);
  });
  const label = `[${shape}] ${JSON.stringify(extra)}`;
  assertAllClose(p!, pr, { ...TOL, label: `p ${label}` });
  assertAllClose(m!, mr, { ...TOL, label: `m ${label}` });
  assertAllClose(v!, vr, { rtol: 1e-5, atol: 1e-9, label: `v ${label}` });
};

gpuTest("adamw matches the float64 reference over three steps", async (rt) => {
  let seed = 1;
  for (const shape of [[1], [7], [3, 8], [130, 70]]) await checkSteps(rt, shape, seed++);
});

gpuTest("adamw applies the gradient scale and the GPU clip scale", async (rt) => {
  await checkSteps(rt, [5, 9], 10, { gradScale: 0.25 });
  // maxNorm 0.5 is below the gradient norm (~8): clipping is active.
  await checkSteps(rt, [5, 9], 11, { clipMaxNorm: 0.5 });
  await checkSteps(rt, [64], 12, { clipMaxNorm: 1e6, gradScale: 2 });
  // Clipping active on the scaled gradient (norm ≈ 1.2 after scaling by 0.5, maxNorm 1).
  await checkSteps(rt, [64], 13, { clipMaxNorm: 1, gradScale: 0.5 });
});

gpuTest("adamw splits tensors over the binding limit into chunks", async (rt) => {
  await checkSteps(rt, [3000], 20, { maxBindingBytes: 4096 });
  await checkSteps(rt, [1001], 21, { maxBindingBytes: 1024, clipMaxNorm: 0.5 });
});

gpuTest("adamw rejects mismatched tensors and a bad step before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const t = (shape: number[], dtype: "f32" | "u32" = "f32") => rt.createTensor(shape, dtype);
  const ok = { lr: 0.01, step: 1 };
  const cases: Array<() => void> = [
    () => adamw(rec, t([4]), t([5]), t([4]), t([4]), ok),
    () => adamw(rec, t([4]), t([4]), t([2, 2]), t([4]), ok),
    () => adamw(rec, t([4]), t([4]), t([4]), t([4], "u32"), ok),
    () => adamw(rec, t([4]), t([4]), t([4]), t([4]), { ...ok, clipStats: t([2]) }),
    () => adamw(rec, t([4]), t([4]), t([4]), t([4]), { ...ok, step: 0 }),
    () => adamw(rec, t([4]), t([4]), t([4]), t([4]), { ...ok, step: 1.5 }),
  ];
  for (const bad of cases) assert.throws(bad, ShapeMismatch);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});

gpuTest("adamw rejects state tensors that overlap each other or the gradient", (rt) => {
  const rec = new CommandRecorder(rt);
  const t = () => rt.createTensor([4]);
  const [p, g, m, v] = [t(), t(), t(), t()];
  const ok = { lr: 0.01, step: 1 };
  assert.throws(() => adamw(rec, p, p, m, v, ok), ShapeMismatch);
  assert.throws(() => adamw(rec, p, g, m, m, ok), ShapeMismatch);
  assert.throws(() => adamw(rec, p, g, m, v, { ...ok, clipStats: { ...v, shape: [3] } }));
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
