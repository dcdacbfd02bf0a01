/**
 * The live dashboard server: a read-only HTTP view of one run folder. It serves the page and its
 * two scripts, a JSON API over the run's files (metrics tailed by byte offset, the latest rollout
 * file, config) and the run's images. Nothing outside the run folder can be read: file paths go
 * through `resolveInsideRun`, and only image types are served. Binds to 127.0.0.1 by default
 * and, when bound to loopback, refuses requests whose Host is not loopback (DNS rebinding).
 *
 * @module
 */
import { Effect } from "effect";
import { extname } from "node:path";
import { curvePlots } from "../curves.ts";
import { type JsonlCursor } from "../jsonl.ts";
import {
  listRolloutSteps,
  readConfig,
  readMetricsTail,
  readRollouts,
  runPaths,
} from "../run_folder.ts";
import { resolveInsideRun } from "../safe_path.ts";
import { dashboardPage } from "./page.ts";

/** Where and how the dashboard serves a run. */
export interface DashboardOptions {
  /** The run folder, e.g. `runs/my-run`. */
  readonly root: string;
  /** Interface to bind; default `127.0.0.1` (local only). */
  readonly hostname?: string;
  /** Port; `0` picks a free one. Default 8787. */
  readonly port?: number;
  /** How often the page polls for new metrics, in milliseconds. Default 1000. */
  readonly pollMs?: number;
  /** Aborting it shuts the server down. */
  readonly signal?: AbortSignal;
}

/** Default port of `deno task serve`. */
export const DEFAULT_PORT = 8787;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; " +
    "img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const respond = (body: BodyInit | null, status: number, type: string): Response =>
  new Response(body, { status, headers: { ...SECURITY_HEADERS, "content-type": type } });

const json = (value: unknown, status = 200): Response =>
  respond(JSON.stringify(value), status, "application/json; charset=utf-8");

const problem = (status: number, message: string): Response => json({ error: message }, status);

const NON_NEGATIVE_INT = /^\d{1,15}$/;

/** The metrics cursor from `?offset=&line=`, or `undefined` when either is malformed. */
const cursorOf = (params: URLSearchParams): JsonlCursor | undefined => {
  const offset = params.get("offset") ?? "0";
  const line = params.get("line") ?? "1";
  if (!NON_NEGATIVE_INT.test(offset) || !NON_NEGATIVE_INT.test(line) || Number(line) < 1) {
    return undefined;
  }
  return { offset: Number(offset), line: Number(line) };
};

const clientScript = (name: string) => Deno.readTextFile(new URL(`./${name}`, import.meta.url));

/**
 * The request handler of the dashboard for the run folder `root` (usable without a socket, e.g.
 * in tests). `loopbackOnly` makes it refuse non-loopback Host headers.
 */
export const makeDashboardHandler = async (
  root: string,
  { pollMs = 1000, loopbackOnly = true }: { pollMs?: number; loopbackOnly?: boolean } = {},
): Promise<(request: Request) => Promise<Response>> => {
  const paths = runPaths(root);
  const page = dashboardPage(pollMs);
  const scripts: Readonly<Record<string, string>> = {
    "/app.js": await clientScript("app.js"),
    "/chart.js": await clientScript("chart.js"),
  };
  const plotsJson = JSON.stringify(curvePlots);

  const api = async (path: string, params: URLSearchParams): Promise<Response> => {
    switch (path) {
      case "/api/plots":
        return respond(plotsJson, 200, "application/json; charset=utf-8");
      case "/api/config": {
        const exit = await Effect.runPromiseExit(readConfig(paths.config));
        return exit._tag === "Success"
          ? json(exit.value.raw)
          : problem(404, "config.json is missing or invalid");
      }
      case "/api/metrics": {
        const cursor = cursorOf(params);
        if (cursor === undefined) return problem(400, "offset and line must be integers");
        const tail = await Effect.runPromise(readMetricsTail(paths.metrics, cursor));
        return json({
          rows: tail.rows,
          next: tail.next,
          restarted: tail.restarted,
          problems: tail.invalid.map((e) => e.message),
        });
      }
      case "/api/rollouts/latest": {
        const steps = await Effect.runPromise(listRolloutSteps(paths.rollouts));
        const step = steps.at(-1);
        if (step === undefined) return json({ step: null, samples: [] });
        const exit = await Effect.runPromiseExit(readRollouts(paths.rollouts, step));
        return exit._tag === "Success"
          ? json({ step, samples: exit.value })
          : problem(500, `rollout file of step ${step} is invalid`);
      }
      default:
        return problem(404, "no such API");
    }
  };

  const file = async (relative: string): Promise<Response> => {
    const type = IMAGE_TYPES[extname(relative).toLowerCase()];
    const real = type === undefined ? undefined : await resolveInsideRun(root, relative);
    if (type === undefined || real === undefined) return problem(404, "no such image in this run");
    return respond(await Deno.readFile(real), 200, type);
  };

  const route = (request: Request): Response | Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(405, "this dashboard is read-only");
    }
    const url = new URL(request.url);
    if (loopbackOnly && !LOOPBACK_HOSTS.has(url.hostname)) {
      return problem(403, "this dashboard answers only to a loopback host name");
    }
    const path = url.pathname;
    if (path === "/") return respond(page, 200, "text/html; charset=utf-8");
    if (path === "/favicon.ico") return respond(null, 204, "image/x-icon");
    const script = scripts[path];
    if (script !== undefined) return respond(script, 200, "text/javascript; charset=utf-8");
    if (path.startsWith("/api/")) return api(path, url.searchParams);
    if (path.startsWith("/files/")) {
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice("/files/".length));
      } catch {
        return problem(400, "malformed path");
      }
      return file(relative);
    }
    return problem(404, "not found");
  };

  return (request) =>
    Promise.resolve(request).then(route).catch((cause: unknown) => {
      console.error(`dashboard: ${request.method} ${request.url} failed:`, cause);
      return problem(500, "internal error; see the server log");
    });
};

const isLoopback = (hostname: string): boolean =>
  hostname === "127.0.0.1" || hostname === "localhost" || hostname === "::1";

/**
 * Starts the dashboard for `options.root`; resolves once it listens. Shut it down with
 * `server.shutdown()` or by aborting `options.signal`.
 */
export const startDashboard = async (options: DashboardOptions): Promise<Deno.HttpServer> => {
  const hostname = options.hostname ?? "127.0.0.1";
  const handler = await makeDashboardHandler(options.root, {
    pollMs: options.pollMs ?? 1000,
    loopbackOnly: isLoopback(hostname),
  });
  const { promise: listening, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname,
    port: options.port ?? DEFAULT_PORT,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onListen: () => resolve(),
  }, handler);
  await listening;
  return server;
};
