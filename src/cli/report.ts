/**
 * `deno task report <run folder>`: renders the run's curves (SVG + PNG), per-category validation
 * accuracy and sampled rollouts with box overlays, and writes `<run folder>/report.html`.
 *
 * @module
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node";
import { Console, Effect } from "effect";
import { Argument, Command } from "effect/cli";
import { writeReport } from "../report/report.ts";

const report = Command.make(
  "report",
  {
    run: Argument.Directory("run", { mustExist: true }).pipe(
      Argument.withDescription("The run folder, e.g. runs/my-run"),
    ),
  },
  Effect.fn("report")(function* ({ run }) {
    const written = yield* writeReport(run);
    for (const warning of written.warnings) yield* Console.error(`warning: ${warning}`);
    yield* Console.log(`wrote ${written.html} (${written.files.length} figures and images)`);
  }, (effect) =>
    // Data and file errors are the user's to fix: print their message, not a stack trace.
    Effect.catch(effect, (error) =>
      Console.error(`report: ${error.message}`).pipe(
        Effect.andThen(Effect.sync(() => {
          Deno.exitCode = 1;
        })),
      ))),
).pipe(Command.withDescription("Write report.html with plots and rollout images for a run"));

if (import.meta.main) {
  report.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  );
}
