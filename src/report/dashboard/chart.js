// This module is browser compatible.
/**
 * Line-chart geometry for the dashboard, dependency-free so the page needs no network: turns
 * metric rows and a curve plot (see `../curves.ts`) into screen-space polylines, ticks and
 * legend entries. Pure functions over plain data; the page turns the model into SVG elements.
 *
 * @module
 */

/** Vega's default "tableau10" scheme, so dashboard colours match the static report. */
export const SERIES_COLOURS = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/**
 * The number at dotted `path` in `row`, or `undefined`.
 *
 * @param {unknown} row
 * @param {string} path
 * @returns {number | undefined}
 */
export function metricAt(row, path) {
  let value = row;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = /** @type {Record<string, unknown>} */ (value)[key];
  }
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k).
 *
 * @param {number} min
 * @param {number} max
 * @param {number} count
 * @returns {number[]}
 */
export function niceTicks(min, max, count) {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  // The 1-2-5 multiple nearest to the raw step (geometric midpoints), as d3's ticks do.
  const ratio = raw / power;
  const step = power *
    (ratio >= Math.sqrt(50) ? 10 : ratio >= Math.sqrt(10) ? 5 : ratio >= Math.sqrt(2) ? 2 : 1);
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/**
 * @typedef {{ label: string, kind: "train" | "val", path: string }} CurveSeries
 * @typedef {{ id: string, title: string, yTitle: string, series: ReadonlyArray<CurveSeries> }} CurvePlot
 * @typedef {{ label: string, colour: string, points: Array<[number, number]>, steps: number[] }} ChartLine
 * @typedef {{ value: number, at: number }} ChartTick
 * @typedef {{
 *   width: number, height: number,
 *   plot: { left: number, top: number, right: number, bottom: number },
 *   lines: ChartLine[], xTicks: ChartTick[], yTicks: ChartTick[]
 * }} ChartModel
 */

const MARGIN = { left: 52, top: 10, right: 12, bottom: 28 };

/**
 * Screen-space geometry of `plot` over `rows` in a `width` × `height` box: one polyline per
 * series (points in step order), with x ticks on steps and y ticks on values.
 *
 * @param {CurvePlot} plot
 * @param {ReadonlyArray<{ kind: string, step: number }>} rows
 * @param {number} width
 * @param {number} height
 * @returns {ChartModel}
 */
export function chartModel(plot, rows, width, height) {
  const series = plot.series.map((s) => {
    const data = [];
    for (const row of rows) {
      if (row.kind !== s.kind) continue;
      const value = metricAt(row, s.path);
      if (value !== undefined) data.push([row.step, value]);
    }
    return data;
  });
  // Loops rather than Math.min(...xs): long runs have more points than spread arguments allow.
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const [sx, sy] of series.flat()) {
    xMin = Math.min(xMin, sx);
    xMax = Math.max(xMax, sx);
    yMin = Math.min(yMin, sy);
    yMax = Math.max(yMax, sy);
  }
  if (xMin === Infinity) [xMin, xMax, yMin, yMax] = [0, 1, 0, 1];
  if (yMax === yMin) {
    yMin -= Math.abs(yMin) * 0.1 || 1;
    yMax += Math.abs(yMax) * 0.1 || 1;
  }
  const area = {
    left: MARGIN.left,
    top: MARGIN.top,
    right: width - MARGIN.right,
    bottom: height - MARGIN.bottom,
  };
  const x = (v) =>
    xMax === xMin
      ? (area.left + area.right) / 2
      : area.left + ((v - xMin) / (xMax - xMin)) * (area.right - area.left);
  const y = (v) => area.bottom - ((v - yMin) / (yMax - yMin)) * (area.bottom - area.top);
  const round = (v) => Math.round(v * 10) / 10;
  return {
    width,
    height,
    plot: area,
    lines: plot.series.map((s, i) => ({
      label: s.label,
      colour: SERIES_COLOURS[i % SERIES_COLOURS.length],
      points: series[i].map(([sx, sy]) => [round(x(sx)), round(y(sy))]),
      steps: series[i].map(([sx]) => sx),
    })),
    xTicks: niceTicks(xMin, xMax, 6).filter((t) => Number.isInteger(t)).map((t) => ({
      value: t,
      at: round(x(t)),
    })),
    yTicks: niceTicks(yMin, yMax, 4).map((t) => ({ value: t, at: round(y(t)) })),
  };
}
