import assert from "node:assert/strict";
import { Effect } from "effect";
import { curvePlots } from "../../src/report/curves.ts";
import { isValRow } from "../../src/report/metrics.ts";
import { categorySpec, curveSpec, rasterise, renderSvg } from "../../src/report/plots.ts";
import { readMetrics, runPaths } from "../../src/report/run_folder.ts";
import { FIXTURE_RUN } from "./fixture.ts";
import { decodePng } from "./png.ts";

const rows = await Effect.runPromise(readMetrics(runPaths(FIXTURE_RUN).metrics));

const svgSize = (svg: string) => {
  const match = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
  assert.ok(match, "SVG root with a width and height");
  return { width: Number(match[1]), height: Number(match[2]) };
};

Deno.test("the reward curve renders to an SVG with one line per reward component", async () => {
  const reward = curvePlots.find((p) => p.id === "reward")!;
  const svg = await Effect.runPromise(renderSvg(curveSpec(reward, rows)));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.ok(svg.includes("Reward components"));
  const lines = svg.match(/<path[^>]*aria-roledescription="line mark"/g) ?? [];
  assert.equal(lines.length, 5);
  for (const label of ["overall", "format", "count", "accuracy (exact)", "spatial"]) {
    assert.ok(svg.includes(`>${label}</text>`), `legend entry ${label}`);
  }
});

Deno.test("a rendered curve rasterises to a valid PNG at twice its SVG size with ink on it", async () => {
  const kl = curvePlots.find((p) => p.id === "kl")!;
  const svg = await Effect.runPromise(renderSvg(curveSpec(kl, rows)));
  const png = decodePng(await Effect.runPromise(rasterise(svg)));
  const size = svgSize(svg);
  assert.equal(png.width, size.width * 2);
  assert.equal(png.height, size.height * 2);
  let dark = 0;
  for (let y = 0; y < png.height; y += 2) {
    for (let x = 0; x < png.width; x += 2) if (png.rgb(x, y)[0] < 100) dark++;
  }
  assert.ok(dark > 500, `text and lines drawn (${dark} dark pixels)`);
});

Deno.test("the per-category chart has one bar per category of the last validation row", async () => {
  const last = rows.filter(isValRow).at(-1)!;
  const svg = await Effect.runPromise(renderSvg(categorySpec(last)));
  const bars = svg.match(/aria-roledescription="bar"/g) ?? [];
  assert.equal(bars.length, Object.keys(last.perCategory).length);
  assert.ok(svg.includes("relation (n=10)"));
});

Deno.test("rasterise fails with RenderFailed on text that is not SVG", async () => {
  const exit = await Effect.runPromiseExit(rasterise("<html>not svg</html>"));
  assert.equal(exit._tag, "Failure");
  assert.match(String(exit), /RenderFailed/);
});
