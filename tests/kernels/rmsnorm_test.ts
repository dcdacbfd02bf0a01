import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { rmsNormBackward, rmsNormForward } from "../../src/gpu/ops/rmsnorm.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import {
  assertAllClose,
  gpuTest,
  randomArray as randomLike,
  runAndRead,
  seededRandom,
} from "../gpu/harness.ts";
import { centralDifference, dot, pick } from "./reference/central_difference.ts";
import { rmsNormBackwardRef, rmsNormRef } from "./reference/rmsnorm.ts";

const EPS = 1e-6;

type F32 = Float32Array<ArrayBuffer>;
const randomArray = (n: number, rng: () => number, scale: number): F32 =>
  Float32Array.from(randomLike(n, rng, scale));

const runForward = async (rt: GpuRuntime, x: F32, w: F32, rows: number) => {
  const dim = w.length;
  const tx = rt.createTensor([rows, dim], "f32", x);
  const tw = rt.createTensor([dim], "f32", w);
  const y = rt.createTensor([rows, dim]);
  const rstd = rt.createTensor([rows]);
  const [gy, gr] = await runAndRead(rt, (rec) => {
    fill(rec, y, NaN);
    fill(rec, rstd, NaN);
    rmsNormForward(rec, { x: tx, weight: tw, y, rstd }, EPS);
    return [y, rstd];
  });
  return { y: gy!, rstd: gr! };
};

// Shapes: a single element; rows packed several per workgroup (300 rows of 20: 2 invocations per
// row, 128 rows per workgroup, the last workgroup partial); long rows up to a whole workgroup per
// row (17000).
for (
  const [rows, dim] of [[1, 1], [3, 7], [300, 20], [5, 256], [9, 300], [2, 1000], [
    1,
    17000,
  ]] as const
) {
  gpuTest(`rmsNormForward matches the float64 reference for [${rows}, ${dim}]`, async (rt) => {
    const rng = seededRandom(rows * 1000 + dim);
    const x = randomArray(rows * dim, rng, 2);
    const w = randomArray(dim, rng, 1.5);
    const { y, rstd } = await runForward(rt, x, w, rows);
    const ref = rmsNormRef(x, w, rows, dim, EPS);
    // f32 sum of ≤1000 squares: relative error ≲ dim·2⁻²⁴ in the worst case, ~1e-6 in practice.
    assertAllClose(rstd, ref.rstd, { rtol: 2e-6, atol: 0, label: "rstd" });
    assertAllClose(y, ref.y, { rtol: 2e-6, atol: 1e-7, label: "y" });
  });
}

const runBackward = async (
  rt: GpuRuntime,
  x: F32,
  w: F32,
  dy: F32,
  rows: number,
  initialDw?: F32,
) => {
  const dim = w.length;
  const tx = rt.createTensor([rows, dim], "f32", x);
  const tw = rt.createTensor([dim], "f32", w);
  const tdy = rt.createTensor([rows, dim], "f32", dy);
  const y = rt.createTensor([rows, dim]);
  const rstd = rt.createTensor([rows]);
  const dx = rt.createTensor([rows, dim]);
  const dweight = rt.createTensor([dim], "f32", initialDw);
  const arena = new Arena(rt.pool);
  const [gdx, gdw] = await runAndRead(rt, (rec) => {
    fill(rec, dx, NaN);
    if (initialDw === undefined) fill(rec, dweight, NaN);
    rmsNormForward(rec, { x: tx, weight: tw, y, rstd }, EPS);
    rmsNormBackward(rec, arena, { x: tx, weight: tw, rstd, dy: tdy, dx, dweight }, {
      accumulate: initialDw !== undefined,
    });
    return [dx, dweight];
  });
  arena.reset();
  return { dx: gdx!, dw: gdw! };
};

// 130 rows span three 64-row blocks of the weight-gradient reduction, the last one partial.
for (const [rows, dim] of [[1, 5], [4, 33], [130, 70], [300, 9], [2, 2100]] as const) {
  gpuTest(
    `rmsNormBackward matches the reference and finite differences for [${rows}, ${dim}]`,
    async (rt) => {
      const rng = seededRandom(7 * rows + dim);
      const x = randomArray(rows * dim, rng, 2);
      const w = randomArray(dim, rng, 1.5);
      const dy = randomArray(rows * dim, rng, 1);
      const { dx, dw } = await runBackward(rt, x, w, dy, rows);
      const ref = rmsNormBackwardRef(x, w, dy, rows, dim, EPS);
      // dw sums up to 130 f32 products: absolute error ~1e-6 of a sum of magnitude ~10.
      assertAllClose(dx, ref.dx, { rtol: 1e-5, atol: 1e-6, label: "dx" });
      assertAllClose(dw, ref.dw, { rtol: 1e-5, atol: 1e-5, label: "dw" });

      // The analytic reference against central differences of the float64 forward, L = <y, dy>.
      const x64 = Float64Array.from(x);
      const w64 = Float64Array.from(w);
      const probes = [0, Math.floor(x.length / 2), x.length - 1];
      const lossX = (xs: Float64Array) => dot(rmsNormRef(xs, w64, rows, dim, EPS).y, dy);
      const lossW = (ws: Float64Array) => dot(rmsNormRef(x64, ws, rows, dim, EPS).y, dy);
      const fdx = centralDifference(lossX, x64, 1e-6, probes);
      const fdw = centralDifference(lossW, w64, 1e-6, [0, dim - 1]);
      // float64 central differences with h = 1e-6: truncation ~h², rounding ~1e-16/h ≈ 1e-10.
      assertAllClose(pick(dx, probes), fdx, { rtol: 1e-5, atol: 1e-6, label: "dx vs fd" });
      assertAllClose(pick(dw, [0, dim - 1]), fdw, { rtol: 1e-5, atol: 1e-5, label: "dw vs fd" });
    },
  );
}

gpuTest("rmsNormBackward's dx agrees with finite differences of the GPU forward", async (rt) => {
  const rows = 3, dim = 40;
  const rng = seededRandom(99);
  const x = randomArray(rows * dim, rng, 2);
  const w = randomArray(dim, rng, 1.5);
  const dy = randomArray(rows * dim, rng, 1);
  const { dx } = await runBackward(rt, x, w, dy, rows);
  const h = 1e-2;
  const probes = [1, 45, 119];
  for (const i of probes) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] = x[i]! + h;
    minus[i] = x[i]! - h;
    const yp = (await runForward(rt, plus, w, rows)).y;
    const ym = (await runForward(rt, minus, w, rows)).y;
    const fd = (dot(yp, dy) - dot(ym, dy)) / (2 * h);
    // f32 forward: each loss carries ~1e-6 absolute rounding, /2h → ~1e-4; truncation ~h² · |f'''|.
    assertAllClose([dx[i]!], [fd], { rtol: 1e-3, atol: 1e-3, label: `dx[${i}] vs GPU fd` });
  }
});

gpuTest("rmsNormBackward with accumulate adds to the existing weight gradient", async (rt) => {
  const rows = 6, dim = 9;
  const rng = seededRandom(5);
  const x = randomArray(rows * dim, rng, 2);
  const w = randomArray(dim, rng, 1.5);
  const dy = randomArray(rows * dim, rng, 1);
  const initial = randomArray(dim, rng, 3);
  const { dw } = await runBackward(rt, x, w, dy, rows, initial);
  const ref = rmsNormBackwardRef(x, w, dy, rows, dim, EPS).dw.map((v, j) => v + initial[j]!);
  assertAllClose(dw, ref, { rtol: 1e-5, atol: 1e-5, label: "dw accumulated" });
});

gpuTest("rmsNormForward rejects a weight of the wrong length", (rt) => {
  const rec = new CommandRecorder(rt);
  const x = rt.createTensor([2, 8]);
  assert.throws(
    () =>
      rmsNormForward(rec, {
        x,
        weight: rt.createTensor([7]),
        y: rt.createTensor([2, 8]),
        rstd: rt.createTensor([2]),
      }, EPS),
    (e: unknown) => e instanceof ShapeMismatch && /weight/.test(e.message),
  );
  return Promise.resolve();
});
