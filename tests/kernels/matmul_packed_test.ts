import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { matmul, type MatmulOptions, type PackedDtype } from "../../src/gpu/ops/matmul.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../src/nn/dtype.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { matmulRef, type MatmulRefShape } from "./reference/matmul.ts";

// The reference multiplies the same 16-bit-rounded weights in float64, so the only difference is
// the kernel's f32 accumulation: K ≤ 100 terms of magnitude ≤ 1, as in matmul_test.ts. A wrong
// half-word (neighbouring element) or a truncated bf16 shifts an output by far more.
const TOL = { rtol: 1e-5, atol: 1e-5 };

/** Weights rounded to `dtype` (exact widening back): the values the GPU multiplies. */
const rounded = (dtype: PackedDtype, values: Float32Array): Uint16Array<ArrayBuffer> =>
  (dtype === "bf16" ? f32ToBf16(values) : f32ToF16(values)) as Uint16Array<ArrayBuffer>;
const widened = (dtype: PackedDtype, halves: Uint16Array): Float32Array =>
  dtype === "bf16" ? bf16ToF32(halves) : f16ToF32(halves);

/** One NT matmul with packed B (C poisoned with NaN, or filled with cInit), checked in float64. */
const checkPacked = async (
  rt: GpuRuntime,
  dtype: PackedDtype,
  m: number,
  n: number,
  k: number,
  seed: number,
  options: Omit<MatmulOptions, "bias" | "layout"> & { bias?: boolean } = {},
): Promise<void> => {
  const s: MatmulRefShape = { layout: "NT", batch: 1, m, n, k, broadcastB: true };
  const rng = seededRandom(seed);
  const a = randomArray(m * k, rng);
  const halves = rounded(dtype, randomArray(n * k, rng));
  const bias = options.bias ? randomArray(n, rng) : undefined;
  const cInit = options.accumulate ? randomArray(m * n, rng) : undefined;
  const at = rt.createTensor([m, k], "f32", a);
  const bt = rt.createTensor([n, k], dtype, halves);
  const ct = rt.createTensor([m, n], "f32", cInit);
  const biasT = bias ? rt.createTensor([n], "f32", bias) : undefined;
  const [c] = await runAndRead(rt, (rec) => {
    if (!cInit) fill(rec, ct, Number.NaN);
    const { bias: _, ...rest } = options;
    matmul(rec, at, bt, ct, { ...rest, layout: "NT", ...(biasT ? { bias: biasT } : {}) });
    return [ct];
  });
  const expected = matmulRef(s, a, widened(dtype, halves), {
    ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
    ...(bias ? { bias } : {}),
    ...(cInit ? { cInit } : {}),
  });
  const tile = options.tile ? ` tile ${options.tile.tm}×${4 * options.tile.tn4}` : "";
  assertAllClose(c!, expected, { ...TOL, label: `${dtype} ${m}×${n}×${k}${tile}` });
};

// (m, n, k): the smallest even K, K even but not a multiple of 4 (scalar path), N not a multiple
// of 4 (scalar path), multiples of 4 that are not tile multiples (vec4 path), one row (decode).
const SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 2],
  [3, 5, 6],
  [17, 13, 10],
  [9, 20, 36],
  [33, 68, 100],
  [1, 132, 64],
  [130, 70, 44],
];

for (const dtype of ["bf16", "f16"] as const) {
  gpuTest(`NT matmul with ${dtype} weights equals float64 on the rounded weights`, async (rt) => {
    let seed = dtype === "bf16" ? 1 : 100;
    for (const [m, n, k] of SHAPES) await checkPacked(rt, dtype, m, n, k, seed++);
  });

  gpuTest(`NT matmul with ${dtype} weights is correct with every tile size`, async (rt) => {
    let seed = dtype === "bf16" ? 300 : 400;
    for (const tm of [1, 2, 4, 8, 16]) {
      for (const tn4 of [1, 2, 4]) {
        await checkPacked(rt, dtype, 37, 45, 24, seed++, { tile: { tm, tn4 } });
        await checkPacked(rt, dtype, 37, 44, 24, seed++, { tile: { tm, tn4 } });
      }
    }
  });

  gpuTest(`NT matmul with ${dtype} weights applies alpha, bias and accumulation`, async (rt) => {
    await checkPacked(rt, dtype, 19, 28, 40, 500, { alpha: 0.5, bias: true });
    await checkPacked(rt, dtype, 19, 27, 38, 501, { bias: true, accumulate: true });
  });

  gpuTest(
    `NT matmul splits ${dtype} weights over the binding limit by rows (LM-head layout)`,
    async (rt) => {
      // B [300, 40] is 24,000 bytes: a 4 KiB limit binds it in row blocks of output columns,
      // as the 622 MB bf16 embedding/LM head of the 3B model is on a 128 MiB binding.
      const limit = 4096;
      await checkPacked(rt, dtype, 2, 300, 40, 600, { maxBindingBytes: limit });
      await checkPacked(rt, dtype, 3, 301, 42, 601, { maxBindingBytes: limit, bias: true });
      await checkPacked(rt, dtype, 2, 290, 64, 602, { maxBindingBytes: limit, accumulate: true });
    },
  );
}

gpuTest("matmul rejects 16-bit B outside NT and with an odd K, before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const a = rt.createTensor([4, 6]);
  const c = rt.createTensor([4, 3]);
  // NN and TN would need B rows along K packed across words: not supported.
  assert.throws(() => matmul(rec, a, rt.createTensor([6, 3], "bf16"), c), ShapeMismatch);
  assert.throws(
    () => matmul(rec, rt.createTensor([6, 4]), rt.createTensor([6, 3], "f16"), c, { layout: "TN" }),
    ShapeMismatch,
  );
  // Odd K: a row of B would end in the middle of a word.
  const odd = rt.createTensor([4, 5]);
  assert.throws(
    () => matmul(rec, odd, rt.createTensor([3, 5], "bf16"), c, { layout: "NT" }),
    (error: unknown) => error instanceof ShapeMismatch && /even inner dimension/.test(error.detail),
  );
  // The 16-bit operand must be B: a 16-bit A or C is a dtype mismatch.
  assert.throws(
    () =>
      matmul(rec, rt.createTensor([4, 6], "bf16"), rt.createTensor([3, 6]), c, { layout: "NT" }),
    ShapeMismatch,
  );
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
