import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { applyRotary, type HeadLayout } from "../../src/gpu/ops/rope.ts";
import { mropeTable, textRotaryTable, visionRotaryTable } from "../../src/gpu/ops/rope_tables.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference, dot, pick } from "./reference/central_difference.ts";
import { applyRotaryRef, hfMropeCosSin, hfTextCosSin, hfVisionCosSin } from "./reference/rope.ts";

type F32 = Float32Array<ArrayBuffer>;
type CosSin = { cos: number[][]; sin: number[][] };

const random = (n: number, rng: () => number, scale = 1): F32 =>
  Float32Array.from(randomArray(n, rng, scale));
const positionsOf = (n: number, rng: () => number, max: number) =>
  Array.from({ length: n }, () => Math.floor(rng() * max));

/** Our [T, D/2, 2] table against HF's [T, D] cos/sin: both halves of each row must agree. */
const assertTableMatches = (table: Float32Array, hf: CosSin, label: string) => {
  const dim = hf.cos[0]!.length;
  const half = dim / 2;
  const expected: number[] = [];
  const mirrored: number[] = [];
  hf.cos.forEach((cosRow, t) => {
    for (let i = 0; i < half; i++) {
      expected.push(cosRow[i]!, hf.sin[t]![i]!);
      mirrored.push(cosRow[i + half]!, hf.sin[t]![i + half]!);
    }
  });
  // One f32 rounding of values in [−1, 1]: ≤ 6e-8.
  assertAllClose(table, expected, { rtol: 0, atol: 6e-8, label });
  assertAllClose(table, mirrored, { rtol: 0, atol: 6e-8, label: `${label} (second half)` });
};

Deno.test("textRotaryTable matches HF's cos/sin of cat(freqs, freqs)", () => {
  const positions = positionsOf(9, seededRandom(1), 40_000);
  assertTableMatches(
    textRotaryTable(positions, 64, 1e6),
    hfTextCosSin(positions, 64, 1e6),
    "text",
  );
});

Deno.test("mropeTable matches HF's multimodal sections for head dim 128 and [16, 24, 24]", () => {
  const rng = seededRandom(2);
  const pos = [0, 1, 2].map(() => positionsOf(11, rng, 3000));
  assertTableMatches(
    mropeTable([pos[0]!, pos[1]!, pos[2]!], 128, 1e6, [16, 24, 24]),
    hfMropeCosSin(pos, 128, 1e6, [16, 24, 24]),
    "mrope",
  );
});

Deno.test("visionRotaryTable matches HF's 2-D rope for the vision head dim 80", () => {
  const rng = seededRandom(3);
  const rows = positionsOf(13, rng, 60);
  const cols = positionsOf(13, rng, 60);
  assertTableMatches(visionRotaryTable(rows, cols, 80), hfVisionCosSin(rows, cols, 80), "vision");
});

Deno.test("mropeTable rejects a section that does not cover head_dim / 2", () => {
  assert.throws(() => mropeTable([[0], [0], [0]], 128, 1e6, [16, 24, 16]), RangeError);
});

/** Runs applyRotary out of place into a NaN-poisoned contiguous output. */
const runRotary = async (
  rt: GpuRuntime,
  x: F32,
  shape: readonly [number, number, number, number],
  table: Float32Array<ArrayBuffer>,
  tableBatches: number,
  inverse = false,
) => {
  const [batch, tokens, heads, headDim] = shape;
  const layout = { batch, tokens, heads, headDim };
  const tx = rt.createTensor(shape, "f32", x);
  const tt = rt.createTensor([tableBatches, tokens, headDim / 2, 2], "f32", table);
  const out = rt.createTensor(shape);
  const [got] = await runAndRead(rt, (rec) => {
    fill(rec, out, NaN);
    applyRotary(rec, { x: tx, layout, table: tt, out, inverse });
    return [out];
  });
  return got as F32;
};

const concat = (tables: Float32Array[]): F32 => {
  const out = new Float32Array(tables.reduce((n, t) => n + t.length, 0));
  let at = 0;
  for (const t of tables) {
    out.set(t, at);
    at += t.length;
  }
  return out;
};

// Values ≤ 3 and |cos|, |sin| ≤ 1: two f32 products and a sum, error ≲ 3·2⁻²³.
const TOL = { rtol: 1e-6, atol: 1e-6 };

gpuTest("applyRotary with a shared 1-D table matches HF's rotate_half formula", async (rt) => {
  const rng = seededRandom(4);
  const shape = [2, 5, 3, 8] as const;
  const positions = positionsOf(5, rng, 5000);
  const x = random(2 * 5 * 3 * 8, rng, 3);
  const got = await runRotary(rt, x, shape, textRotaryTable(positions, 8, 1e6), 1);
  const ref = applyRotaryRef(x, shape, hfTextCosSin(positions, 8, 1e6));
  assertAllClose(got, ref, { ...TOL, label: "text rope" });
});

gpuTest("applyRotary with per-sequence M-RoPE tables matches HF", async (rt) => {
  const rng = seededRandom(5);
  const [batch, tokens, heads, dim] = [2, 7, 2, 16];
  const section = [2, 3, 3] as const;
  const pos = [0, 1].map(() => [0, 1, 2].map(() => positionsOf(tokens, rng, 900)));
  const table = concat(pos.map((p) => mropeTable([p[0]!, p[1]!, p[2]!], dim, 1e6, section)));
  const x = random(batch * tokens * heads * dim, rng, 3);
  const got = await runRotary(rt, x, [batch, tokens, heads, dim], table, batch);
  const hf = pos.map((p) => hfMropeCosSin(p, dim, 1e6, section));
  const ref = applyRotaryRef(x, [batch, tokens, heads, dim], {
    cos: hf.flatMap((h) => h.cos),
    sin: hf.flatMap((h) => h.sin),
  });
  assertAllClose(got, ref, { ...TOL, label: "mrope" });
});

gpuTest("applyRotary with the vision 2-D table matches HF", async (rt) => {
  const rng = seededRandom(6);
  const [tokens, heads, dim] = [9, 2, 20];
  const rows = positionsOf(tokens, rng, 30);
  const cols = positionsOf(tokens, rng, 30);
  const x = random(tokens * heads * dim, rng, 3);
  const got = await runRotary(
    rt,
    x,
    [1, tokens, heads, dim],
    visionRotaryTable(rows, cols, dim),
    1,
  );
  const ref = applyRotaryRef(x, [1, tokens, heads, dim], hfVisionCosSin(rows, cols, dim));
  assertAllClose(got, ref, { ...TOL, label: "vision rope" });
});

gpuTest("the inverse rotation is the backward pass and undoes the forward", async (rt) => {
  const rng = seededRandom(7);
  const shape = [1, 4, 2, 6] as const;
  const positions = positionsOf(4, rng, 100);
  const table = textRotaryTable(positions, 6, 10000);
  const x = random(48, rng, 2);
  const g = random(48, rng, 1);
  const dx = await runRotary(rt, g, shape, table, 1, true);
  // dL/dx of L = <rope(x), g> by central differences of the float64 forward (linear in x, so
  // exact up to rounding ~1e-10).
  const hf = hfTextCosSin(positions, 6, 10000);
  const probes = [0, 5, 17, 47];
  const fd = centralDifference(
    (xs) => dot(applyRotaryRef(xs, shape, hf), g),
    Float64Array.from(x),
    1e-3,
    probes,
  );
  assertAllClose(pick(dx, probes), fd, { ...TOL, label: "dx vs finite differences" });
  const roundTrip = await runRotary(
    rt,
    await runRotary(rt, x, shape, table, 1),
    shape,
    table,
    1,
    true,
  );
  assertAllClose(roundTrip, x, { ...TOL, label: "inverse(forward(x))" });
});

gpuTest(
  "applyRotary rotates Q and K inside a fused QKV buffer in place, leaving V alone",
  async (rt) => {
    const rng = seededRandom(8);
    const [batch, tokens, heads, dim] = [2, 3, 2, 4];
    const qkv = random(batch * tokens * 3 * heads * dim, rng, 2);
    const positions = positionsOf(tokens, rng, 50);
    const table = textRotaryTable(positions, dim, 10000);
    const tqkv = rt.createTensor([batch, tokens, 3, heads, dim], "f32", qkv);
    const tt = rt.createTensor([1, tokens, dim / 2, 2], "f32", table);
    const part = (which: number): HeadLayout => ({
      batch,
      tokens,
      heads,
      headDim: dim,
      tokenStride: 3 * heads * dim,
      offset: which * heads * dim,
    });
    const qOut = rt.createTensor([batch, tokens, heads, dim]);
    const [fused, qContiguous] = await runAndRead(rt, (rec) => {
      fill(rec, qOut, NaN);
      applyRotary(rec, { x: tqkv, layout: part(0), table: tt, out: qOut });
      applyRotary(rec, { x: tqkv, layout: part(0), table: tt });
      applyRotary(rec, { x: tqkv, layout: part(1), table: tt });
      return [tqkv, qOut];
    });
    const hf = hfTextCosSin(positions, dim, 10000);
    const slice = (src: ArrayLike<number>, which: number) =>
      Array.from({ length: batch * tokens }, (_, bt) =>
        Array.from(
          { length: heads * dim },
          (_, k) => src[(bt * 3 + which) * heads * dim + k]!,
        )).flat();
    const shape = [batch, tokens, heads, dim] as const;
    assertAllClose(slice(fused!, 0), applyRotaryRef(slice(qkv, 0), shape, hf), {
      ...TOL,
      label: "Q",
    });
    assertAllClose(slice(fused!, 1), applyRotaryRef(slice(qkv, 1), shape, hf), {
      ...TOL,
      label: "K",
    });
    assert.deepEqual(slice(fused!, 2), slice(qkv, 2));
    assertAllClose(qContiguous!, applyRotaryRef(slice(qkv, 0), shape, hf), {
      ...TOL,
      label: "Q out",
    });
  },
);

gpuTest("applyRotary rejects a wrong table, a too-small x and an output aliasing x", (rt) => {
  const rec = new CommandRecorder(rt);
  const layout = { batch: 1, tokens: 4, heads: 2, headDim: 8 };
  const x = rt.createTensor([1, 4, 2, 8]);
  assert.throws(
    () => applyRotary(rec, { x, layout, table: rt.createTensor([1, 5, 4, 2]) }),
    (e: unknown) => e instanceof ShapeMismatch && /table/.test(e.message),
  );
  assert.throws(
    () =>
      applyRotary(rec, {
        x: rt.createTensor([1, 4, 2, 7]),
        layout,
        table: rt.createTensor([1, 4, 4, 2]),
      }),
    ShapeMismatch,
  );
  const table = rt.createTensor([1, 4, 4, 2]);
  assert.throws(() => applyRotary(rec, { x, layout, table, out: x }), /in place/);
  return Promise.resolve();
});

gpuTest("the rotary backward agrees with finite differences of the GPU forward", async (rt) => {
  const rng = seededRandom(9);
  const shape = [1, 3, 2, 8] as const;
  const table = textRotaryTable([4, 9, 250], 8, 10000);
  const x = random(48, rng, 2);
  const g = random(48, rng, 1);
  const dx = await runRotary(rt, g, shape, table, 1, true);
  const h = 0.05;
  for (const i of [2, 21, 40]) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] = x[i]! + h;
    minus[i] = x[i]! - h;
    const lp = dot(await runRotary(rt, plus, shape, table, 1), g);
    const lm = dot(await runRotary(rt, minus, shape, table, 1), g);
    // Linear in x, so no truncation error; f32 rounding of ~48 products ≈ 1e-6, /2h → ~1e-5.
    assertAllClose([dx[i]!], [(lp - lm) / (2 * h)], { rtol: 1e-4, atol: 1e-4, label: `dx[${i}]` });
  }
});

gpuTest("applyRotary splits long heads over several invocations (head dim 260)", async (rt) => {
  const rng = seededRandom(10);
  const shape = [1, 3, 2, 260] as const;
  const positions = [7, 0, 1234];
  const x = random(3 * 2 * 260, rng, 3);
  const got = await runRotary(rt, x, shape, textRotaryTable(positions, 260, 1e6), 1);
  const ref = applyRotaryRef(x, shape, hfTextCosSin(positions, 260, 1e6));
  assertAllClose(got, ref, { ...TOL, label: "head dim 260" });
});
