import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { softmaxBackward, softmaxForward } from "../../src/gpu/ops/softmax.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { softmaxBackwardRef, softmaxForwardRef } from "./reference/softmax.ts";

// Tolerances: each output is exp(a)/Σexp with f32 rounding in the exponent argument (|scale·x| ≤
// ~50 here, so ~50·6e-8 ≈ 3e-6 relative) and a sum of ≤ 300 terms (~1e-6); 2e-5 relative leaves
// room without hiding a wrong max or a missing term (which shifts entries by ≥ 1/300).
const TOL = { rtol: 2e-5, atol: 1e-7 };

const runForward = async (
  rt: GpuRuntime,
  shape: number[],
  x: ArrayLike<number>,
  scale: number,
  workgroupSize: number,
) => {
  const xt = rt.createTensor(shape, "f32", Float32Array.from(x));
  const yt = rt.createTensor(shape);
  const [y] = await runAndRead(rt, (rec) => {
    fill(rec, yt, Number.NaN);
    softmaxForward(rec, xt, yt, { scale, workgroupSize });
    return [yt];
  });
  return y as Float32Array;
};

const runBackward = async (
  rt: GpuRuntime,
  shape: number[],
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  scale: number,
  workgroupSize: number,
) => {
  const yt = rt.createTensor(shape, "f32", Float32Array.from(y));
  const dyt = rt.createTensor(shape, "f32", Float32Array.from(dy));
  const dxt = rt.createTensor(shape);
  const [dx] = await runAndRead(rt, (rec) => {
    fill(rec, dxt, Number.NaN);
    softmaxBackward(rec, yt, dyt, dxt, { scale, workgroupSize });
    return [dxt];
  });
  return dx as Float32Array;
};

const CASES: ReadonlyArray<{ shape: number[]; scale: number; wg: number }> = [
  { shape: [1, 1], scale: 1, wg: 64 },
  { shape: [3, 7], scale: 1, wg: 64 },
  { shape: [2, 5, 300], scale: 0.125, wg: 64 },
  { shape: [4, 129], scale: 2, wg: 8 },
  { shape: [70, 65], scale: 1, wg: 256 },
];

gpuTest("softmaxForward matches the float64 reference on ragged rows", async (rt) => {
  const rng = seededRandom(11);
  for (const { shape, scale, wg } of CASES) {
    const cols = shape.at(-1)!;
    const x = randomArray(shape.reduce((a, b) => a * b, 1), rng, 4);
    const y = await runForward(rt, shape, x, scale, wg);
    assertAllClose(y, softmaxForwardRef(x, cols, scale), { ...TOL, label: `y ${shape}` });
  }
});

gpuTest("softmaxForward stays finite for inputs far beyond exp's f32 range", async (rt) => {
  const x = new Float32Array([1000, 999, -1000, 0, 500, 500.5]);
  const y = await runForward(rt, [2, 3], x, 1, 64);
  assertAllClose(y, softmaxForwardRef(x, 3), { ...TOL, label: "y" });
});

gpuTest("softmaxBackward matches the float64 reference on ragged rows", async (rt) => {
  const rng = seededRandom(12);
  for (const { shape, scale, wg } of CASES) {
    const cols = shape.at(-1)!;
    const n = shape.reduce((a, b) => a * b, 1);
    const y = Float32Array.from(softmaxForwardRef(randomArray(n, rng, 3), cols));
    const dy = randomArray(n, rng);
    const dx = await runBackward(rt, shape, y, dy, scale, wg);
    // dx terms are y·(dy − dot) with |dy| ≤ 1: absolute error ~1e-7 dominates near zero.
    assertAllClose(dx, softmaxBackwardRef(y, dy, cols, scale), {
      rtol: 2e-5,
      atol: 2e-7,
      label: `dx ${shape}`,
    });
  }
});

Deno.test("softmaxBackwardRef agrees with central differences of softmaxForwardRef", () => {
  const rng = seededRandom(13);
  const cols = 6;
  const scale = 0.7;
  const x = Array.from(randomArray(2 * cols, rng, 2));
  const w = Array.from(randomArray(2 * cols, rng));
  const loss = (xs: number[]) =>
    softmaxForwardRef(xs, cols, scale).reduce((acc, yi, i) => acc + yi * w[i]!, 0);
  const analytic = softmaxBackwardRef(softmaxForwardRef(x, cols, scale), w, cols, scale);
  const h = 1e-6;
  const numeric = x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i]! += h;
    minus[i]! -= h;
    return (loss(plus) - loss(minus)) / (2 * h);
  });
  // float64 central differences with h = 1e-6: truncation ~h², rounding ~1e-16/h = 1e-10.
  assertAllClose(analytic, numeric, { rtol: 1e-7, atol: 1e-8, label: "fd" });
});

gpuTest("softmaxBackward agrees with central differences of the GPU forward", async (rt) => {
  const rng = seededRandom(14);
  const shape = [2, 9];
  const x = randomArray(18, rng, 2);
  const w = randomArray(18, rng);
  const y = await runForward(rt, shape, x, 1, 64);
  const dx = await runBackward(rt, shape, y, w, 1, 64);
  // One batched run: every perturbed input as its own row block.
  const h = 1e-2;
  const perturbed = new Float32Array(2 * 18 * 18);
  for (let i = 0; i < 18; i++) {
    for (const [sign, block] of [[1, 2 * i], [-1, 2 * i + 1]] as const) {
      perturbed.set(x, block * 18);
      perturbed[block * 18 + i]! += sign * h;
    }
  }
  const yp = await runForward(rt, [36, 2, 9], perturbed, 1, 64);
  const numeric = Array.from({ length: 18 }, (_, i) => {
    let plus = 0;
    let minus = 0;
    for (let k = 0; k < 18; k++) {
      plus += yp[2 * i * 18 + k]! * w[k]!;
      minus += yp[(2 * i + 1) * 18 + k]! * w[k]!;
    }
    return (plus - minus) / (2 * h);
  });
  // f32 forward: rounding ~1e-7/h = 1e-5 per difference, truncation ~h²·|y'''| ≈ 1e-4.
  assertAllClose(dx, numeric, { rtol: 2e-3, atol: 3e-4, label: "gpu fd" });
});

gpuTest("softmax ops reject mismatched shapes before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const x = rt.createTensor([2, 3]);
  assert.throws(() => softmaxForward(rec, x, rt.createTensor([3, 2])), ShapeMismatch);
  assert.throws(() => softmaxForward(rec, x, rt.createTensor([2, 3], "u32")), ShapeMismatch);
  assert.throws(
    () => softmaxBackward(rec, x, rt.createTensor([2, 4]), rt.createTensor([2, 3])),
    ShapeMismatch,
  );
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
