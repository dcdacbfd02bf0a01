import { fill } from "../../src/gpu/ops/fill.ts";
import { geluBackward, geluForward } from "../../src/gpu/ops/gelu.ts";
import { gelu } from "../../src/nn/reference/math_f64.ts";
import { assertAllClose, gpuTest, randomArray, seededRandom } from "../gpu/harness.ts";
import { runAndRead } from "../gpu/harness.ts";
import { centralDifference } from "./reference/central_difference.ts";

// erf is a Chebyshev fit with fractional error < 1.2e-7, so gelu is within ~1e-7·|x| of the float64
// value before f32 rounding; atol 1e-6 with rtol 1e-5 leaves room for exp/rounding in f32.
const TOL = { rtol: 1e-5, atol: 1e-6 };

gpuTest("geluForward matches the float64 erf GELU over a wide input range", async (rt) => {
  const n = 1000; // not a multiple of the 256-wide workgroup
  const xs = randomArray(n, seededRandom(1), 6);
  const x = rt.createTensor([n], "f32", xs);
  const y = rt.createTensor([n]);
  const [got] = await runAndRead(rt, (rec) => {
    fill(rec, y, NaN);
    geluForward(rec, x, y);
    return [y];
  });
  assertAllClose(got!, Float64Array.from(xs, gelu), { ...TOL, label: "gelu" });
});

gpuTest("geluBackward matches central differences of the float64 GELU", async (rt) => {
  const n = 300;
  const rng = seededRandom(2);
  const xs = randomArray(n, rng, 4);
  const dys = randomArray(n, rng, 1);
  const x = rt.createTensor([n], "f32", xs);
  const dy = rt.createTensor([n], "f32", dys);
  const dx = rt.createTensor([n]);
  const [got] = await runAndRead(rt, (rec) => {
    fill(rec, dx, NaN);
    geluBackward(rec, x, dy, dx);
    return [dx];
  });
  const xd = Float64Array.from(xs);
  const loss = (v: Float64Array) => v.reduce((acc, xi, i) => acc + gelu(xi) * dys[i]!, 0);
  assertAllClose(got!, centralDifference(loss, xd, 1e-5), {
    rtol: 1e-4,
    atol: 1e-5,
    label: "dgelu",
  });
});
