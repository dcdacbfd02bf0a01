/**
 * Which curves a run is judged by, as data: each plot names the metrics it draws by their path in
 * a metrics row (`"reward.overall"`, `"clip.high"`). The static report and the live dashboard
 * both draw exactly this list, so the two never disagree about what is shown.
 *
 * @module
 */
import type { MetricsRow } from "./metrics.ts";

/** One line of a plot: a metric of train or val rows. */
export interface CurveSeries {
  readonly label: string;
  readonly kind: MetricsRow["kind"];
  /** Dotted path of a number in a row of that kind, e.g. `"reward.accuracy"`. */
  readonly path: string;
}

/** A plot of one or more metrics against the step. */
export interface CurvePlot {
  /** File-name-safe identifier, e.g. `"reward"` → `report/reward.svg`. */
  readonly id: string;
  readonly title: string;
  readonly yTitle: string;
  readonly series: ReadonlyArray<CurveSeries>;
}

const train = (label: string, path: string): CurveSeries => ({ label, kind: "train", path });
const val = (label: string, path: string): CurveSeries => ({ label, kind: "val", path });

/** The curves of a GRPO run, in the order reports show them. */
export const curvePlots: ReadonlyArray<CurvePlot> = [
  {
    id: "reward",
    title: "Reward components (train mean)",
    yTitle: "reward",
    series: [
      train("overall", "reward.overall"),
      train("format", "reward.format"),
      train("count", "reward.count"),
      train("accuracy (exact)", "reward.accuracy"),
      train("spatial", "reward.spatial"),
    ],
  },
  {
    id: "accuracy",
    title: "Answer accuracy",
    yTitle: "accuracy",
    series: [
      train("train", "accuracy"),
      val("val", "accuracy"),
      train("format rate (train)", "formatRate"),
      val("format rate (val)", "formatRate"),
      val("question objects named (val)", "objectRecall"),
      train("answers naming one option (train)", "validAnswerRate"),
      val("answers naming one option (val)", "validAnswerRate"),
    ],
  },
  { id: "kl", title: "KL to the reference policy", yTitle: "KL (k3)", series: [train("kl", "kl")] },
  {
    id: "entropy",
    title: "Policy entropy",
    yTitle: "nats / token",
    series: [train("entropy", "entropy")],
  },
  {
    id: "response-length",
    title: "Response length",
    yTitle: "tokens",
    series: [train("train", "responseLength"), val("val", "responseLength")],
  },
  {
    id: "clip",
    title: "Clipped tokens and zero-variance groups",
    yTitle: "share",
    series: [
      train("clip low", "clip.low"),
      train("clip high", "clip.high"),
      train("clip dual", "clip.dual"),
      train("zero-variance groups", "zeroVarianceGroups"),
    ],
  },
  {
    id: "step-time",
    title: "Step time split",
    yTitle: "seconds",
    series: [
      train("rollout", "seconds.rollout"),
      train("scoring", "seconds.scoring"),
      train("update", "seconds.update"),
    ],
  },
  {
    id: "optimiser",
    title: "Gradient norm",
    yTitle: "‖g‖",
    series: [train("grad norm", "gradNorm")],
  },
  {
    id: "throughput",
    title: "Generation throughput",
    yTitle: "tokens / s",
    series: [train("tokens/s", "tokensPerSecond")],
  },
];

/**
 * The number at dotted `path` in `row`, or `undefined` when the path does not lead to a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricAt } from "./curves.ts";
 * assert(metricAt({ reward: { overall: 0.5 } }, "reward.overall") === 0.5);
 * ```
 */
export const metricAt = (row: unknown, path: string): number | undefined => {
  let value: unknown = row;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === "number" ? value : undefined;
};

/** One point of a curve in long format (one row per series and step), as vega-lite wants it. */
export interface CurvePoint {
  readonly step: number;
  readonly series: string;
  readonly value: number;
}

/**
 * The points of every series of `plot` in `rows`, in row order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { curvePlots, curvePoints } from "./curves.ts";
 * const kl = curvePlots.find((p) => p.id === "kl")!;
 * assert(curvePoints(kl, []).length === 0);
 * ```
 */
export const curvePoints = (
  plot: CurvePlot,
  rows: ReadonlyArray<MetricsRow>,
): ReadonlyArray<CurvePoint> =>
  rows.flatMap((row) =>
    plot.series.flatMap((s) => {
      const value = s.kind === row.kind ? metricAt(row, s.path) : undefined;
      return value === undefined ? [] : [{ step: row.step, series: s.label, value }];
    })
  );
