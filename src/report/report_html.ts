/**
 * The static `runs/<name>/report.html` as a pure function of what was read and rendered: run
 * settings, the latest numbers, every curve (SVG with a PNG link), per-category validation
 * accuracy and sampled rollouts with their box overlays, reward breakdown and escaped response.
 * A Content-Security-Policy forbids scripts, so even unescaped text could not run.
 *
 * @module
 */
import { escapeMarkup as e } from "./escape.ts";
import type { MetricsRow, TrainMetrics, ValMetrics } from "./metrics.ts";
import { BOX_COLOURS } from "./overlay.ts";
import type { RolloutSample } from "./rollouts.ts";

/** A rendered curve: its title and the report-relative paths of its SVG and PNG files. */
export interface ReportFigure {
  readonly title: string;
  readonly svg: string;
  readonly png: string;
}

/** A sampled rollout with the report-relative path of its overlay PNG. */
export interface ReportRollout {
  readonly sample: RolloutSample;
  readonly overlayPng: string;
}

/** Everything `report.html` shows. */
export interface ReportContent {
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly rows: ReadonlyArray<MetricsRow>;
  readonly figures: ReadonlyArray<ReportFigure>;
  readonly categoryFigure: ReportFigure | undefined;
  readonly rollouts: ReadonlyArray<{ step: number; samples: ReadonlyArray<ReportRollout> }>;
  /** Problems met while building the report (e.g. a missing rollout image). */
  readonly warnings: ReadonlyArray<string>;
  /** ISO time the report was generated. */
  readonly generatedAt: string;
}

const fmt = (x: number): string =>
  Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3);

const table = (rows: ReadonlyArray<readonly [string, string]>): string =>
  `<table>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join("")}</table>`;

const latestSummary = (train: TrainMetrics | undefined, val: ValMetrics | undefined): string => {
  if (train === undefined) return "<p>No training steps recorded yet.</p>";
  const rows: Array<readonly [string, string]> = [
    ["step", String(train.step)],
    ["reward (overall)", fmt(train.reward.overall)],
    ["accuracy (train)", fmt(train.accuracy)],
    ["format rate", fmt(train.formatRate)],
    ["KL", fmt(train.kl)],
    ["entropy", fmt(train.entropy)],
    ["response length", fmt(train.responseLength)],
    ["tokens / s", fmt(train.tokensPerSecond)],
  ];
  if (val !== undefined) rows.push([`accuracy (val, step ${val.step})`, fmt(val.accuracy)]);
  return table(rows);
};

const configTable = (config: Readonly<Record<string, unknown>>): string =>
  table(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );

const figureHtml = (f: ReportFigure): string =>
  `<figure><img src="${e(f.svg)}" alt="${e(f.title)}"><figcaption>${e(f.title)} · ` +
  `<a href="${e(f.svg)}">SVG</a> · <a href="${e(f.png)}">PNG</a></figcaption></figure>`;

const rolloutHtml = ({ sample: s, overlayPng }: ReportRollout): string => {
  const r = s.reward;
  const breakdown = table([
    ["overall", fmt(r.overall)],
    ["format", fmt(r.format)],
    ["count", fmt(r.count)],
    ["accuracy", fmt(r.accuracy)],
    ["spatial", fmt(r.spatial)],
    ["advantage", fmt(s.advantage)],
  ]);
  const failure = s.parseFailure === null
    ? ""
    : `<p class="failure">parse failure: ${e(s.parseFailure)}</p>`;
  return `<article class="rollout"><img src="${e(overlayPng)}" alt="rollout image with boxes">` +
    `<div><h4>${e(s.promptId)} · sample ${s.sampleIndex} · ${e(s.category)}</h4>` +
    `<p>${e(s.question)}</p><p>ground truth: <b>${e(s.groundTruthAnswer)}</b></p>${failure}` +
    `${breakdown}<pre>${e(s.response)}</pre></div></article>`;
};

const STYLE = `body{font-family:"DejaVu Sans",sans-serif;margin:2rem;color:#222;max-width:1200px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:1rem}
figure{margin:0}figure img{width:100%;height:auto}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}
th{background:#f4f4f4;font-weight:normal}.rollout{display:flex;gap:1rem;margin:1rem 0;border-top:1px solid #ddd;padding-top:1rem}
.rollout img{width:384px;height:auto;flex:none}pre{white-space:pre-wrap;background:#f8f8f8;padding:.5rem;max-width:700px}
.failure{color:#b2182b}.warning{color:#b35806}.legend span{font-weight:bold}`;

/**
 * The complete `report.html` document. Every string from the run folder is escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportHtml } from "./report_html.ts";
 * const html = reportHtml({
 *   name: "<run>", config: {}, rows: [], figures: [], categoryFigure: undefined,
 *   rollouts: [], warnings: [], generatedAt: "2026-11-25T00:00:00Z",
 * });
 * assert(html.includes("&lt;run&gt;") && !html.includes("<run>"));
 * ```
 */
export const reportHtml = (c: ReportContent): string => {
  const train = c.rows.filter((r): r is TrainMetrics => r.kind === "train").at(-1);
  const val = c.rows.filter((r): r is ValMetrics => r.kind === "val").at(-1);
  const warnings = c.warnings.map((w) => `<p class="warning">${e(w)}</p>`).join("");
  const rollouts = c.rollouts.map(({ step, samples }) =>
    `<h3>Step ${step}</h3>${samples.map(rolloutHtml).join("")}`
  ).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'">
<title>Run report: ${e(c.name)}</title><style>${STYLE}</style></head><body>
<h1>Run report: ${e(c.name)}</h1>
<p>Generated ${e(c.generatedAt)} from ${c.rows.length} metrics rows.</p>${warnings}
<h2>Latest</h2>${latestSummary(train, val)}
<h2>Curves</h2><div class="figures">${c.figures.map(figureHtml).join("")}</div>
<h2>Validation accuracy per category</h2>${
    c.categoryFigure === undefined
      ? "<p>No validation pass recorded yet.</p>"
      : figureHtml(c.categoryFigure)
  }
<h2>Sampled rollouts</h2>
<p class="legend"><span style="color:${BOX_COLOURS.groundTruth}">ground truth (solid)</span> · <span style="color:${BOX_COLOURS.predicted}">predicted (dashed)</span></p>
${rollouts.length > 0 ? rollouts : "<p>No rollout samples recorded yet.</p>"}
<h2>Settings</h2>${configTable(c.config)}
</body></html>
`;
};
