/**
 * `deno task preflight`: makes sure this machine has a WebGPU adapter before tests, training or
 * benchmarks start. When none exists and we are root on a Debian-like system, it installs Mesa's
 * CPU Vulkan driver (lavapipe) with a visible message; otherwise it stops with `GpuUnavailable`,
 * whose message names the exact command to run.
 *
 * @module
 */
import { Cause, Console, Effect } from "effect";
import { describeAdapter, requestAdapter } from "../gpu/adapter.ts";
import { GpuUnavailable, LAVAPIPE_INSTALL } from "../gpu/errors.ts";

const run = (cmd: string, args: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () =>
      new Deno.Command(cmd, { args: [...args], stdout: "inherit", stderr: "inherit" }).output(),
    catch: (cause) => new GpuUnavailable({ reason: `could not run ${cmd}: ${String(cause)}` }),
  }).pipe(
    Effect.filterOrFail(
      (out) => out.success,
      (out) =>
        new GpuUnavailable({ reason: `\`${cmd} ${args.join(" ")}\` exited with ${out.code}` }),
    ),
  );

const hasApt = (): boolean => {
  try {
    return Deno.statSync("/usr/bin/apt-get").isFile;
  } catch {
    return false;
  }
};

/** Probes again in a fresh process: the Vulkan loader reads its driver list once per process. */
const probeInFreshProcess = run(Deno.execPath(), ["run", "-A", import.meta.filename!, "--probe"]);

const installLavapipe = Effect.gen(function* () {
  if (Deno.uid() !== 0) {
    return yield* new GpuUnavailable({
      reason: "no adapter was found and this user is not root, so lavapipe cannot be installed " +
        `automatically; run \`sudo apt-get update && sudo ${LAVAPIPE_INSTALL}\``,
    });
  }
  if (!hasApt()) {
    return yield* new GpuUnavailable({
      reason: "no adapter was found and this system has no apt-get; install a Vulkan driver " +
        "(Mesa lavapipe on Linux) by hand",
    });
  }
  yield* Console.error(
    `preflight: no WebGPU adapter found; installing Mesa lavapipe (CPU Vulkan): ${LAVAPIPE_INSTALL}`,
  );
  yield* run("apt-get", ["update", "-qq"]);
  yield* run("apt-get", ["install", "-y", "-qq", "mesa-vulkan-drivers", "libvulkan1"]);
  yield* probeInFreshProcess;
});

const preflight = Effect.gen(function* () {
  const probeOnly = Deno.args.includes("--probe");
  const adapter = yield* requestAdapter.pipe(
    Effect.map((a): GPUAdapter | undefined => a),
    Effect.catchTag(
      "GpuUnavailable",
      (e) => probeOnly ? Effect.fail(e) : Effect.succeed(undefined),
    ),
  );
  if (adapter !== undefined) {
    yield* Console.error(`preflight: WebGPU adapter ${describeAdapter(adapter)}`);
    return;
  }
  yield* installLavapipe;
});

if (import.meta.main) {
  const exit = await Effect.runPromiseExit(preflight);
  if (exit._tag === "Failure") {
    const error = Cause.squash(exit.cause);
    console.error(`preflight: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
