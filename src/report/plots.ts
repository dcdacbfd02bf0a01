/**
 * Plots of a run as vega-lite specs, rendered headless to SVG by vega (renderer `"none"`, no
 * canvas) and rasterised to PNG by resvg. Spec building is pure; rendering is effectful only
 * because vega's `toSVG` is asynchronous and either step can reject its input.
 *
 * @module
 */
import { Effect } from "effect";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { type CurvePlot, curvePoints } from "./curves.ts";
import { RenderFailed } from "./errors.ts";
import type { MetricsRow, ValMetrics } from "./metrics.ts";

const WIDTH = 520;
const HEIGHT = 220;
const FONT = "DejaVu Sans, sans-serif";

const baseConfig = {
  font: FONT,
  background: "white",
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { orient: "bottom" as const, labelFontSize: 11, labelLimit: 200 },
  title: { fontSize: 14, anchor: "start" as const },
};

/**
 * A vega-lite line chart of `plot` over `rows`: one colour per series, validation series drawn
 * with points since they exist only every few steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { curvePlots } from "./curves.ts";
 * import { curveSpec } from "./plots.ts";
 * const spec = curveSpec(curvePlots[0]!, []);
 * assert(spec.title === curvePlots[0]!.title);
 * ```
 */
export const curveSpec = (plot: CurvePlot, rows: ReadonlyArray<MetricsRow>): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: plot.title,
  width: WIDTH,
  height: HEIGHT,
  config: baseConfig,
  data: { values: curvePoints(plot, rows).map((p) => ({ ...p })) },
  mark: { type: "line", point: { size: 18 }, strokeWidth: 1.6 },
  encoding: {
    x: { field: "step", type: "quantitative", title: "step" },
    y: { field: "value", type: "quantitative", title: plot.yTitle, scale: { zero: false } },
    color: {
      field: "series",
      type: "nominal",
      title: null,
      sort: plot.series.map((s) => s.label),
    },
  },
});

/**
 * A vega-lite bar chart of per-category validation accuracy (`n` = prompts in the category).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { categorySpec } from "./plots.ts";
 * const spec = categorySpec({
 *   kind: "val", step: 5, time: 0, accuracy: 0.5, formatRate: 1, responseLength: 10,
 *   reward: { overall: 0, format: 0, count: 0, accuracy: 0, spatial: 0 },
 *   perCategory: { depth: { accuracy: 0.5, count: 2 } },
 * });
 * assert(String(spec.title).includes("step 5"));
 * ```
 */
export const categorySpec = (row: ValMetrics): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: `Validation accuracy per category (step ${row.step})`,
  width: WIDTH,
  config: baseConfig,
  data: {
    values: Object.entries(row.perCategory).map(([category, c]) => ({
      category: `${category} (n=${c.count})`,
      accuracy: c.accuracy,
    })),
  },
  mark: { type: "bar", color: "#4c78a8" },
  encoding: {
    y: { field: "category", type: "nominal", title: null, sort: "-x" },
    x: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] } },
  },
});

/** Renders a vega-lite spec to a standalone SVG document. */
export const renderSvg = Effect.fn("renderSvg")(function* (spec: TopLevelSpec) {
  const title = typeof spec.title === "string" ? spec.title : "plot";
  return yield* Effect.tryPromise({
    try: async () => {
      const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
      try {
        return await view.toSVG();
      } finally {
        view.finalize();
      }
    },
    catch: (cause) => new RenderFailed({ what: title, reason: String(cause) }),
  });
});

/**
 * Rasterises an SVG document to PNG bytes at `scale` times its own size, with the system's
 * DejaVu fonts for text.
 */
export const rasterise = Effect.fn("rasterise")(function* (svg: string, scale = 2) {
  return yield* Effect.try({
    try: () =>
      new Uint8Array(
        new Resvg(svg, {
          fitTo: { mode: "zoom", value: scale },
          font: {
            loadSystemFonts: true,
            defaultFontFamily: "DejaVu Sans",
            sansSerifFamily: "DejaVu Sans",
            monospaceFamily: "DejaVu Sans Mono",
          },
        }).render().asPng(),
      ),
    catch: (cause) => new RenderFailed({ what: "PNG", reason: String(cause) }),
  });
});
