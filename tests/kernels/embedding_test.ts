import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { embeddingBackward, embeddingForward } from "../../src/gpu/ops/embedding.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, seededRandom } from "../gpu/harness.ts";
import { centralDifference, dot, pick } from "./reference/central_difference.ts";
import { embeddingBackwardRef, embeddingRef } from "./reference/embedding.ts";

type F32 = Float32Array<ArrayBuffer>;

const random = (n: number, rng: () => number, scale = 1): F32 =>
  Float32Array.from(randomArray(n, rng, scale));

/** Forward and backward in one submit; `runtime` may be a view claiming a smaller binding. */
const run = async (
  rt: GpuRuntime,
  ids: Uint32Array<ArrayBuffer>,
  table: F32,
  dout: F32,
  vocab: number,
  { initial, runtime = rt }: { initial?: F32; runtime?: GpuRuntime } = {},
) => {
  const tokens = ids.length;
  const dim = table.length / vocab;
  const tids = rt.createTensor([tokens], "u32", ids);
  const ttable = rt.createTensor([vocab, dim], "f32", table);
  const tdout = rt.createTensor([tokens, dim], "f32", dout);
  const out = rt.createTensor([tokens, dim]);
  const dtable = rt.createTensor([vocab, dim], "f32", initial);
  const arena = new Arena(rt.pool);
  // Poison through the real runtime (fill binds whole tensors), submitted first in queue order.
  const poison = new CommandRecorder(rt, "poison");
  fill(poison, out, NaN);
  if (initial === undefined) fill(poison, dtable, NaN);
  poison.submit();
  const rec = new CommandRecorder(runtime, "test");
  embeddingForward(rec, tids, ttable, out);
  embeddingBackward(rec, arena, { ids: tids, dout: tdout, dtable }, {
    accumulate: initial !== undefined,
  });
  rec.read(out);
  rec.read(dtable);
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  return { out: arrays[0] as F32, dtable: arrays[1] as F32, dispatches: rec.dispatchCount };
};

const cases = [
  { tokens: 1, vocab: 1, dim: 1 },
  { tokens: 7, vocab: 10, dim: 3 },
  // 600 tokens over 5 ids: many duplicates per id, spread over three 256-token chunks.
  { tokens: 600, vocab: 5, dim: 9 },
  { tokens: 300, vocab: 700, dim: 70 },
  { tokens: 20, vocab: 10, dim: 300 },
];

for (const { tokens, vocab, dim } of cases) {
  gpuTest(
    `embedding gather and deterministic scatter-add are exact for N=${tokens}, V=${vocab}, D=${dim}`,
    async (rt) => {
      const rng = seededRandom(tokens + vocab + dim);
      const ids = Uint32Array.from({ length: tokens }, () => Math.floor(rng() * vocab));
      const table = random(vocab * dim, rng);
      const dout = random(tokens * dim, rng);
      const r = await run(rt, ids, table, dout, vocab);
      // A gather copies; the scatter sums in ascending token order in f32: both bit-exact.
      assert.deepEqual([...r.out], [...embeddingRef(ids, table, vocab, dim)]);
      assert.deepEqual([...r.dtable], [...embeddingBackwardRef(ids, dout, vocab, dim, true)]);
    },
  );
}

gpuTest(
  "the embedding gradient agrees with finite differences of the float64 forward",
  async (rt) => {
    const [tokens, vocab, dim] = [40, 6, 4];
    const rng = seededRandom(21);
    const ids = Uint32Array.from({ length: tokens }, () => Math.floor(rng() * vocab));
    const table = random(vocab * dim, rng);
    const dout = random(tokens * dim, rng);
    const { dtable } = await run(rt, ids, table, dout, vocab);
    const probes = [0, 5, 13, vocab * dim - 1];
    const fd = centralDifference(
      (tab) => dot(embeddingRef(ids, tab, vocab, dim), dout),
      Float64Array.from(table),
      1e-3,
      probes,
    );
    // Linear in the table: the difference quotient is exact up to float64 rounding; the GPU sums
    // up to ~15 f32 terms (~1e-6).
    assertAllClose(pick(dtable, probes), fd, { rtol: 1e-5, atol: 1e-5, label: "dtable vs fd" });
  },
);

gpuTest("embeddingBackward with accumulate adds onto an existing gradient", async (rt) => {
  const [tokens, vocab, dim] = [30, 8, 5];
  const rng = seededRandom(22);
  const ids = Uint32Array.from({ length: tokens }, () => Math.floor(rng() * vocab));
  const table = random(vocab * dim, rng);
  const dout = random(tokens * dim, rng);
  const initial = random(vocab * dim, rng, 4);
  const { dtable } = await run(rt, ids, table, dout, vocab, { initial });
  const ref = embeddingBackwardRef(ids, dout, vocab, dim).map((g, i) => g + initial[i]!);
  assertAllClose(dtable, ref, { rtol: 1e-6, atol: 1e-6, label: "accumulated dtable" });
});

gpuTest("an id outside the vocabulary gives a NaN row and no gradient", async (rt) => {
  const [vocab, dim] = [4, 3];
  const ids = new Uint32Array([1, 9, 1]);
  const rng = seededRandom(23);
  const table = random(vocab * dim, rng);
  const dout = random(3 * dim, rng);
  const r = await run(rt, ids, table, dout, vocab);
  assert.ok(r.out.slice(dim, 2 * dim).every(Number.isNaN));
  assert.ok(r.out.slice(0, dim).every(Number.isFinite));
  assert.deepEqual([...r.dtable], [...embeddingBackwardRef(ids, dout, vocab, dim, true)]);
});

gpuTest("tables larger than one binding are gathered and scattered in row blocks", async (rt) => {
  const [tokens, vocab, dim] = [20, 200, 8];
  const rng = seededRandom(24);
  const ids = Uint32Array.from({ length: tokens }, () => Math.floor(rng() * vocab));
  const table = random(vocab * dim, rng);
  const dout = random(tokens * dim, rng);
  // A runtime that claims 1 KiB bindings: every other tensor fits, the 6.4 KB table needs
  // blocks of 32 rows (fewer where the device's offset alignment demands it).
  const small = Object.create(rt, { maxBindingBytes: { get: () => 1024 } });
  const r = await run(rt, ids, table, dout, vocab, { runtime: small });
  assert.ok(r.dispatches >= 5 + 2 * 7, `expected several blocks, got ${r.dispatches} dispatches`);
  assert.deepEqual([...r.out], [...embeddingRef(ids, table, vocab, dim)]);
  assert.deepEqual([...r.dtable], [...embeddingBackwardRef(ids, dout, vocab, dim, true)]);
});

gpuTest("embeddingForward rejects ids that are not u32 and outputs of the wrong width", (rt) => {
  const rec = new CommandRecorder(rt);
  const table = rt.createTensor([10, 4]);
  assert.throws(
    () => embeddingForward(rec, rt.createTensor([3]), table, rt.createTensor([3, 4])),
    (e: unknown) => e instanceof ShapeMismatch && /ids/.test(e.message),
  );
  assert.throws(
    () => embeddingForward(rec, rt.createTensor([3], "u32"), table, rt.createTensor([3, 5])),
    ShapeMismatch,
  );
  return Promise.resolve();
});

gpuTest("the embedding gradient agrees with finite differences of the GPU forward", async (rt) => {
  const [tokens, vocab, dim] = [12, 4, 3];
  const rng = seededRandom(25);
  const ids = Uint32Array.from({ length: tokens }, () => Math.floor(rng() * vocab));
  const table = random(vocab * dim, rng);
  const dout = random(tokens * dim, rng);
  const { dtable } = await run(rt, ids, table, dout, vocab);
  const h = 0.05;
  for (const i of [0, 4, 11]) {
    const plus = Float32Array.from(table);
    const minus = Float32Array.from(table);
    plus[i] = table[i]! + h;
    minus[i] = table[i]! - h;
    const lp = dot((await run(rt, ids, plus, dout, vocab)).out, dout);
    const lm = dot((await run(rt, ids, minus, dout, vocab)).out, dout);
    // A gather is exact, so the only error is the float64 rounding of the difference.
    assertAllClose([dtable[i]!], [(lp - lm) / (2 * h)], {
      rtol: 1e-5,
      atol: 1e-5,
      label: `dtable[${i}]`,
    });
  }
});
