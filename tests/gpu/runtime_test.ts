import assert from "node:assert/strict";
import { Arena, sizeClass } from "../../src/gpu/buffer_pool.ts";
import { TensorTooLarge } from "../../src/gpu/errors.ts";
import { preprocess } from "../../src/gpu/kernel_source.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { expectShape, reshape } from "../../src/gpu/tensor.ts";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { gpuTest, runAndRead } from "./harness.ts";

gpuTest("fill writes the value, NaN included, and reads back in one submit", async (rt) => {
  const a = rt.createTensor([3, 5]);
  const b = rt.createTensor([70_000]);
  const [ra, rb] = await runAndRead(rt, (rec) => {
    fill(rec, a, 1.5);
    fill(rec, b, Number.NaN);
    return [a, b];
  });
  assert.deepEqual([...ra!], new Array(15).fill(1.5));
  assert.ok([...rb!].every(Number.isNaN));
});

gpuTest("reads see the tensor as it was at the point of the read", async (rt) => {
  const t = rt.createTensor([4]);
  const [first, second] = await runAndRead(rt, (rec) => {
    fill(rec, t, 2);
    rec.read(t);
    fill(rec, t, 3);
    return [t];
  });
  assert.deepEqual([...first!], [2, 2, 2, 2]);
  assert.deepEqual([...second!], [3, 3, 3, 3]);
});

gpuTest("host writes upload before the recorded work runs", async (rt) => {
  const t = rt.createTensor([3], "u32", new Uint32Array([7, 8, 9]));
  const [r] = await runAndRead(rt, () => [t]);
  assert.deepEqual([...r!], [7, 8, 9]);
});

gpuTest("timed sections report a positive GPU duration", async (rt) => {
  if (!rt.features.timestamps) return;
  const t = rt.createTensor([1 << 16]);
  const rec = new CommandRecorder(rt);
  rec.timed("fill", () => fill(rec, t, 0));
  const { timings } = await rec.submit().resolve();
  assert.ok((timings.get("fill") ?? 0) > 0);
});

gpuTest("the arena reuses buffers after reset", (rt) => {
  const arena = new Arena(rt.pool);
  const first = arena.alloc([1000]);
  arena.reset();
  const second = arena.alloc([900]);
  assert.equal(second.buffer, first.buffer);
  arena.reset();
  return Promise.resolve();
});

gpuTest("the recorder rejects a binding over the device limit with TensorTooLarge", (rt) => {
  const huge = {
    shape: [rt.maxBindingBytes / 4 + 64],
    dtype: "f32" as const,
    buffer: rt.createTensor([4]).buffer,
    offset: 0,
  };
  const rec = new CommandRecorder(rt);
  const pipeline = rt.pipelines.get({ kernel: "fill.wgsl" });
  assert.throws(() => rec.dispatch(pipeline, [huge], [1]), TensorTooLarge);
  return Promise.resolve();
});

Deno.test("sizeClass rounds up by at most a quarter", () => {
  for (const bytes of [1, 257, 1000, 4097, 123_457, 10_000_000]) {
    const size = sizeClass(bytes);
    assert.ok(size >= bytes && (bytes <= 256 || size <= bytes * 1.25 + 256), `${bytes} -> ${size}`);
  }
});

Deno.test("preprocess keeps the active branch and drops enable subgroups", () => {
  const src =
    "enable subgroups;\n#ifdef A\na\n#ifndef B\nnotb\n#else\nb\n#endif\n#else\nnota\n#endif\nend";
  assert.equal(preprocess(src, { A: true, B: false }), "a\nnotb\nend");
  assert.equal(preprocess(src, { A: false }), "nota\nend");
  assert.equal(preprocess('#include "x"\ny', {}, () => "x1"), "x1\ny");
  assert.throws(() => preprocess("#ifdef A\n", {}), /unterminated/);
});

Deno.test("expectShape and reshape reject mismatches with ShapeMismatch", () => {
  const t = { shape: [2, 3], dtype: "f32" as const };
  expectShape("op", "x", t, [2, -1]);
  assert.throws(
    () => expectShape("matmul", "a", t, [3, 2]),
    (e: unknown) =>
      e instanceof ShapeMismatch && /matmul/.test(e.message) && /\[2, 3\] f32/.test(e.message),
  );
  assert.throws(() => reshape({ ...t, buffer: {} as GPUBuffer, offset: 0 }, [4]), ShapeMismatch);
});
