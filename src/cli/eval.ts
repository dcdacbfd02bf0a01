/**
 * `deno task eval`: scores predictions on a benchmark and prints accuracy per benchmark and
 * category with binomial standard errors. Predictions come from JSONL files — ours, or any other
 * system's — so several systems are scored by the same extraction and shown side by side.
 *
 * ```
 * deno task eval --benchmark cv-bench --data ~/data/CV-Bench \
 *   --predictions ours=runs/eval/ours.jsonl --predictions gpt4o=gpt4o.jsonl --out runs/eval/cvb
 * deno task eval --benchmark blink --data ~/data/BLINK --export runs/eval/blink-records
 * deno task eval --list
 * ```
 *
 * `--export DIR` writes the loaded records for another system to answer: `DIR/records.jsonl`
 * (id, benchmark, prompt, choices, answer, image paths) and the embedded images under
 * `DIR/images/`.
 *
 * Writes `<out>/<system>.scored.jsonl` (every record: output, extracted answer, failure, correct),
 * `<out>/summary.md` and `<out>/summary.json`, each through a temp file and a rename.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Cause, Effect, Schema } from "effect";
import { BENCHMARK_LOADERS, loadBenchmark } from "../eval/benchmarks.ts";
import { EvalFileError } from "../eval/errors.ts";
import { exportPlan } from "../eval/export.ts";
import {
  type AccuracyCell,
  accuracyTable,
  formatAccuracyTable,
  formatComparisonTable,
} from "../eval/metrics.ts";
import { readPredictions } from "../eval/predictions.ts";
import { scoreAll } from "../eval/scoring.ts";
import { writeFileAtomic } from "../report/atomic_write.ts";

/** The command line was not understood. */
export class EvalUsageError extends Schema.TaggedError<EvalUsageError>()("EvalUsageError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.reason}\n\n${USAGE}`;
  }
}

const USAGE = `usage: deno task eval --benchmark NAME --data PATH --predictions [NAME=]FILE.jsonl
                      [--predictions [NAME=]FILE.jsonl ...] [--out DIR]
       deno task eval --benchmark NAME --data PATH --export DIR
       deno task eval --list
  --benchmark    one of ${BENCHMARK_LOADERS.map((l) => l.name).join(", ")}
  --data         a downloaded copy of the benchmark: its folder, or one of its files
  --predictions  JSONL lines {"id", "prediction", "benchmark"?}; repeat to compare systems
  --out          where to write scored JSONL and summaries (default runs/eval/<benchmark>)
  --export       write the records (records.jsonl + images/) for another system to answer`;

/** A named predictions file, from `name=path` or a bare path (named after the file). */
const parseSystem = (spec: string): { readonly name: string; readonly file: string } => {
  const eq = spec.indexOf("=");
  if (eq > 0) return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
  return { name: spec.split("/").pop()!.replace(/\.jsonl$/, ""), file: spec };
};

const makeDirectory = (dir: string) =>
  Effect.tryPromise({
    try: () => Deno.mkdir(dir, { recursive: true }),
    catch: (cause) => new EvalFileError({ file: dir, reason: `cannot create folder: ${cause}` }),
  });

/**
 * Runs the eval command on `args` and returns what it prints. Kept separate from the process
 * entry so tests run it in-process.
 */
export const runEval = Effect.fn("runEval")(function* (args: ReadonlyArray<string>) {
  const parsed = yield* Effect.try({
    try: () =>
      parseArgs({
        args: [...args],
        options: {
          benchmark: { type: "string" },
          data: { type: "string" },
          predictions: { type: "string", multiple: true },
          out: { type: "string" },
          list: { type: "boolean" },
          export: { type: "string" },
        },
        strict: true,
      }).values,
    catch: (cause) => new EvalUsageError({ reason: String(cause) }),
  });
  if (parsed.list === true) {
    return BENCHMARK_LOADERS.map((l) => `${l.name.padEnd(13)} ${l.source}`).join("\n") + "\n";
  }
  const { benchmark, data } = parsed;
  if (benchmark === undefined || data === undefined) {
    return yield* new EvalUsageError({ reason: "--benchmark and --data are required" });
  }
  if (parsed.export !== undefined) {
    const dir = parsed.export;
    const plan = exportPlan(yield* loadBenchmark(benchmark, data));
    for (const image of plan.images) {
      const path = `${dir}/${image.path}`;
      yield* makeDirectory(path.slice(0, path.lastIndexOf("/")));
      yield* writeFileAtomic(path, image.bytes);
    }
    yield* writeFileAtomic(
      `${dir}/records.jsonl`,
      plan.records.map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    return `exported ${plan.records.length} records and ${plan.images.length} images to ${dir}\n`;
  }
  const systems = (parsed.predictions ?? []).map(parseSystem);
  if (systems.length === 0) {
    return yield* new EvalUsageError({
      reason: "--predictions is required: decoding a checkpoint in this command needs the " +
        "model, which is not wired in yet; score its predictions JSONL instead",
    });
  }
  const names = systems.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    return yield* new EvalUsageError({ reason: `two prediction files are named ${duplicate}` });
  }
  const out = parsed.out ?? `runs/eval/${benchmark}`;
  const records = yield* loadBenchmark(benchmark, data);
  const results: Array<{ name: string; cells: ReadonlyArray<AccuracyCell> }> = [];
  const scoredFiles: Array<[string, string]> = [];
  for (const system of systems) {
    const scored = scoreAll(records, yield* readPredictions(system.file, records));
    results.push({ name: system.name, cells: accuracyTable(scored) });
    scoredFiles.push([
      `${out}/${system.name}.scored.jsonl`,
      scored.map((s) => JSON.stringify(s)).join("\n") + "\n",
    ]);
  }
  const summary = results.map((r) => `## ${r.name}\n\n${formatAccuracyTable(r.cells)}`).join("\n") +
    (results.length > 1 ? `\n## side by side\n\n${formatComparisonTable(results)}` : "");
  yield* makeDirectory(out);
  for (const [file, text] of scoredFiles) yield* writeFileAtomic(file, text);
  yield* writeFileAtomic(`${out}/summary.md`, summary);
  yield* writeFileAtomic(
    `${out}/summary.json`,
    JSON.stringify({ benchmark, data, systems: results }, null, 2) + "\n",
  );
  return `${records.length} records of ${benchmark} from ${data}\n\n${summary}\nwrote ${out}\n`;
});

if (import.meta.main) {
  const exit = await Effect.runPromiseExit(runEval(Deno.args));
  if (exit._tag === "Success") {
    console.log(exit.value);
  } else {
    const error = Cause.squash(exit.cause);
    console.error(`eval: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
