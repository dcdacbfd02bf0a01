import assert from "node:assert/strict";
import { Effect, Exit } from "effect";
import { join } from "node:path";
import { curvePlots } from "../../src/report/curves.ts";
import { writeReport } from "../../src/report/report.ts";
import { runPaths } from "../../src/report/run_folder.ts";
import { copyFixtureRun } from "./fixture.ts";
import { decodePng } from "./png.ts";

Deno.test("writeReport renders every curve as SVG and PNG, the rollouts, and an escaped report.html", async () => {
  await using run = await copyFixtureRun();
  const written = await Effect.runPromise(writeReport(run.root));
  assert.deepEqual(written.warnings, []);
  const html = await Deno.readTextFile(written.html);
  for (const plot of curvePlots) {
    const svg = await Deno.readTextFile(join(run.root, "report", `${plot.id}.svg`));
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), plot.id);
    decodePng(await Deno.readFile(join(run.root, "report", `${plot.id}.png`)));
    assert.ok(html.includes(`src="report/${plot.id}.svg"`), plot.id);
  }
  decodePng(await Deno.readFile(join(run.root, "report", "val-categories.png")));
  const overlays = written.files.filter((f) => f.includes(join("report", "rollouts")));
  assert.equal(overlays.length, 2);
  for (const file of overlays) decodePng(await Deno.readFile(file));
  // The second fixture rollout's response carries a script tag: escaped, never live.
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  assert.ok(!html.includes('<script>alert("x")'));
  assert.ok(html.includes("parse failure: missing &lt;scene&gt; block"));
  assert.ok(html.includes("maxResponseTokens"), "settings beyond the contract are listed");
});

Deno.test("writeReport stops at a corrupt metrics line, naming it, and keeps the previous report", async () => {
  await using run = await copyFixtureRun();
  const { metrics, reportHtml } = runPaths(run.root);
  await Effect.runPromise(writeReport(run.root));
  const before = await Deno.readTextFile(reportHtml);
  await Deno.writeTextFile(metrics, '{"kind":"train","step":-1}\n', { append: true });
  const exit = await Effect.runPromiseExit(writeReport(run.root));
  assert.ok(Exit.isFailure(exit));
  assert.match(String(exit), new RegExp(`metrics\\.jsonl:15`));
  assert.equal(await Deno.readTextFile(reportHtml), before);
});

Deno.test("writeReport draws boxes on a blank image and warns when a rollout image is missing", async () => {
  await using run = await copyFixtureRun();
  await Deno.remove(join(run.root, "rollouts", "images", "scene-0001.png"));
  const written = await Effect.runPromise(writeReport(run.root));
  assert.equal(written.warnings.length, 2);
  assert.match(written.warnings[0]!, /scene-0001\.png is missing/);
  assert.ok((await Deno.readTextFile(written.html)).includes("scene-0001.png is missing"));
});

Deno.test("writeReport of a run that has not logged anything yet says so instead of failing", async () => {
  await using run = await copyFixtureRun();
  await Deno.writeTextFile(join(run.root, "metrics.jsonl"), "");
  await Deno.remove(join(run.root, "rollouts"), { recursive: true });
  const written = await Effect.runPromise(writeReport(run.root));
  const html = await Deno.readTextFile(written.html);
  assert.ok(html.includes("No training steps recorded yet."));
  assert.ok(html.includes("No validation pass recorded yet."));
  assert.ok(html.includes("No rollout samples recorded yet."));
  decodePng(await Deno.readFile(join(run.root, "report", "reward.png")));
});
