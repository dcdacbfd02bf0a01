import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import {
  CLIP_STATS,
  gradClipStats,
  reductionScratchElements,
  sumAll,
  sumRows,
} from "../../src/gpu/ops/reduce.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { clipStatsRef, sumRef, sumRowsRef } from "./reference/reduce.ts";

/** Small integers: every partial sum (and sum of squares) below 2²⁴ is exact in f32. */
const integers = (n: number, rng: () => number): Float32Array<ArrayBuffer> =>
  Float32Array.from({ length: n }, () => Math.floor(rng() * 17) - 8);

// Float data: each sum has depth ≲ (n / (groups·256)) + 2·8 additions, so its error is at most
// ~40·2⁻²⁴·Σ|x| for the sizes here; 4e-6·Σ|x| covers it. Integer data is compared exactly.
const floatTol = (x: ArrayLike<number>) => ({
  rtol: 0,
  atol: 4e-6 * sumRef(Array.from(x, Math.abs)),
});

gpuTest("sumRows sums the last axis exactly for integers and closely for floats", async (rt) => {
  const rng = seededRandom(1);
  const shapes: ReadonlyArray<number[]> = [[1], [5], [3, 1], [4, 7], [2, 3, 300], [70, 1000]];
  for (const shape of shapes) {
    const n = shape.at(-1)!;
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const lead = shape.length === 1 ? [1] : shape.slice(0, -1);
    for (const data of [integers(rows * n, rng), randomArray(rows * n, rng)]) {
      const xt = rt.createTensor(shape, "f32", data);
      const out = rt.createTensor(lead);
      const [got] = await runAndRead(rt, (rec) => {
        fill(rec, out, Number.NaN);
        sumRows(rec, xt, out);
        return [out];
      });
      const expected = sumRowsRef(data, rows, n);
      // A row sum of n values in [-8, 8] or [-1, 1] has error ≤ depth·2⁻²⁴·Σ|x| with depth
      // ≲ n/256 + 8; 4e-6·n bounds that (integer rows are exact anyway).
      assertAllClose(got!, expected, { rtol: 0, atol: 4e-6 * n, label: `sumRows [${shape}]` });
    }
  }
});

gpuTest("sumAll over one or many workgroups and binding chunks matches the sum", async (rt) => {
  const rng = seededRandom(2);
  for (const n of [1, 3, 1000, 4097, 100_000]) {
    for (const options of [{}, { maxBindingBytes: 16384 }]) {
      for (const data of [integers(n, rng), randomArray(n, rng)]) {
        const xt = rt.createTensor([n], "f32", data);
        const out = rt.createTensor([1]);
        const scratch = rt.createTensor([reductionScratchElements(rt, [xt], options)]);
        const [got] = await runAndRead(rt, (rec) => {
          fill(rec, out, Number.NaN);
          fill(rec, scratch, Number.NaN);
          sumAll(rec, xt, out, scratch, options);
          return [out];
        });
        assertAllClose(got!, [sumRef(data)], { ...floatTol(data), label: `sumAll ${n}` });
      }
    }
  }
});

gpuTest("sumAll is exact for integer data split over chunks", async (rt) => {
  const data = integers(50_000, seededRandom(3));
  const xt = rt.createTensor([50_000], "f32", data);
  const out = rt.createTensor([1]);
  const options = { maxBindingBytes: 8192 };
  const scratch = rt.createTensor([reductionScratchElements(rt, [xt], options)]);
  const [got] = await runAndRead(rt, (rec) => {
    sumAll(rec, xt, out, scratch, options);
    return [out];
  });
  assert.equal(got![0], sumRef(data));
});

gpuTest("gradClipStats gives the global norm over many tensors and the clip scale", async (rt) => {
  const rng = seededRandom(4);
  const shapes: ReadonlyArray<number[]> = [[1], [7, 3], [128, 130], [5000], [33]];
  const grads = shapes.map((s) => integers(s.reduce((a, b) => a * b, 1), rng));
  const tensors = grads.map((g, i) => rt.createTensor(shapes[i]!, "f32", g));
  for (const options of [{}, { maxBindingBytes: 4096 }]) {
    const scratch = rt.createTensor([reductionScratchElements(rt, tensors, options)]);
    for (const maxNorm of [1, 1e6, Infinity]) {
      const stats = rt.createTensor([3]);
      const [got] = await runAndRead(rt, (rec) => {
        fill(rec, stats, Number.NaN);
        fill(rec, scratch, Number.NaN);
        gradClipStats(rec, tensors, scratch, stats, { ...options, maxNorm });
        return [stats];
      });
      const [sumsq, norm, clipScale] = clipStatsRef(grads, maxNorm);
      // Integer squares sum exactly; √ and the division round once each in f32.
      assert.equal(got![CLIP_STATS.sumOfSquares], sumsq);
      assertAllClose([got![CLIP_STATS.norm]!], [norm], { rtol: 1e-7, atol: 0, label: "norm" });
      assertAllClose([got![CLIP_STATS.clipScale]!], [clipScale], {
        rtol: 2e-7,
        atol: 0,
        label: `clip scale, maxNorm ${maxNorm}`,
      });
    }
  }
});

gpuTest("reductions reject bad shapes, dtypes and too-small scratch before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const t = (shape: number[], dtype: "f32" | "u32" = "f32") => rt.createTensor(shape, dtype);
  // Needs several partial workgroups on every adapter (4 on CPU adapters, 49 on GPUs).
  const x = t([200_000]);
  const cases: Array<() => void> = [
    () => sumRows(rec, t([3, 4]), t([4])),
    () => sumRows(rec, t([3, 0]), t([3])),
    () => sumRows(rec, t([3, 4], "u32"), t([3])),
    () => sumAll(rec, x, t([2]), t([16])),
    () => sumAll(rec, x, t([1]), t([1])),
    () => gradClipStats(rec, [x], t([16]), t([2]), { maxNorm: 1 }),
    () => gradClipStats(rec, [x, t([4], "u32")], t([16]), t([3]), { maxNorm: 1 }),
  ];
  for (const bad of cases) assert.throws(bad, ShapeMismatch);
  assert.throws(() => gradClipStats(rec, [x], t([16]), t([3]), { maxNorm: 0 }), RangeError);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});

gpuTest("reductions reject outputs that overlap their inputs or each other", (rt) => {
  const rec = new CommandRecorder(rt);
  const x = rt.createTensor([64]);
  const scratch = rt.createTensor([reductionScratchElements(rt, [x])]);
  const stats = rt.createTensor([3]);
  assert.throws(() => sumRows(rec, x, { ...x, shape: [1] }), ShapeMismatch);
  assert.throws(() => sumAll(rec, x, { ...scratch, shape: [1] }, scratch), ShapeMismatch);
  assert.throws(() => sumAll(rec, x, rt.createTensor([1]), { ...x, shape: [16] }), ShapeMismatch);
  assert.throws(
    () => gradClipStats(rec, [x, stats], scratch, stats, { maxNorm: 1 }),
    ShapeMismatch,
  );
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
