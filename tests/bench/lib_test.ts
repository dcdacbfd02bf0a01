import assert from "node:assert/strict";
import {
  type BenchRow,
  gflops,
  markdownTable,
  matmulFlops,
  median,
  OURS,
  oursSpeedup,
  speedupSummary,
} from "../../bench/lib.ts";

const row = (engine: string, ms: number, caseName = "NN 8×8×8"): BenchRow => ({
  section: "matmul",
  case: caseName,
  engine,
  ms,
  flops: matmulFlops(8, 8, 8),
  timing: "gpu-timestamp",
});

Deno.test("median takes the middle value, or the mean of the two middle values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

Deno.test("gflops divides 2·M·N·K operations by the time", () => {
  assert.equal(matmulFlops(2, 3, 4, 5), 240);
  assert.equal(gflops(2e9, 1000), 2);
});

Deno.test("oursSpeedup compares a peer with our row of the same case only", () => {
  const rows = [row(OURS, 2), row("peer", 8), row("peer", 1, "other case")];
  assert.equal(oursSpeedup(rows, rows[1]!), 4);
  assert.equal(oursSpeedup(rows, rows[0]!), undefined);
  assert.equal(oursSpeedup(rows, rows[2]!), undefined);
});

Deno.test("speedupSummary gives the geometric mean and range per peer", () => {
  const rows = [
    row(OURS, 1, "a"),
    row("peer", 2, "a"),
    row(OURS, 1, "b"),
    row("peer", 8, "b"),
  ];
  assert.deepEqual(speedupSummary(rows), [
    "- matmul: ours vs peer: 4.00× faster (geometric mean of 2 cases; range 2.00–8.00)",
  ]);
});

Deno.test("markdownTable has a header and one line per row with GFLOP/s", () => {
  const lines = markdownTable([row(OURS, 1), row("peer", 4)]).split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[2]!, /\| ours \| 1\.000 \| 0\.00 \| – \|/);
  assert.match(lines[3]!, /\| peer \| 4\.000 \| 0\.00 \| 4\.00 \|/);
});
