import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { add, swigluBackward, swigluForward } from "../../src/gpu/ops/residual.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { silu } from "../../src/nn/reference/math_f64.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference } from "./reference/central_difference.ts";

gpuTest(
  "add sums elementwise over a length that is not a multiple of the workgroup",
  async (rt) => {
    const n = 1031;
    const rng = seededRandom(1);
    const a = randomArray(n, rng);
    const b = randomArray(n, rng);
    const ta = rt.createTensor([n], "f32", a);
    const tb = rt.createTensor([n], "f32", b);
    const out = rt.createTensor([n]);
    const [got] = await runAndRead(rt, (rec) => {
      fill(rec, out, NaN);
      add(rec, ta, tb, out);
      return [out];
    });
    // One f32 addition: exact up to the rounding of the sum.
    assertAllClose(got!, Float64Array.from(a, (x, i) => x + b[i]!), { rtol: 1e-7, atol: 1e-7 });
  },
);

gpuTest("swiglu forward and backward match float64 and central differences", async (rt) => {
  const rows = 7;
  const cols = 45;
  const n = rows * cols;
  const rng = seededRandom(2);
  const gate = randomArray(n, rng, 4);
  const up = randomArray(n, rng, 2);
  const dout = randomArray(n, rng, 1);
  const t = (data?: Float32Array<ArrayBuffer>) => rt.createTensor([rows, cols], "f32", data);
  const [tg, tu, td, out, dg, du] = [t(gate), t(up), t(dout), t(), t(), t()];
  const [y, dgate, dup] = await runAndRead(rt, (rec) => {
    for (const x of [out, dg, du]) fill(rec, x, NaN);
    swigluForward(rec, tg!, tu!, out!);
    swigluBackward(rec, tg!, tu!, td!, dg!, du!);
    return [out!, dg!, du!];
  });
  // exp and division in f32: relative error a few ulps.
  assertAllClose(y!, Float64Array.from(gate, (g, i) => silu(g) * up[i]!), {
    rtol: 1e-6,
    atol: 1e-6,
  });
  const g64 = Float64Array.from(gate);
  const u64 = Float64Array.from(up);
  const loss = (g: Float64Array, u: Float64Array) =>
    g.reduce((acc, gi, i) => acc + silu(gi) * u[i]! * dout[i]!, 0);
  const tol = { rtol: 1e-4, atol: 1e-5 };
  assertAllClose(dgate!, centralDifference((g) => loss(g, u64), g64, 1e-5), {
    ...tol,
    label: "dgate",
  });
  assertAllClose(dup!, centralDifference((u) => loss(g64, u), u64, 1e-5), { ...tol, label: "dup" });
});

gpuTest("add and swiglu reject mismatched shapes", (rt) => {
  const rec = new CommandRecorder(rt);
  const a = rt.createTensor([2, 3]);
  const b = rt.createTensor([3, 2]);
  assert.throws(() => add(rec, a, b, rt.createTensor([2, 3])), ShapeMismatch);
  assert.throws(() => swigluForward(rec, a, b, a), ShapeMismatch);
  return Promise.resolve();
});
