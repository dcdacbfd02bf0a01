/**
 * Speed of the report and dashboard paths: rendering a curve with vega, rasterising it with
 * resvg, drawing a rollout overlay, tailing a long metrics.jsonl, and a whole report of the
 * fixture run. `deno bench -A bench/report_bench.ts`
 */
import { Effect } from "effect";
import { Base64 } from "effect/encoding";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { curvePlots } from "../src/report/curves.ts";
import { startOfFile } from "../src/report/jsonl.ts";
import type { MetricsRow } from "../src/report/metrics.ts";
import { rolloutOverlaySvg } from "../src/report/overlay.ts";
import { curveSpec, rasterise, renderSvg } from "../src/report/plots.ts";
import { writeReport } from "../src/report/report.ts";
import { readMetrics, readMetricsTail, readRollouts, runPaths } from "../src/report/run_folder.ts";

const FIXTURE = join(import.meta.dirname!, "..", "data", "fixtures", "run");
const fixtureRows = await Effect.runPromise(readMetrics(runPaths(FIXTURE).metrics));
const template = fixtureRows.find((r) => r.kind === "train")!;

/** `n` train rows shaped like the fixture's, with a slowly rising reward. */
const longRun = (n: number): Array<MetricsRow> =>
  Array.from({ length: n }, (_, i) => ({
    ...template,
    step: i + 1,
    reward: { ...template.reward, overall: 0.2 + 0.6 * (i / n) },
  }));

const scratch = await Deno.makeTempDir({ prefix: "report-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));
const longMetrics = join(scratch, "metrics.jsonl");
const tenThousand = longRun(10_000);
await Deno.writeTextFile(longMetrics, tenThousand.map((r) => JSON.stringify(r) + "\n").join(""));
const { next: endOfLong } = await Effect.runPromise(readMetricsTail(longMetrics, startOfFile));
await Deno.writeTextFile(longMetrics, JSON.stringify(longRun(1)[0]) + "\n", { append: true });

const reward = curvePlots.find((p) => p.id === "reward")!;
const rewardSvg = await Effect.runPromise(renderSvg(curveSpec(reward, fixtureRows)));
const [sample] = await Effect.runPromise(readRollouts(runPaths(FIXTURE).rollouts, 10));
const imageUri = `data:image/png;base64,${
  Base64.encode(await Deno.readFile(join(FIXTURE, sample!.image.path)))
}`;
const reportRun = join(scratch, "run");
await cp(FIXTURE, reportRun, { recursive: true });

Deno.bench("vega: reward curve (5 series × 12 steps) → SVG", { group: "plot" }, async () => {
  await Effect.runPromise(renderSvg(curveSpec(reward, fixtureRows)));
});

Deno.bench("vega: reward curve (5 series × 2,000 steps) → SVG", { group: "plot" }, async () => {
  await Effect.runPromise(renderSvg(curveSpec(reward, tenThousand.slice(0, 2000))));
});

Deno.bench("resvg: reward curve SVG → PNG at 2×", { group: "plot" }, async () => {
  await Effect.runPromise(rasterise(rewardSvg));
});

Deno.bench("rollout overlay (2 + 2 boxes) → PNG 384 px", { group: "plot" }, async () => {
  await Effect.runPromise(rasterise(rolloutOverlaySvg(sample!, imageUri), 1));
});

Deno.bench(
  "readMetricsTail: 10,000-row metrics.jsonl from the start",
  { group: "tail" },
  async () => {
    await Effect.runPromise(readMetricsTail(longMetrics, startOfFile));
  },
);

Deno.bench("readMetricsTail: one new row after 10,000", { group: "tail" }, async () => {
  await Effect.runPromise(readMetricsTail(longMetrics, endOfLong));
});

Deno.bench("writeReport: fixture run (9 curves + categories + 2 rollouts)", { n: 5 }, async () => {
  await Effect.runPromise(writeReport(reportRun));
});
