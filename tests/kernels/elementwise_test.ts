import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import {
  add,
  addScaled,
  scale,
  siluBackward,
  siluForward,
  swigluBackward,
  swigluForward,
} from "../../src/gpu/ops/elementwise.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference, dot, pick } from "./reference/central_difference.ts";
import { siluBackwardRef, siluRef, swigluBackwardRef, swigluRef } from "./reference/elementwise.ts";

// Tolerances: every output is a handful of f32 operations (one exp for SiLU, ~1 ulp each on the
// GPU, a few ulp for exp): relative error ≲ 1e-6. rtol 1e-5 plus atol 1e-6 (outputs near zero)
// has margin; a wrong formula (e.g. a missing x·(1 − s) term) is off by ≥ 1e-2.
const TOL = { rtol: 1e-5, atol: 1e-6 };

// Element counts: 1, odd (scalar path), multiples of 4 (vec4 path), and more than one workgroup.
const SHAPES: ReadonlyArray<number[]> = [[1], [3, 5], [7, 12], [3, 700]];

// 6000-byte bindings force two chunks on the [3, 700] case (8400 bytes), whole rows for add_row.
const SPLIT = { maxBindingBytes: 6000 };

gpuTest("add matches a + b, and broadcasts a row vector, in one or several chunks", async (rt) => {
  const rng = seededRandom(1);
  for (const shape of SHAPES) {
    for (const options of [{}, SPLIT]) {
      const n = shape.reduce((x, y) => x * y, 1);
      const cols = shape.at(-1)!;
      const a = randomArray(n, rng);
      const b = randomArray(n, rng);
      const row = randomArray(cols, rng);
      const [at, bt, rowT] = [rt.createTensor(shape, "f32", a), rt.createTensor(shape, "f32", b)]
        .concat(rt.createTensor([cols], "f32", row));
      const out = rt.createTensor(shape);
      const outRow = rt.createTensor(shape);
      const [sum, sumRow] = await runAndRead(rt, (rec) => {
        fill(rec, out, Number.NaN);
        fill(rec, outRow, Number.NaN);
        add(rec, at!, bt!, out, options);
        if (shape.length > 1) add(rec, at!, rowT!, outRow, options);
        return shape.length > 1 ? [out, outRow] : [out];
      });
      const label = `[${shape}]${options === SPLIT ? " split" : ""}`;
      assertAllClose(sum!, Array.from(a, (v, i) => v + b[i]!), { ...TOL, label });
      if (shape.length > 1) {
        const expected = Array.from(a, (v, i) => v + row[i % cols]!);
        assertAllClose(sumRow!, expected, { ...TOL, label: `${label} row` });
      }
    }
  }
});

gpuTest("scale and addScaled compute alpha·x and y + alpha·x in place", async (rt) => {
  const rng = seededRandom(2);
  for (const shape of SHAPES) {
    for (const options of [{}, SPLIT]) {
      const n = shape.reduce((x, y) => x * y, 1);
      const x = randomArray(n, rng);
      const y = randomArray(n, rng);
      const xt = rt.createTensor(shape, "f32", x);
      const yt = rt.createTensor(shape, "f32", y);
      const scaled = rt.createTensor(shape);
      const [s, acc] = await runAndRead(rt, (rec) => {
        fill(rec, scaled, Number.NaN);
        scale(rec, xt, scaled, -1.5, options);
        addScaled(rec, xt, yt, 0.25, options);
        return [scaled, yt];
      });
      assertAllClose(s!, Array.from(x, (v) => -1.5 * v), { ...TOL, label: `scale [${shape}]` });
      assertAllClose(acc!, Array.from(x, (v, i) => y[i]! + 0.25 * v), {
        ...TOL,
        label: `addScaled [${shape}]`,
      });
    }
  }
});

gpuTest("SiLU forward and backward match the float64 reference", async (rt) => {
  const rng = seededRandom(3);
  for (const shape of SHAPES) {
    for (const options of [{}, SPLIT]) {
      const n = shape.reduce((x, y) => x * y, 1);
      // Inputs up to ±12 reach both saturated tails of the sigmoid.
      const x = randomArray(n, rng, 12);
      const dy = randomArray(n, rng);
      const [xt, dyt] = [rt.createTensor(shape, "f32", x), rt.createTensor(shape, "f32", dy)];
      const [yt, dxt] = [rt.createTensor(shape), rt.createTensor(shape)];
      const [y, dx] = await runAndRead(rt, (rec) => {
        fill(rec, yt, Number.NaN);
        fill(rec, dxt, Number.NaN);
        siluForward(rec, xt, yt, options);
        siluBackward(rec, xt, dyt, dxt, options);
        return [yt, dxt];
      });
      assertAllClose(y!, siluRef(x), { ...TOL, label: `silu [${shape}]` });
      assertAllClose(dx!, siluBackwardRef(x, dy), { ...TOL, label: `silu bwd [${shape}]` });
    }
  }
});

gpuTest("SwiGLU forward and backward match the float64 reference", async (rt) => {
  const rng = seededRandom(4);
  for (const shape of SHAPES) {
    for (const options of [{}, SPLIT]) {
      const n = shape.reduce((x, y) => x * y, 1);
      const gate = randomArray(n, rng, 8);
      const up = randomArray(n, rng, 2);
      const dy = randomArray(n, rng);
      const [gt, ut, dyt] = [gate, up, dy].map((v) => rt.createTensor(shape, "f32", v));
      const [yt, dgt, dut] = [0, 1, 2].map(() => rt.createTensor(shape));
      const [y, dg, du] = await runAndRead(rt, (rec) => {
        for (const t of [yt!, dgt!, dut!]) fill(rec, t, Number.NaN);
        swigluForward(rec, gt!, ut!, yt!, options);
        swigluBackward(rec, gt!, ut!, dyt!, dgt!, dut!, options);
        return [yt!, dgt!, dut!];
      });
      const ref = swigluBackwardRef(gate, up, dy);
      assertAllClose(y!, swigluRef(gate, up), { ...TOL, label: `swiglu [${shape}]` });
      assertAllClose(dg!, ref.dgate, { ...TOL, label: `swiglu dgate [${shape}]` });
      assertAllClose(du!, ref.dup, { ...TOL, label: `swiglu dup [${shape}]` });
    }
  }
});

gpuTest("SiLU and SwiGLU gradients match finite differences", async (rt) => {
  const rng = seededRandom(5);
  const n = 37;
  const x = randomArray(n, rng, 6);
  const up = randomArray(n, rng, 2);
  const dy = randomArray(n, rng);
  const [xt, ut, dyt] = [x, up, dy].map((v) => rt.createTensor([n], "f32", v));
  const [dxt, dgt, dut] = [0, 1, 2].map(() => rt.createTensor([n]));
  const [dx, dg, du] = await runAndRead(rt, (rec) => {
    siluBackward(rec, xt!, dyt!, dxt!);
    swigluBackward(rec, xt!, ut!, dyt!, dgt!, dut!);
    return [dxt!, dgt!, dut!];
  });
  // L = <dy, f(inputs)> in float64; central differences with h = 1e-4 have truncation error
  // ~h²·|f'''| ≈ 1e-8 here, far below the tolerance.
  const probes = [0, 5, 17, 36];
  const x64 = Float64Array.from(x);
  const up64 = Float64Array.from(up);
  const fdSilu = centralDifference((v) => dot(siluRef(v), dy), x64, 1e-4, probes);
  assertAllClose(pick(dx!, probes), fdSilu, { ...TOL, label: "silu dx vs fd" });
  const fdGate = centralDifference((v) => dot(swigluRef(v, up64), dy), x64, 1e-4, probes);
  assertAllClose(pick(dg!, probes), fdGate, { ...TOL, label: "swiglu dgate vs fd" });
  const fdUp = centralDifference((v) => dot(swigluRef(x64, v), dy), up64, 1e-4, probes);
  assertAllClose(pick(du!, probes), fdUp, { ...TOL, label: "swiglu dup vs fd" });

  // Spot check against differences of the GPU forward: f32 outputs of size ~5 lose ~5·2⁻²⁴/h
  // per probe, so h = 1e-2 gives ~5e-5 of noise; tolerance 5e-4 (a wrong gradient is off by ≫).
  const h = 1e-2;
  const gpuSilu = async (v: Float32Array<ArrayBuffer>) => {
    const vt = rt.createTensor([n], "f32", v);
    const yt = rt.createTensor([n]);
    const [y] = await runAndRead(rt, (rec) => {
      siluForward(rec, vt, yt);
      return [yt];
    });
    return dot(y!, dy);
  };
  for (const i of [3, 20]) {
    const plus = Float32Array.from(x);
    plus[i] = plus[i]! + h;
    const minus = Float32Array.from(x);
    minus[i] = minus[i]! - h;
    const fd = ((await gpuSilu(plus)) - (await gpuSilu(minus))) / (2 * h);
    assertAllClose([dx![i]!], [fd], { rtol: 5e-4, atol: 5e-4, label: `GPU fd silu dx[${i}]` });
  }
});

gpuTest("elementwise ops reject mismatched shapes and dtypes before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const t = (shape: number[], dtype: "f32" | "u32" = "f32") => rt.createTensor(shape, dtype);
  const cases: Array<() => void> = [
    () => add(rec, t([2, 3]), t([3, 2]), t([2, 3])),
    () => add(rec, t([2, 3]), t([2]), t([2, 3])),
    () => add(rec, t([2, 3]), t([3]), t([2, 4])),
    () => addScaled(rec, t([4]), t([5])),
    () => scale(rec, t([4], "u32"), t([4]), 2),
    () => siluForward(rec, t([4]), t([2, 2])),
    () => siluBackward(rec, t([4]), t([4]), t([3])),
    () => swigluForward(rec, t([4]), t([5]), t([4])),
    () => swigluBackward(rec, t([4]), t([4]), t([4]), t([4]), t([4], "u32")),
  ];
  for (const bad of cases) assert.throws(bad, ShapeMismatch);
  const same = t([4]);
  assert.throws(() => swigluBackward(rec, t([4]), t([4]), t([4]), same, same), ShapeMismatch);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});

gpuTest("elementwise ops reject an output that overlaps an input", (rt) => {
  const rec = new CommandRecorder(rt);
  const x = rt.createTensor([8]);
  const other = rt.createTensor([8]);
  // A view of x's second half overlaps x without being x.
  const half = { ...x, shape: [4], offset: x.offset + 16 };
  const cases: Array<() => void> = [
    () => add(rec, x, other, x),
    () => add(rec, rt.createTensor([2, 4]), half, { ...x, shape: [2, 4] }),
    () => scale(rec, x, x, 2),
    () => addScaled(rec, x, x),
    () => siluForward(rec, half, { ...x, shape: [4], offset: x.offset + 8 }),
    () => siluBackward(rec, x, other, other),
    () => swigluForward(rec, x, other, other),
  ];
  for (const bad of cases) assert.throws(bad, ShapeMismatch);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
