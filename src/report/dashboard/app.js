// This module is browser compatible.
/**
 * The dashboard page script: polls the run's JSON API and redraws the curves, the latest step,
 * per-category validation accuracy and the latest rollouts. All text from the run (model
 * responses, ids, categories) is written with `textContent` or SVG text nodes, never as HTML.
 *
 * @module
 */
import { chartModel, metricAt } from "./chart.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_WIDTH = 420;
const CHART_HEIGHT = 200;
const ROLLOUT_SIZE = 320;

const body = document.body;
const pollMs = Number(body.dataset.pollMs) || 1000;
const gtColour = body.dataset.gtColour ?? "green";
const predColour = body.dataset.predColour ?? "orange";

/** Everything received so far. */
const state = {
  cursor: { offset: 0, line: 1 },
  /** @type {Array<Record<string, unknown> & { kind: string, step: number }>} */
  rows: [],
  /** @type {Array<{ id: string, title: string, yTitle: string, series: Array<{ label: string, kind: "train" | "val", path: string }> }>} */
  plots: [],
  rolloutStep: /** @type {number | null} */ (null),
  problems: /** @type {string[]} */ ([]),
};

/**
 * An element with attributes and children; strings become text nodes (never parsed as HTML).
 *
 * @param {string} tag
 * @param {Record<string, string | number>} [attributes]
 * @param {Array<Node | string>} [children]
 */
function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  element.append(...children);
  return element;
}

/**
 * An SVG element with attributes and children.
 *
 * @param {string} tag
 * @param {Record<string, string | number>} [attributes]
 * @param {Array<Node | string>} [children]
 */
function s(tag, attributes = {}, children = []) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  element.append(...children);
  return element;
}

/** @param {number} x */
const fmt = (x) =>
  Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3);

/** @param {string} url */
async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  const value = await response.json();
  if (!response.ok) throw new Error(value.error ?? `${url}: HTTP ${response.status}`);
  return value;
}

/** Draws one curve plot into its figure, replacing the previous drawing. */
function drawChart(plot) {
  const model = chartModel(plot, state.rows, CHART_WIDTH, CHART_HEIGHT);
  const { left, top, right, bottom } = model.plot;
  const svg = s("svg", {
    width: model.width,
    height: model.height,
    viewBox: `0 0 ${model.width} ${model.height}`,
    "data-plot": plot.id,
  });
  svg.append(
    s("rect", {
      x: left,
      y: top,
      width: right - left,
      height: bottom - top,
      fill: "white",
      stroke: "#ccc",
    }),
  );
  for (const tick of model.yTicks) {
    svg.append(
      s("line", { x1: left, x2: right, y1: tick.at, y2: tick.at, stroke: "#eee" }),
      s("text", { x: left - 4, y: tick.at + 3, "text-anchor": "end" }, [fmt(tick.value)]),
    );
  }
  for (const tick of model.xTicks) {
    svg.append(
      s("text", { x: tick.at, y: bottom + 14, "text-anchor": "middle" }, [String(tick.value)]),
    );
  }
  svg.append(
    s("text", { x: (left + right) / 2, y: model.height - 2, "text-anchor": "middle" }, ["step"]),
    s("text", {
      x: 10,
      y: (top + bottom) / 2,
      transform: `rotate(-90 10 ${(top + bottom) / 2})`,
      "text-anchor": "middle",
    }, [plot.yTitle]),
  );
  for (const line of model.lines) {
    const points = line.points.map(([x, y]) => `${x},${y}`).join(" ");
    svg.append(s("polyline", {
      points,
      fill: "none",
      stroke: line.colour,
      "stroke-width": 1.6,
      "data-series": line.label,
      "data-points": line.points.length,
    }));
    if (line.points.length <= 60) {
      for (const [x, y] of line.points) {
        svg.append(s("circle", { cx: x, cy: y, r: 2, fill: line.colour }));
      }
    }
  }
  const figure = document.getElementById(`chart-${plot.id}`);
  figure?.querySelector("svg")?.replaceWith(svg);
}

function createCharts() {
  const container = document.getElementById("charts");
  container.replaceChildren(...state.plots.map((plot) => {
    const legend = h(
      "div",
      { class: "legend" },
      plot.series.map((series, i) => {
        const colour = chartModel(plot, [], 1, 1).lines[i].colour;
        return h("span", { style: `color:${colour}` }, [`■ ${series.label}`]);
      }),
    );
    return h("figure", { class: "chart", id: `chart-${plot.id}` }, [
      h("h3", {}, [plot.title]),
      s("svg"),
      legend,
    ]);
  }));
}

function drawLatest() {
  const train = state.rows.findLast((r) => r.kind === "train");
  const latest = document.getElementById("latest");
  if (train === undefined) {
    latest.replaceChildren(h("p", {}, ["No training step yet."]));
    return;
  }
  const entries = [
    ["step", "step"],
    ["reward (overall)", "reward.overall"],
    ["accuracy", "accuracy"],
    ["format rate", "formatRate"],
    ["KL", "kl"],
    ["entropy", "entropy"],
    ["response length", "responseLength"],
    ["tokens / s", "tokensPerSecond"],
  ];
  latest.replaceChildren(h("table", { id: "latest-table" }, [
    h("tr", {}, entries.map(([label]) => h("th", {}, [label]))),
    h("tr", {}, entries.map(([, path]) => h("td", {}, [fmt(metricAt(train, path) ?? NaN)]))),
  ]));
}

function drawCategories() {
  const val = state.rows.findLast((r) => r.kind === "val");
  if (val === undefined) return;
  const categories = Object.entries(
    /** @type {Record<string, {accuracy: number, count: number}>} */ (val.perCategory),
  );
  document.getElementById("categories").replaceChildren(
    h("p", {}, [
      `Validation at step ${val.step}: accuracy ${fmt(/** @type {number} */ (val.accuracy))}`,
    ]),
    h("table", { id: "category-table" }, [
      h("tr", {}, [
        h("th", {}, ["category"]),
        h("th", {}, ["n"]),
        h("th", {}, ["accuracy"]),
        h("th", {}, [""]),
      ]),
      ...categories.map(([category, c]) =>
        h("tr", {}, [
          h("td", {}, [category]),
          h("td", {}, [String(c.count)]),
          h("td", {}, [fmt(c.accuracy)]),
          h("td", { style: "width:160px" }, [
            h("div", { class: "bar", style: `width:${Math.round(c.accuracy * 100)}%` }),
          ]),
        ])
      ),
    ]),
  );
}

/** Box rectangles and id labels for one set of objects, in image pixels scaled by `scale`. */
function boxes(objects, colour, dashed, labelBelow, scale) {
  return objects.flatMap((o) => {
    const [x1, y1, x2, y2] = o.bbox;
    const x = Math.min(x1, x2) * scale, y = Math.min(y1, y2) * scale;
    const w = Math.abs(x2 - x1) * scale, hgt = Math.abs(y2 - y1) * scale;
    return [
      s("rect", {
        x,
        y,
        width: w,
        height: hgt,
        fill: "none",
        stroke: colour,
        "stroke-width": 2.5,
        ...(dashed ? { "stroke-dasharray": "6 3" } : {}),
      }),
      s("text", { x: x + 2, y: labelBelow ? y + hgt + 13 : Math.max(y - 4, 11), fill: colour }, [
        o.id,
      ]),
    ];
  });
}

function rolloutCard(sample) {
  const scale = ROLLOUT_SIZE / Math.max(sample.image.width, sample.image.height);
  const width = Math.round(sample.image.width * scale);
  const height = Math.round(sample.image.height * scale);
  const overlay = s("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    overflow: "visible",
  }, [
    ...boxes(sample.groundTruth.objects, gtColour, false, false, scale),
    ...boxes(sample.predicted?.objects ?? [], predColour, true, true, scale),
  ]);
  const image = h("img", { width, height, alt: "rollout image" });
  image.src = `/files/${sample.image.path.split("/").map(encodeURIComponent).join("/")}`;
  const r = sample.reward;
  const breakdown = h("table", { class: "reward" }, [
    h(
      "tr",
      {},
      ["overall", "format", "count", "accuracy", "spatial", "advantage"].map((k) =>
        h("th", {}, [k])
      ),
    ),
    h(
      "tr",
      {},
      [r.overall, r.format, r.count, r.accuracy, r.spatial, sample.advantage].map((v) =>
        h("td", {}, [fmt(v)])
      ),
    ),
  ]);
  return h("article", { class: "rollout" }, [
    h("div", { class: "frame", style: `width:${width}px;height:${height}px` }, [image, overlay]),
    h("div", {}, [
      h("h3", {}, [`${sample.promptId} · sample ${sample.sampleIndex} · ${sample.category}`]),
      h("p", {}, [sample.question]),
      h("p", {}, ["ground truth: ", h("b", {}, [sample.groundTruthAnswer])]),
      ...(sample.parseFailure === null
        ? []
        : [h("p", { class: "failure" }, [`parse failure: ${sample.parseFailure}`])]),
      breakdown,
      h("pre", { class: "response" }, [sample.response]),
    ]),
  ]);
}

async function refreshRollouts() {
  const latest = await getJson("/api/rollouts/latest");
  if (latest.step === null || latest.step === state.rolloutStep) return;
  state.rolloutStep = latest.step;
  document.getElementById("rollouts").replaceChildren(
    h("p", {}, [`Step ${latest.step}`]),
    ...latest.samples.map(rolloutCard),
  );
}

async function refreshMetrics() {
  const { offset, line } = state.cursor;
  const tail = await getJson(`/api/metrics?offset=${offset}&line=${line}`);
  if (tail.restarted) state.rows = [];
  state.cursor = tail.next;
  state.problems = [...state.problems, ...tail.problems].slice(-5);
  if (tail.rows.length === 0 && !tail.restarted) return;
  state.rows.push(...tail.rows);
  for (const plot of state.plots) drawChart(plot);
  drawLatest();
  drawCategories();
}

async function poll() {
  const status = document.getElementById("status");
  try {
    await refreshMetrics();
    await refreshRollouts();
    status.textContent = `${state.rows.length} metrics rows · updated ${
      new Date().toLocaleTimeString()
    }`;
  } catch (error) {
    status.textContent = `update failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  document.getElementById("problems").replaceChildren(
    ...state.problems.map((p) => h("div", {}, [p])),
  );
  setTimeout(poll, pollMs);
}

async function start() {
  state.plots = await getJson("/api/plots");
  createCharts();
  for (const plot of state.plots) drawChart(plot);
  try {
    const config = await getJson("/api/config");
    document.getElementById("run-name").textContent = `Run: ${config.name ?? "(unnamed)"}`;
    document.title = `${config.name ?? "run"} · SpatialThinker`;
  } catch {
    document.getElementById("run-name").textContent = "Run (no config.json yet)";
  }
  await poll();
}

start();
