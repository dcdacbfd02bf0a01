import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveInsideRun, runRelativeSegments } from "../../src/report/safe_path.ts";
import { copyFixtureRun } from "./fixture.ts";

Deno.test("runRelativeSegments refuses paths that could leave the run folder", () => {
  for (
    const bad of [
      "",
      "../config.json",
      "rollouts/../../etc/passwd",
      "/etc/passwd",
      "C:/x.png",
      "rollouts\\images\\a.png",
      "rollouts//a.png",
      "./config.json",
      "a\u0000.png",
    ]
  ) {
    assert.equal(runRelativeSegments(bad), undefined, JSON.stringify(bad));
  }
  assert.deepEqual(runRelativeSegments("rollouts/images/a.png"), ["rollouts", "images", "a.png"]);
});

Deno.test("resolveInsideRun follows symlinks inside the run folder but not out of it", async () => {
  await using run = await copyFixtureRun();
  const outside = join(run.root, "..", "secret.txt");
  await Deno.writeTextFile(outside, "secret");
  await Deno.symlink(outside, join(run.root, "escape.txt"));
  await Deno.symlink(join(run.root, "rollouts"), join(run.root, "inner"));
  assert.equal(await resolveInsideRun(run.root, "escape.txt"), undefined);
  assert.equal(await resolveInsideRun(run.root, "../secret.txt"), undefined);
  assert.equal(await resolveInsideRun(run.root, "missing.png"), undefined);
  assert.equal(await resolveInsideRun(run.root, "config.json/x"), undefined);
  const inner = await resolveInsideRun(run.root, "inner/images/scene-0001.png");
  assert.equal(inner, await Deno.realPath(join(run.root, "rollouts/images/scene-0001.png")));
});
