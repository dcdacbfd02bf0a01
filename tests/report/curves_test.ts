import assert from "node:assert/strict";
import { Effect } from "effect";
import { curvePlots, curvePoints, metricAt } from "../../src/report/curves.ts";
import { readMetrics, runPaths } from "../../src/report/run_folder.ts";
import { FIXTURE_RUN } from "./fixture.ts";

const rows = await Effect.runPromise(readMetrics(runPaths(FIXTURE_RUN).metrics));

Deno.test("every curve path names a number in metrics rows of its kind", () => {
  for (const plot of curvePlots) {
    for (const series of plot.series) {
      const row = rows.find((r) => r.kind === series.kind)!;
      assert.equal(typeof metricAt(row, series.path), "number", `${plot.id}: ${series.path}`);
    }
  }
  assert.equal(new Set(curvePlots.map((p) => p.id)).size, curvePlots.length, "ids are unique");
});

Deno.test("curvePoints gives validation points only at validation steps", () => {
  const accuracy = curvePlots.find((p) => p.id === "accuracy")!;
  const points = curvePoints(accuracy, rows);
  assert.deepEqual(points.filter((p) => p.series === "val").map((p) => p.step), [5, 10]);
  assert.equal(points.filter((p) => p.series === "train").length, 12);
  assert.equal(
    points.find((p) => p.series === "val")?.value,
    rows.find((r) => r.kind === "val")?.accuracy,
  );
});

Deno.test("metricAt gives undefined for paths that do not lead to a number", () => {
  assert.equal(metricAt({ reward: { overall: 1 } }, "reward"), undefined);
  assert.equal(metricAt({ reward: null }, "reward.overall"), undefined);
  assert.equal(metricAt({}, "toString"), undefined);
});
