/**
 * `deno task serve <run folder>`: the live, read-only dashboard of a training run at
 * http://127.0.0.1:8787/ (curves, latest rollouts with boxes, per-category accuracy). It reads
 * the run folder as the trainer writes it; stop it with Ctrl-C.
 *
 * @module
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node";
import { Console, Effect } from "effect";
import { Argument, Command, Flag } from "effect/cli";
import { DEFAULT_PORT, startDashboard } from "../report/dashboard/server.ts";

const serve = Command.make(
  "serve",
  {
    run: Argument.Directory("run", { mustExist: true }).pipe(
      Argument.withDescription("The run folder, e.g. runs/my-run"),
    ),
    host: Flag.String("host").pipe(
      Flag.withDescription("Interface to bind (127.0.0.1 keeps the dashboard local)"),
      Flag.withDefault("127.0.0.1"),
    ),
    port: Flag.Int("port").pipe(
      Flag.withDescription("Port to listen on (0 picks a free one)"),
      Flag.withDefault(DEFAULT_PORT),
    ),
    pollMs: Flag.Int("poll-ms").pipe(
      Flag.withDescription("How often the page asks for new metrics, in milliseconds"),
      Flag.withDefault(1000),
    ),
  },
  Effect.fn("serve")(function* ({ run, host, port, pollMs }) {
    const server = yield* Effect.acquireRelease(
      Effect.promise(() => startDashboard({ root: run, hostname: host, port, pollMs })),
      (server) => Effect.promise(() => server.shutdown()),
    );
    const { hostname, port: bound } = server.addr as Deno.NetAddr;
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    yield* Console.log(`dashboard of ${run} at http://${shown}:${bound}/ (Ctrl-C stops it)`);
    return yield* Effect.never;
  }, Effect.scoped),
).pipe(Command.withDescription("Serve the live dashboard of a training run"));

if (import.meta.main) {
  serve.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  );
}
