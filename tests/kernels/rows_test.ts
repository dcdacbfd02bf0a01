import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { moveRows } from "../../src/gpu/ops/rows.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";

gpuTest("moveRows permutes rows and the swapped indices undo it", async (rt) => {
  const rows = 37;
  const width = 70; // not a multiple of the 64-wide workgroup
  const data = randomArray(rows * width, seededRandom(3));
  const perm = Uint32Array.from({ length: rows }, (_, i) => (i * 11) % rows);
  const identity = Uint32Array.from({ length: rows }, (_, i) => i);
  const src = rt.createTensor([rows, width], "f32", data);
  const permIndex = rt.createTensor([rows], "u32", perm);
  const identityIndex = rt.createTensor([rows], "u32", identity);
  const permuted = rt.createTensor([rows, width]);
  const back = rt.createTensor([rows, width]);
  const [p, b] = await runAndRead(rt, (rec) => {
    fill(rec, permuted, NaN);
    fill(rec, back, NaN);
    moveRows(rec, src, permIndex, identityIndex, permuted); // permuted[k] = src[perm[k]]
    moveRows(rec, permuted, identityIndex, permIndex, back); // back[perm[k]] = permuted[k]
    return [permuted, back];
  });
  for (let k = 0; k < rows; k++) {
    assert.deepEqual(
      [...p!.slice(k * width, (k + 1) * width)],
      [...data.slice(perm[k]! * width, (perm[k]! + 1) * width)],
    );
  }
  assert.deepEqual([...b!], [...data]);
});

gpuTest("moveRows accumulates into the destination rows and leaves the others", async (rt) => {
  const src = rt.createTensor([2, 3], "f32", new Float32Array([1, 2, 3, 4, 5, 6]));
  const dst = rt.createTensor([4, 3], "f32", new Float32Array(12).fill(10));
  const from = rt.createTensor([2], "u32", new Uint32Array([1, 0]));
  const to = rt.createTensor([2], "u32", new Uint32Array([0, 3]));
  const [out] = await runAndRead(rt, (rec) => {
    moveRows(rec, src, from, to, dst, { accumulate: true });
    return [dst];
  });
  assert.deepEqual([...out!], [14, 15, 16, 10, 10, 10, 10, 10, 10, 11, 12, 13]);
});

gpuTest("moveRows rejects rows of different widths", (rt) => {
  const rec = new CommandRecorder(rt);
  const index = rt.createTensor([1], "u32");
  assert.throws(
    () => moveRows(rec, rt.createTensor([2, 3]), index, index, rt.createTensor([2, 4])),
    ShapeMismatch,
  );
  return Promise.resolve();
});
