import assert from "node:assert/strict";
import { Effect } from "effect";
import { chartModel, metricAt, niceTicks } from "../../../src/report/dashboard/chart.js";
import { curvePlots } from "../../../src/report/curves.ts";
import { readMetrics, runPaths } from "../../../src/report/run_folder.ts";
import { FIXTURE_RUN } from "../fixture.ts";

const rows = await Effect.runPromise(readMetrics(runPaths(FIXTURE_RUN).metrics));
const plot = (id: string) => curvePlots.find((p) => p.id === id)!;

Deno.test("niceTicks picks round steps near the requested count", () => {
  assert.deepEqual(niceTicks(0.07, 0.9, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(1, 12, 6), [2, 4, 6, 8, 10, 12]);
  assert.deepEqual(niceTicks(0, 1000, 4), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(3, 3, 4), [3]);
});

Deno.test("chartModel draws one point per row of each series' kind, inside the plot area", () => {
  const model = chartModel(plot("accuracy"), rows, 400, 200);
  const [train, val] = model.lines;
  assert.equal(train!.points.length, 12);
  assert.deepEqual(val!.steps, [5, 10]);
  for (const line of model.lines) {
    for (const [x, y] of line.points) {
      assert.ok(x >= model.plot.left && x <= model.plot.right, `x ${x}`);
      assert.ok(y >= model.plot.top && y <= model.plot.bottom, `y ${y}`);
    }
  }
  // Steps increase left to right; the highest accuracy is drawn highest (smallest y).
  const xs = train!.points.map(([x]) => x);
  assert.deepEqual(xs, [...xs].sort((a, b) => a - b));
  assert.equal(Math.min(...train!.points.map(([, y]) => y)), train!.points.at(-1)![1]);
});

Deno.test("chartModel gives finite geometry for no rows and for a constant series", () => {
  const empty = chartModel(plot("kl"), [], 400, 200);
  assert.deepEqual(empty.lines[0]!.points, []);
  const constant = chartModel(plot("step-time"), rows, 400, 200);
  for (const line of constant.lines) {
    for (const [x, y] of line.points) assert.ok(Number.isFinite(x) && Number.isFinite(y));
  }
  assert.ok(constant.yTicks.length >= 2);
});

Deno.test("the page's metricAt ignores non-finite and missing values", () => {
  assert.equal(metricAt({ kl: Number.NaN }, "kl"), undefined);
  assert.equal(metricAt({ reward: { overall: 0.5 } }, "reward.overall"), 0.5);
  assert.equal(metricAt({ reward: 1 }, "reward.overall"), undefined);
});
