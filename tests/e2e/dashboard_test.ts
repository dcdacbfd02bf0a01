/**
 * End-to-end test of the live dashboard in a real browser: Debian's chromium driven by
 * playwright-core (never a downloaded browser). Skipped, with a message, where
 * /usr/bin/chromium is absent; CI installs it with `apt-get install -y chromium`.
 */
import assert from "node:assert/strict";
import { Effect } from "effect";
import { join } from "node:path";
import { startDashboard } from "../../src/report/dashboard/server.ts";
import { MetricsSink } from "../../src/report/sink.ts";
import { copyFixtureRun, trainRow } from "../report/fixture.ts";
import { decodePng } from "../report/png.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(
    `e2e: SKIPPING the dashboard browser test: ${CHROMIUM} is absent ` +
      "(install it with `apt-get update && apt-get install -y chromium`)",
  );
}

const REWARD_LINE = '#chart-reward polyline[data-series="overall"]';

/** The few DOM members the page-side conditions use (Deno's type libs have no DOM). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    querySelectorAll(selector: string): Iterable<{ complete: boolean; naturalWidth: number }>;
  };
}

/** Runs in the page: the reward curve has at least `n` points. */
const pointsAtLeast = ([selector, n]: readonly [string, number]): boolean =>
  Number(
    (globalThis as unknown as PageGlobals).document.querySelector(selector)?.getAttribute(
      "data-points",
    ),
  ) >= n;

/** Runs in the page: every rollout image has loaded. */
const imagesLoaded = (): boolean =>
  [...(globalThis as unknown as PageGlobals).document.querySelectorAll(".frame img")].every((i) =>
    i.complete && i.naturalWidth > 0
  );

Deno.test({
  name:
    "the dashboard draws the run, gains curve points as metrics are appended, and escapes model text",
  ignore: !hasChromium,
  fn: async () => {
    // Loaded here so that machines without chromium never load playwright at all.
    const { chromium } = await import("playwright-core");
    await using run = await copyFixtureRun();
    const shots = await Deno.makeTempDir({ prefix: "dashboard-shots-" });
    const stop = new AbortController();
    const server = await startDashboard({
      root: run.root,
      port: 0,
      pollMs: 200,
      signal: stop.signal,
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const dialogs: Array<string> = [];
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(`http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`);

      const points = async () => Number(await page.getAttribute(REWARD_LINE, "data-points"));
      await page.waitForFunction(pointsAtLeast, [REWARD_LINE, 1] as const);
      const before = await points();
      assert.equal(before, 12, "the fixture's 12 train rows are drawn");
      assert.equal(await page.textContent("#run-name"), "Run: fixture");
      await page.waitForSelector("#category-table");
      assert.equal(await page.locator("#category-table tr").count(), 4, "header + 3 categories");

      // The trainer appends: half a line first (as a crashed or slow writer would leave it),
      // then the rest and two more rows through the real sink.
      const metrics = join(run.root, "metrics.jsonl");
      const half = JSON.stringify(trainRow(13, 0.9));
      await Deno.writeTextFile(metrics, half.slice(0, 40), { append: true });
      await Deno.writeTextFile(metrics, `${half.slice(40)}\n`, { append: true });
      await Effect.runPromise(
        Effect.gen(function* () {
          const sink = yield* MetricsSink;
          yield* sink.append(trainRow(14, 0.92));
          yield* sink.append(trainRow(15, 0.95));
        }).pipe(Effect.provide(MetricsSink.layer(run.root))),
      );
      await page.waitForFunction(pointsAtLeast, [REWARD_LINE, before + 3] as const, {
        timeout: 15_000,
      });
      assert.equal(await points(), 15);
      assert.equal(await page.textContent("#latest-table td"), "15", "latest step shown");

      // Rollouts: the image loads from the run folder, boxes and ids are drawn, and the hostile
      // response is shown as text (no alert dialog, no extra script element).
      await page.waitForSelector(".rollout .response");
      const responses = await page.locator(".rollout .response").allTextContents();
      assert.ok(responses.some((r) => r.includes('<script>alert("x")</script>')));
      assert.equal(await page.locator("script").count(), 1);
      await page.waitForFunction(imagesLoaded);
      assert.ok((await page.locator(".frame svg text").allTextContents()).includes("cube.1"));
      assert.deepEqual(dialogs, []);

      const shot = join(shots, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      const png = decodePng(await Deno.readFile(shot));
      assert.equal(png.width, 1280);
    } finally {
      await browser.close();
      stop.abort();
      await server.finished;
      await Deno.remove(shots, { recursive: true });
    }
  },
});
