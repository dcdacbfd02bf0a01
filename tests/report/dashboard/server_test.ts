import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDashboardHandler, startDashboard } from "../../../src/report/dashboard/server.ts";
import { copyFixtureRun, FIXTURE_RUN, trainRow } from "../fixture.ts";

const handler = await makeDashboardHandler(FIXTURE_RUN);
const get = (path: string, init?: RequestInit) =>
  handler(new Request(`http://127.0.0.1:8787${path}`, init));

Deno.test("the dashboard page is served with a script-only-from-self content security policy", async () => {
  const response = await get("/");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-security-policy")!, /script-src 'self'/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.match(await response.text(), /<script type="module" src="\/app.js">/);
  const script = await get("/chart.js");
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await script.text(), /export function chartModel/);
});

Deno.test("the metrics API tails metrics.jsonl by byte offset", async () => {
  await using run = await copyFixtureRun();
  const tailing = await makeDashboardHandler(run.root);
  const metrics = async (query: string) =>
    await (await tailing(new Request(`http://127.0.0.1/api/metrics${query}`))).json();
  const first = await metrics("");
  assert.equal(first.rows.length, 14);
  const none = await metrics(`?offset=${first.next.offset}&line=${first.next.line}`);
  assert.deepEqual(none.rows, []);
  await Deno.writeTextFile(join(run.root, "metrics.jsonl"), JSON.stringify(trainRow(13)) + "\n{", {
    append: true,
  });
  const more = await metrics(`?offset=${first.next.offset}&line=${first.next.line}`);
  assert.deepEqual(more.rows.map((r: { step: number }) => r.step), [13]);
  assert.deepEqual(more.problems, []);
  const bad = await tailing(new Request("http://127.0.0.1/api/metrics?offset=-5"));
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("the rollouts API returns the latest rollout file, or none", async () => {
  const latest = await (await get("/api/rollouts/latest")).json();
  assert.equal(latest.step, 10);
  assert.equal(latest.samples.length, 2);
  await using run = await copyFixtureRun();
  await Deno.remove(join(run.root, "rollouts"), { recursive: true });
  const empty = await makeDashboardHandler(run.root);
  const none = await (await empty(new Request("http://127.0.0.1/api/rollouts/latest"))).json();
  assert.deepEqual(none, { step: null, samples: [] });
});

Deno.test("the files route serves run images and nothing outside the run folder", async () => {
  await using run = await copyFixtureRun();
  await Deno.writeTextFile(join(run.root, "..", "secret.png"), "secret");
  await Deno.symlink(join(run.root, "..", "secret.png"), join(run.root, "link.png"));
  const files = await makeDashboardHandler(run.root);
  const status = async (path: string) => {
    const response = await files(new Request(`http://127.0.0.1${path}`));
    await response.body?.cancel();
    return response.status;
  };
  const image = await files(new Request("http://127.0.0.1/files/rollouts/images/scene-0001.png"));
  assert.equal(image.headers.get("content-type"), "image/png");
  assert.deepEqual(
    new Uint8Array(await image.arrayBuffer()),
    await Deno.readFile(join(run.root, "rollouts/images/scene-0001.png")),
  );
  for (
    const path of [
      "/files/%2e%2e/secret.png",
      "/files/..%2fsecret.png",
      "/files/%2Fetc%2Fpasswd",
      "/files/link.png",
      "/files/config.json",
      "/files/rollouts/step-000010.jsonl",
      "/files/rollouts/images/missing.png",
      "/files/%E0%A4%A",
    ]
  ) {
    assert.ok([400, 404].includes(await status(path)), path);
  }
});

Deno.test("the dashboard is read-only and answers only to loopback host names", async () => {
  const post = await get("/api/metrics", { method: "POST", body: "{}" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
  const rebound = await handler(new Request("http://attacker.example:8787/api/config"));
  assert.equal(rebound.status, 403);
  await rebound.body?.cancel();
  const local = await handler(new Request("http://localhost:8787/api/config"));
  assert.equal((await local.json()).name, "fixture");
});

Deno.test("startDashboard listens on 127.0.0.1 by default and stops when its signal aborts", async () => {
  const stop = new AbortController();
  const server = await startDashboard({ root: FIXTURE_RUN, port: 0, signal: stop.signal });
  try {
    const addr = server.addr as Deno.NetAddr;
    assert.equal(addr.hostname, "127.0.0.1");
    const response = await fetch(`http://127.0.0.1:${addr.port}/api/config`);
    assert.equal((await response.json()).seed, 7);
  } finally {
    stop.abort();
    await server.finished;
  }
});
