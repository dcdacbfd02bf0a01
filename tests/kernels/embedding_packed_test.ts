import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { embeddingForward } from "../../src/gpu/ops/embedding.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../src/nn/dtype.ts";
import { gpuTest, randomArray, seededRandom } from "../gpu/harness.ts";
import { embeddingRef } from "./reference/embedding.ts";

type Packed = "bf16" | "f16";

/**
 * Gathers `ids` from a random [vocab, dim] table stored as `dtype`; returns the GPU output, the
 * reference on the widened 16-bit values and the number of dispatches.
 */
const gather = async (
  rt: GpuRuntime,
  dtype: Packed,
  ids: Uint32Array<ArrayBuffer>,
  vocab: number,
  dim: number,
  seed: number,
  runtime: GpuRuntime = rt,
) => {
  const values = randomArray(vocab * dim, seededRandom(seed));
  const halves = dtype === "bf16" ? f32ToBf16(values) : f32ToF16(values);
  const widened = dtype === "bf16" ? bf16ToF32(halves) : f16ToF32(halves);
  const table = rt.createTensor([vocab, dim], dtype, halves as Uint16Array<ArrayBuffer>);
  const tids = rt.createTensor([ids.length], "u32", ids);
  const out = rt.createTensor([ids.length, dim]);
  const poison = new CommandRecorder(rt, "poison");
  fill(poison, out, NaN);
  poison.submit();
  const rec = new CommandRecorder(runtime, "test");
  embeddingForward(rec, tids, table, out);
  rec.read(out);
  const { arrays } = await rec.submit().resolve();
  return {
    out: [...arrays[0]!],
    expected: [...embeddingRef(ids, widened, vocab, dim)],
    dispatches: rec.dispatchCount,
  };
};

for (const dtype of ["bf16", "f16"] as const) {
  gpuTest(`embedding gather from a ${dtype} table widens every value exactly`, async (rt) => {
    let seed = dtype === "bf16" ? 1 : 50;
    for (const [tokens, vocab, dim] of [[1, 1, 2], [7, 10, 6], [300, 700, 70], [20, 10, 300]]) {
      const rng = seededRandom(seed);
      // D = 6 and 70 are even but not multiples of 4: rows start at any word.
      const ids = Uint32Array.from({ length: tokens! }, () => Math.floor(rng() * vocab!));
      const r = await gather(rt, dtype, ids, vocab!, dim!, seed++);
      assert.deepEqual(r.out, r.expected);
    }
  });

  gpuTest(`a ${dtype} table larger than one binding is gathered in row blocks`, async (rt) => {
    const [tokens, vocab, dim] = [30, 400, 8];
    const rng = seededRandom(dtype === "bf16" ? 7 : 8);
    // Every id of the table's first and last rows too, and one past the end (a NaN row).
    const ids = Uint32Array.from(
      { length: tokens },
      (_, n) => n === 0 ? 0 : n === 1 ? vocab - 1 : n === 2 ? vocab : Math.floor(rng() * vocab),
    );
    // 1 KiB bindings: the 6.4 KB table needs several blocks of 64 rows (16 bytes each).
    const small = Object.create(rt, { maxBindingBytes: { get: () => 1024 } });
    const r = await gather(rt, dtype, ids, vocab, dim, 9, small);
    assert.ok(r.dispatches >= 6, `expected several blocks, got ${r.dispatches} dispatches`);
    assert.ok(Number.isNaN(r.out[2 * dim]!), "an id past the vocabulary gives a NaN row");
    assert.deepEqual(r.out, r.expected);
  });
}

gpuTest("embeddingForward rejects a 16-bit table of odd width", (rt) => {
  const rec = new CommandRecorder(rt);
  assert.throws(
    () =>
      embeddingForward(
        rec,
        rt.createTensor([2], "u32"),
        rt.createTensor([10, 5], "bf16"),
        rt.createTensor([2, 5]),
      ),
    (e: unknown) => e instanceof ShapeMismatch && /even width/.test(e.detail),
  );
  assert.equal(rec.dispatchCount, 0);
  return Promise.resolve();
});
