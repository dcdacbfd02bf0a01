import assert from "node:assert/strict";
import { Effect } from "effect";
import { Base64 } from "effect/encoding";
import { join } from "node:path";
import { BOX_COLOURS, OVERLAY_SIZE, rolloutOverlaySvg } from "../../src/report/overlay.ts";
import { rasterise } from "../../src/report/plots.ts";
import { readRollouts, runPaths } from "../../src/report/run_folder.ts";
import { FIXTURE_RUN } from "./fixture.ts";
import { decodePng, hexRgb } from "./png.ts";

const [sample] = await Effect.runPromise(readRollouts(runPaths(FIXTURE_RUN).rollouts, 10));
const imageUri = `data:image/png;base64,${
  Base64.encode(await Deno.readFile(join(FIXTURE_RUN, sample!.image.path)))
}`;

const near = (a: readonly number[], b: readonly number[], tolerance = 40) =>
  a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

Deno.test("a rollout overlay draws ground-truth and predicted box edges in their colours over the image", async () => {
  const png = decodePng(
    await Effect.runPromise(rasterise(rolloutOverlaySvg(sample!, imageUri), 1)),
  );
  const scale = OVERLAY_SIZE / 64;
  assert.equal(png.width, OVERLAY_SIZE);
  assert.equal(png.height, 48 * scale);
  // Ground truth cube.1 is [8, 20, 24, 36]: its left edge at x = 8 (mid-height y = 28).
  const gtEdge = png.rgb(Math.round(8 * scale), Math.round(28 * scale));
  assert.ok(near(gtEdge, hexRgb(BOX_COLOURS.groundTruth)), `gt edge ${gtEdge}`);
  // Predicted ball.1 is [38, 13, 55, 29]: its top edge at y = 13, inside the first dash.
  const predictedEdge = png.rgb(Math.round(38 * scale) + 3, Math.round(13 * scale));
  assert.ok(near(predictedEdge, hexRgb(BOX_COLOURS.predicted)), `predicted edge ${predictedEdge}`);
  // Inside the cube, away from edges and labels, the image shows through (red cube).
  const inside = png.rgb(Math.round(16 * scale), Math.round(30 * scale));
  assert.ok(near(inside, [200, 40, 40]), `image pixel ${inside}`);
});

Deno.test("a rollout overlay escapes predicted ids, which are model text", () => {
  const hostile = {
    ...sample!,
    predicted: {
      objects: [{ id: '<script>alert("x")</script>', bbox: [0, 0, 5, 5] as const }],
      relationships: [],
    },
  };
  const svg = rolloutOverlaySvg(hostile, imageUri);
  assert.ok(!svg.includes("<script>"));
  assert.ok(svg.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
});

Deno.test("a rollout overlay keeps absurd predicted boxes next to the image", () => {
  const wild = {
    ...sample!,
    predicted: { objects: [{ id: "x.1", bbox: [-1e9, 5, 1e12, 1] as const }], relationships: [] },
  };
  const rect =
    /<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*stroke-dasharray/
      .exec(rolloutOverlaySvg(wild, imageUri));
  assert.ok(rect);
  const scale = OVERLAY_SIZE / 64;
  assert.deepEqual(rect.slice(1).map(Number), [-1 * scale, 1 * scale, 66 * scale, 4 * scale]);
});
