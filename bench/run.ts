/**
 * `deno task bench`: runs every benchmark section on this machine's WebGPU adapter, prints one
 * table (our kernels and the peers measured in the same run, with ratios), and writes it to
 * bench/results/ as JSON and markdown.
 *
 * Flags: `--quick` (smaller sweep, fewer repetitions), `--only=matmul,attention` (sections by
 * name), `--out=DIR` (results folder; default bench/results).
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect";
import { makeGpu } from "../src/gpu/gpu.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import {
  type BenchContext,
  benchEnvironment,
  type BenchRow,
  type BenchSection,
  markdownTable,
  speedupSummary,
  writeResults,
} from "./lib.ts";
import { section as attention } from "./attention_bench.ts";
import { section as elementwise } from "./elementwise_bench.ts";
import { section as grpo } from "./grpo_loss_bench.ts";
import { section as matmul } from "./matmul_bench.ts";
import { section as misc } from "./misc_bench.ts";
import { section as model } from "./model_bench.ts";
import { section as qwen } from "./qwen_bench.ts";

/** Every section, in run order. */
const SECTIONS: ReadonlyArray<BenchSection> = [
  matmul,
  elementwise,
  attention,
  misc,
  grpo,
  model,
  qwen,
];

const flag = (name: string): string | undefined =>
  Deno.args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split("=")[1];

const quick = Deno.args.includes("--quick");
const only = flag("only")?.split(",");
const outDir = flag("out") ?? new URL("./results", import.meta.url).pathname;
const unknown = only?.filter((name) => !SECTIONS.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(", ")}; have ${SECTIONS.map((s) => s.name)}`);
  Deno.exit(2);
}

const scope = Scope.makeUnsafe();
const gpu = await Effect.runPromise(Scope.provide(makeGpu, scope)).catch((error: unknown) => {
  console.error(String(error instanceof Error ? error.message : error));
  Deno.exit(1);
});
const ctx: BenchContext = {
  rt: new GpuRuntime(gpu),
  adapterDescription: gpu.adapterDescription,
  quick,
  log: (line) => console.log(`  ${line}`),
};
console.log(`Adapter: ${gpu.adapterDescription}${quick ? " (quick sweep)" : ""}`);

const rows: BenchRow[] = [];
for (const section of SECTIONS) {
  if (only !== undefined && !only.includes(section.name)) continue;
  console.log(`[${section.name}]`);
  const started = performance.now();
  rows.push(...await section.run(ctx));
  console.log(`[${section.name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const env = benchEnvironment(gpu.adapterDescription, quick);
console.log(`\n${markdownTable(rows)}\n\n${speedupSummary(rows).join("\n")}\n`);
const paths = await writeResults(outDir, env, rows, { latest: only === undefined });
console.log(`Results: ${paths.join(", ")}`);
await Effect.runPromise(Scope.close(scope, Exit.void));
// tfjs keeps its own device and timers alive; the run is over.
Deno.exit(0);
