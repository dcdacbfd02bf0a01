/**
 * The dashboard's HTML shell. It holds no run data: the page script (`app.js`) fetches
 * everything from the JSON API and writes model text with `textContent` only.
 *
 * @module
 */
import { BOX_COLOURS } from "../overlay.ts";

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
#status { color: #666; font-size: .85rem; } #problems { color: #b2182b; font-size: .85rem; }
#charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.chart { background: white; border: 1px solid #ddd; padding: .5rem; }
.chart h3 { font-size: .9rem; margin: 0 0 .25rem; } .chart svg text { font-size: 10px; fill: #444; }
.legend { font-size: .75rem; } .legend span { margin-right: .75rem; }
table { border-collapse: collapse; background: white; } th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; font-size: .85rem; }
.bar { height: .7rem; background: #4c78a8; }
.rollout { display: flex; gap: 1rem; background: white; border: 1px solid #ddd; padding: .75rem; margin-bottom: 1rem; }
.frame { position: relative; flex: none; } .frame img, .frame svg { position: absolute; left: 0; top: 0; }
.frame svg text { font-size: 12px; font-weight: bold; paint-order: stroke; stroke: white; stroke-width: 3px; }
pre { white-space: pre-wrap; max-width: 720px; background: #f4f4f4; padding: .5rem; margin: .5rem 0; }
.failure { color: #b2182b; }`;

/**
 * The dashboard page. `pollMs` is how often it asks for new metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dashboardPage } from "./page.ts";
 * assert(dashboardPage(1000).includes('data-poll-ms="1000"'));
 * ```
 */
export const dashboardPage = (pollMs: number): string =>
  `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>SpatialThinker run</title>
<style>${STYLE}</style>
<script type="module" src="/app.js"></script></head>
<body data-poll-ms="${
    Math.round(pollMs)
  }" data-gt-colour="${BOX_COLOURS.groundTruth}" data-pred-colour="${BOX_COLOURS.predicted}">
<h1 id="run-name">Run</h1>
<div id="status">connecting…</div><div id="problems"></div>
<h2>Latest step</h2><div id="latest"></div>
<h2>Curves</h2><div id="charts"></div>
<h2>Validation accuracy per category</h2><div id="categories"><p>No validation pass yet.</p></div>
<h2>Latest rollouts</h2>
<p class="legend"><span style="color:${BOX_COLOURS.groundTruth}">■ ground truth</span><span style="color:${BOX_COLOURS.predicted}">■ predicted</span></p>
<div id="rollouts"><p>No rollout samples yet.</p></div>
</body></html>
`;
