import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { ShapeMismatch, TensorTooLarge } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import {
  biasGrad,
  chooseTile,
  matmul,
  type MatmulLayout,
  type MatmulOptions,
  TILE_TARGETS,
} from "../../src/gpu/ops/matmul.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference, dot, pick } from "./reference/central_difference.ts";
import {
  biasGradRef,
  linearBackwardRef,
  matmulRef,
  type MatmulRefShape,
} from "./reference/matmul.ts";

// Tolerance: each output is a K-term f32 dot product of values in [-1, 1]. The rounding error of
// a sum of K products is ≲ K·2⁻²⁴·Σ|aᵢbᵢ| in the worst case and ~√K·2⁻²⁴·|terms| typically;
// K ≤ 100 here, so atol 1e-5 plus rtol 1e-5 holds with margin, while any wrong index, missing
// k-step or stale value shifts an output by ~0.1 or more.
const TOL = { rtol: 1e-5, atol: 1e-5 };

const aShape = (s: MatmulRefShape): number[] => [
  ...(s.batch > 1 ? [s.batch] : []),
  ...(s.layout === "TN" ? [s.k, s.m] : [s.m, s.k]),
];
const bShape = (s: MatmulRefShape): number[] => [
  ...(s.broadcastB ? [] : [s.batch]),
  ...(s.layout === "NT" ? [s.n, s.k] : [s.k, s.n]),
];

/** Runs one matmul on random inputs (C poisoned with NaN, or filled with cInit) and checks it. */
const checkMatmul = async (
  rt: GpuRuntime,
  s: MatmulRefShape,
  seed: number,
  options: Omit<MatmulOptions, "bias" | "layout"> & { bias?: boolean } = {},
): Promise<void> => {
  const rng = seededRandom(seed);
  const a = randomArray(s.batch * s.m * s.k, rng);
  const b = randomArray((s.broadcastB ? 1 : s.batch) * s.n * s.k, rng);
  const bias = options.bias ? randomArray(s.n, rng) : undefined;
  const cInit = options.accumulate ? randomArray(s.batch * s.m * s.n, rng) : undefined;
  const at = rt.createTensor(aShape(s), "f32", a);
  const bt = rt.createTensor(bShape(s), "f32", b);
  const cShape = [...(s.batch > 1 ? [s.batch] : []), s.m, s.n];
  const ct = rt.createTensor(cShape, "f32", cInit);
  const biasT = bias ? rt.createTensor([s.n], "f32", bias) : undefined;
  const [c] = await runAndRead(rt, (rec) => {
    if (!cInit) fill(rec, ct, Number.NaN);
    const { bias: _, ...rest } = options;
    matmul(rec, at, bt, ct, { ...rest, layout: s.layout, ...(biasT ? { bias: biasT } : {}) });
    return [ct];
  });
  const expected = matmulRef(s, a, b, {
    ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
    ...(bias ? { bias } : {}),
    ...(cInit ? { cInit } : {}),
  });
  const tile = options.tile ? ` tile ${options.tile.tm}×${4 * options.tile.tn4}` : "";
  assertAllClose(c!, expected, {
    ...TOL,
    label: `${s.layout} b${s.batch} ${s.m}×${s.n}×${s.k}${tile}`,
  });
};

const LAYOUTS: ReadonlyArray<MatmulLayout> = ["NN", "NT", "TN"];

// (m, n, k): a single element, odd sizes (scalar path: a row stride is not a multiple of 4),
// multiples of 4 that are not multiples of any tile (vec4 path), and sizes that need several
// workgroups in both directions with ragged last ones.
const SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [36, 44, 20],
  [37, 13, 9],
  [140, 132, 12],
  [20, 300, 8],
];

for (const layout of LAYOUTS) {
  gpuTest(`matmul ${layout} matches the float64 reference on ragged shapes`, async (rt) => {
    let seed = 1;
    for (const [m, n, k] of SHAPES) {
      // viaNT: the direct kernel, and transposes into the NT kernel (the CPU-adapter path).
      for (const viaNT of [false, true]) {
        await checkMatmul(rt, { layout, batch: 1, m, n, k, broadcastB: true }, seed++, { viaNT });
      }
    }
  });

  gpuTest(`matmul ${layout} is correct with every tile size on a ragged shape`, async (rt) => {
    const tms = layout === "TN" ? [4, 8, 16] : [1, 2, 4, 8, 16];
    let seed = 100;
    for (const tm of tms) {
      for (const tn4 of [1, 2, 4]) {
        for (const [m, n, k] of [[45, 52, 24], [21, 11, 6]] as const) {
          await checkMatmul(rt, { layout, batch: 1, m, n, k, broadcastB: true }, seed++, {
            tile: { tm, tn4 },
            viaNT: false,
          });
        }
      }
    }
  });

  gpuTest(`matmul ${layout} handles a batch axis with shared and per-batch B`, async (rt) => {
    for (const viaNT of [false, true]) {
      const options = { viaNT };
      await checkMatmul(
        rt,
        { layout, batch: 3, m: 19, n: 24, k: 16, broadcastB: true },
        7,
        options,
      );
      await checkMatmul(
        rt,
        { layout, batch: 3, m: 19, n: 24, k: 16, broadcastB: false },
        8,
        options,
      );
      await checkMatmul(rt, { layout, batch: 2, m: 5, n: 7, k: 3, broadcastB: false }, 9, options);
    }
  });

  gpuTest(`matmul ${layout} applies alpha, bias and accumulation`, async (rt) => {
    const s = { layout, batch: 2, m: 33, n: 20, k: 12, broadcastB: true };
    for (const viaNT of [false, true]) {
      await checkMatmul(rt, s, 11, { alpha: 0.5, bias: true, viaNT });
      await checkMatmul(rt, s, 12, { accumulate: true, viaNT });
      await checkMatmul(rt, s, 13, { alpha: -2, bias: true, accumulate: true, viaNT });
      await checkMatmul(rt, { ...s, n: 7, k: 5 }, 14, { bias: true, accumulate: true, viaNT });
    }
  });

  gpuTest(`matmul ${layout} keeps a batch axis of size 1`, async (rt) => {
    const rng = seededRandom(15);
    const s = { layout, batch: 1, m: 40, n: 36, k: 8, broadcastB: false };
    const a = randomArray(s.m * s.k, rng);
    const b = randomArray(s.n * s.k, rng);
    const at = rt.createTensor([1, ...aShape(s)], "f32", a);
    const bt = rt.createTensor([1, ...bShape({ ...s, broadcastB: true })], "f32", b);
    for (const viaNT of [false, true]) {
      const ct = rt.createTensor([1, s.m, s.n]);
      const [c] = await runAndRead(rt, (rec) => {
        fill(rec, ct, Number.NaN);
        matmul(rec, at, bt, ct, { layout, viaNT });
        return [ct];
      });
      assertAllClose(c!, matmulRef(s, a, b), { ...TOL, label: `batch 1, viaNT ${viaNT}` });
    }
  });
}

gpuTest("matmul splits operands over the binding limit into row chunks", async (rt) => {
  // A 4 KiB limit forces chunks: the big A and C (M split), the big NT weight (N split: columns of
  // C), the big NN/TN B (K split: later chunks accumulate, the bias is added once).
  const limit = 4096;
  const cases: ReadonlyArray<[MatmulRefShape, boolean]> = [
    [{ layout: "NN", batch: 1, m: 200, n: 8, k: 12, broadcastB: true }, true],
    [{ layout: "NT", batch: 1, m: 3, n: 260, k: 16, broadcastB: true }, true],
    [{ layout: "NN", batch: 1, m: 5, n: 16, k: 150, broadcastB: true }, true],
    [{ layout: "TN", batch: 1, m: 12, n: 16, k: 150, broadcastB: true }, false],
    [{ layout: "TN", batch: 1, m: 300, n: 4, k: 2, broadcastB: true }, false],
  ];
  let seed = 200;
  for (const [s, bias] of cases) {
    await checkMatmul(rt, s, seed++, { maxBindingBytes: limit, bias });
    await checkMatmul(rt, s, seed++, { maxBindingBytes: limit, accumulate: true });
  }
});

gpuTest("matmul rejects an unsplittable oversized operand with TensorTooLarge", (rt) => {
  const rec = new CommandRecorder(rt);
  const a = rt.createTensor([2, 64, 16]);
  const b = rt.createTensor([16, 16]);
  const c = rt.createTensor([2, 64, 16]);
  // Batched operands are never split.
  assert.throws(() => matmul(rec, a, b, c, { maxBindingBytes: 4096 }), TensorTooLarge);
  // NN with both A (rows M) and B (rows K) too big: no single split dimension serves both.
  const a2 = rt.createTensor([64, 64]);
  const b2 = rt.createTensor([64, 64]);
  const c2 = rt.createTensor([64, 64]);
  assert.throws(() => matmul(rec, a2, b2, c2, { maxBindingBytes: 4096 }), TensorTooLarge);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});

gpuTest("matmul rejects mismatched shapes and dtypes before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const t = (shape: number[], dtype: "f32" | "u32" = "f32") => rt.createTensor(shape, dtype);
  const cases: Array<() => void> = [
    () => matmul(rec, t([4, 5]), t([6, 3]), t([4, 3])),
    () => matmul(rec, t([4, 5]), t([5, 3]), t([4, 4])),
    () => matmul(rec, t([4, 5]), t([5, 3]), t([4, 3]), { layout: "NT" }),
    () => matmul(rec, t([5, 4]), t([6, 3]), t([4, 3]), { layout: "TN" }),
    () => matmul(rec, t([2, 4, 5]), t([3, 5, 3]), t([2, 4, 3])),
    () => matmul(rec, t([4, 5]), t([2, 5, 3]), t([4, 3])),
    () => matmul(rec, t([4, 5], "u32"), t([5, 3]), t([4, 3])),
    () => matmul(rec, t([4, 5]), t([5, 3]), t([4, 3]), { bias: t([4]) }),
    () => matmul(rec, t([5]), t([5, 3]), t([3])),
    () => biasGrad(rec, t([4, 3]), t([4])),
  ];
  for (const bad of cases) assert.throws(bad, ShapeMismatch);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});

Deno.test("chooseTile shrinks tiles for small outputs and keeps TN rows a multiple of 4", () => {
  const square = { batch: 1, m: 1024, n: 1024, k: 1024, broadcastB: true };
  assert.deepEqual(chooseTile("NN", square, TILE_TARGETS.cpu), { tm: 16, tn4: 4 });
  assert.deepEqual(chooseTile("NN", square, TILE_TARGETS.gpu), { tm: 8, tn4: 2 });
  const row = chooseTile("NN", { ...square, m: 1, n: 2048 });
  assert.equal(row.tm, 1);
  const tn = chooseTile("TN", { batch: 1, m: 3, n: 5, k: 300, broadcastB: true });
  assert.equal(tn.tm % 4, 0);
  // 256² on a GPU: 8×8 tiles give 16 workgroups, so they shrink to 4×4 (64 workgroups).
  const small = chooseTile("NT", { ...square, m: 256, n: 256 }, TILE_TARGETS.gpu);
  assert.deepEqual(small, { tm: 4, tn4: 1 });
});

gpuTest("biasGrad sums dy over all leading axes, and accumulates", async (rt) => {
  const rng = seededRandom(31);
  const cases: ReadonlyArray<[number[], number]> = [[[1], 1], [[3, 7], 5], [[130], 67]];
  for (const [lead, cols] of cases) {
    const rows = lead.reduce((x, y) => x * y, 1);
    const dy = randomArray(rows * cols, rng);
    const old = randomArray(cols, rng);
    const dyT = rt.createTensor([...lead, cols], "f32", dy);
    const dbT = rt.createTensor([cols]);
    const accT = rt.createTensor([cols], "f32", old);
    const [db, acc] = await runAndRead(rt, (rec) => {
      fill(rec, dbT, Number.NaN);
      biasGrad(rec, dyT, dbT);
      biasGrad(rec, dyT, accT, { accumulate: true });
      return [dbT, accT];
    });
    const expected = biasGradRef(dy, rows, cols);
    assertAllClose(db!, expected, { ...TOL, label: `biasGrad ${rows}×${cols}` });
    assertAllClose(acc!, expected.map((v, i) => v + old[i]!), { ...TOL, label: "accumulate" });
  }
});

gpuTest(
  "linear backward (NT for dx, TN for dW, column sum for db) matches the reference and " +
    "finite differences",
  async (rt) => {
    const [rows, inDim, outDim] = [13, 10, 7];
    const rng = seededRandom(41);
    const x = randomArray(rows * inDim, rng);
    const w = randomArray(inDim * outDim, rng);
    const bias = randomArray(outDim, rng);
    const dy = randomArray(rows * outDim, rng);
    const xT = rt.createTensor([rows, inDim], "f32", x);
    const wT = rt.createTensor([inDim, outDim], "f32", w);
    const dyT = rt.createTensor([rows, outDim], "f32", dy);
    const dxT = rt.createTensor([rows, inDim]);
    const dwT = rt.createTensor([inDim, outDim]);
    const dbT = rt.createTensor([outDim]);
    const [dx, dw, db] = await runAndRead(rt, (rec) => {
      for (const t of [dxT, dwT, dbT]) fill(rec, t, Number.NaN);
      matmul(rec, dyT, wT, dxT, { layout: "NT" });
      matmul(rec, xT, dyT, dwT, { layout: "TN" });
      biasGrad(rec, dyT, dbT);
      return [dxT, dwT, dbT];
    });
    const ref = linearBackwardRef(x, w, dy, rows, inDim, outDim);
    assertAllClose(dx!, ref.dx, { ...TOL, label: "dx" });
    assertAllClose(dw!, ref.dw, { ...TOL, label: "dW" });
    assertAllClose(db!, ref.db, { ...TOL, label: "db" });

    // L = <dy, x·W + bias> in float64; its exact derivatives are the gradients above. The loss is
    // linear in each argument, so central differences are exact up to float64 rounding (~1e-12).
    const fwd = { layout: "NN" as const, batch: 1, m: rows, n: outDim, k: inDim, broadcastB: true };
    const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>, bv: ArrayLike<number>) =>
      dot(matmulRef(fwd, xv, wv, { bias: bv }), dy);
    const x64 = Float64Array.from(x);
    const w64 = Float64Array.from(w);
    const b64 = Float64Array.from(bias);
    const probes = [0, 3, 17, 64, rows * inDim - 1];
    const fdX = centralDifference((v) => loss(v, w64, b64), x64, 1e-3, probes);
    assertAllClose(pick(dx!, probes), fdX, { ...TOL, label: "dx vs finite differences" });
    const wProbes = [0, 5, 33, inDim * outDim - 1];
    const fdW = centralDifference((v) => loss(x64, v, b64), w64, 1e-3, wProbes);
    assertAllClose(pick(dw!, wProbes), fdW, { ...TOL, label: "dW vs finite differences" });
    const fdB = centralDifference((v) => loss(x64, w64, v), b64, 1e-3);
    assertAllClose(db!, fdB, { ...TOL, label: "db vs finite differences" });

    // Spot check against the GPU forward: differences of f32 outputs of magnitude ~3 lose
    // ~3·2⁻²⁴/h per probe, so with h = 0.05 the tolerance is 1e-4 (a wrong gradient is off by ~1).
    const h = 0.05;
    const gpuLoss = async (xv: Float32Array<ArrayBuffer>) => {
      const xt = rt.createTensor([rows, inDim], "f32", xv);
      const yt = rt.createTensor([rows, outDim]);
      const bt = rt.createTensor([outDim], "f32", bias);
      const [y] = await runAndRead(rt, (rec) => {
        matmul(rec, xt, wT, yt, { bias: bt });
        return [yt];
      });
      return dot(y!, dy);
    };
    for (const i of [2, 50]) {
      const plus = Float32Array.from(x);
      plus[i] = plus[i]! + h;
      const minus = Float32Array.from(x);
      minus[i] = minus[i]! - h;
      const fd = ((await gpuLoss(plus)) - (await gpuLoss(minus))) / (2 * h);
      assertAllClose([dx![i]!], [fd], { rtol: 1e-4, atol: 1e-4, label: `GPU fd dx[${i}]` });
    }
  },
);

gpuTest(
  "the NT detour's scratch is untouched by host writes to tensors allocated later",
  async (rt) => {
    const s = { layout: "NN" as const, batch: 1, m: 40, n: 36, k: 8, broadcastB: true };
    const rng = seededRandom(51);
    const a = randomArray(s.m * s.k, rng);
    const b = randomArray(s.k * s.n, rng);
    const upload = randomArray(s.k * s.n, rng);
    const at = rt.createTensor([s.m, s.k], "f32", a);
    const bt = rt.createTensor([s.k, s.n], "f32", b);
    const ct = rt.createTensor([s.m, s.n]);
    const arena = new Arena(rt.pool);
    const [c, later] = await runAndRead(rt, (rec) => {
      fill(rec, ct, Number.NaN);
      matmul(rec, at, bt, ct, { layout: "NN", viaNT: true });
      // A tensor of Bᵀ's size, allocated and uploaded after the matmul was recorded: the upload
      // runs before the submit, so it must not share memory with the transposes.
      const t = arena.alloc([s.n, s.k]);
      rt.write(t, upload);
      return [ct, t];
    });
    arena.reset();
    assertAllClose(c!, matmulRef(s, a, b), { ...TOL, label: "C" });
    assert.deepEqual([...later!], [...upload]);
  },
);

gpuTest("matmul and biasGrad reject an output that overlaps an input", (rt) => {
  const rec = new CommandRecorder(rt);
  const a = rt.createTensor([4, 4]);
  const b = rt.createTensor([4, 4]);
  assert.throws(() => matmul(rec, a, b, a), ShapeMismatch);
  assert.throws(() => matmul(rec, a, b, b, { layout: "NT" }), ShapeMismatch);
  // The bias is read while C is written: C's first row overlaps a bias viewed from b.
  assert.throws(() => matmul(rec, a, a, b, { bias: { ...b, shape: [4] } }), ShapeMismatch);
  assert.throws(() => biasGrad(rec, a, { ...a, shape: [4] }), ShapeMismatch);
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
