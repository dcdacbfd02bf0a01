/**
 * `deno task eval`: scores predictions on a benchmark and prints accuracy per benchmark and
 * category with binomial standard errors. Predictions come from JSONL files — ours, or any other
 * system's — so several systems are scored by the same extraction and shown side by side.
 *
 * ```
 * deno task eval --benchmark cv-bench --data ~/data/CV-Bench \
 *   --predictions ours=runs/eval/ours.jsonl --predictions gpt4o=gpt4o.jsonl --out runs/eval/cvb
 * deno task eval --benchmark blink --data ~/data/BLINK --export runs/eval/blink-records
 * deno task eval --benchmark stvqa --data data/generated/stvqa-synth \
 *   --model sft=data/checkpoints/sft-tiny --prompt compact --out runs/eval/stvqa
 * deno task eval --benchmark cv-bench --data ~/data/CV-Bench --limit 200 \
 *   --model sft=data/checkpoints/sft-tiny --model grpo=runs/grpo-tiny/checkpoints/step-00000100
 * deno task eval --list
 * ```
 *
 * `--model [NAME=]DIR` (repeatable, to compare checkpoints side by side) decodes a checkpoint
 * greedily on every record (the paper's protocol; the
 * paper's evaluation prompt unless `--prompt compact|paper` names the prompt the checkpoint was
 * trained with), writes its outputs to `<out>/<NAME>.predictions.jsonl` (the predictions format,
 * so they can be re-scored or compared later) and scores them beside any `--predictions`.
 * Records the model cannot run (several images, unreadable image, prompt beyond the context)
 * are listed with their reason and score as missing. `--weights-dtype f32|bf16|f16` sets how the
 * weights are stored on the GPU (default: a 16-bit checkpoint stays 16-bit, see `generate`).
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
import { makeGpu } from "../gpu/gpu.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { BENCHMARK_LOADERS, loadBenchmark } from "../eval/benchmarks.ts";
import { EvalFileError } from "../eval/errors.ts";
import { exportPlan } from "../eval/export.ts";
import {
  type AccuracyCell,
  accuracyTable,
  formatAccuracyTable,
  formatComparisonTable,
} from "../eval/metrics.ts";
import {
  EVAL_PROMPT_STYLES,
  type EvalPromptStyle,
  type ModelPredictions,
  predictRecords,
} from "../eval/model_predictor.ts";
import { readPredictions } from "../eval/predictions.ts";
import type { EvalRecord } from "../eval/record.ts";
import { recordKey, scoreAll } from "../eval/scoring.ts";
import { writeFileAtomic } from "../report/atomic_write.ts";
import { modelFromCheckpoint, processorSettings } from "../stages/model_setup.ts";
import { WEIGHTS_DTYPES, type WeightsDtype } from "../nn/weights_dtype.ts";

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
       deno task eval --benchmark NAME --data PATH --model [NAME=]DIR [--prompt eval|compact|paper]
                      [--batch-size N] [--max-new-tokens N] [--limit N] [--seed N]
                      [--weights-dtype f32|bf16|f16]
                      [--predictions [NAME=]FILE.jsonl ...] [--out DIR]
       deno task eval --benchmark NAME --data PATH --export DIR
       deno task eval --list
  --benchmark       one of ${BENCHMARK_LOADERS.map((l) => l.name).join(", ")}
  --data            a downloaded copy of the benchmark: its folder, or one of its files
  --predictions     JSONL lines {"id", "prediction", "benchmark"?}; repeat to compare systems
  --model           a checkpoint folder to decode greedily on the records (name: "model");
                    repeat to compare checkpoints
  --prompt          eval (the paper's evaluation prompt, default) or the training prompt
                    the checkpoint learned: compact or paper
  --batch-size      prompts per generation call, one image size per batch (default 8)
  --max-new-tokens  tokens generated per record at most (default 512)
  --limit           only the first N records (a quick look)
  --seed            generation seed (default 42, the paper's evaluation seed)
  --weights-dtype   GPU storage of the model's weights: f32, bf16 or f16 (16-bit halves the
                    memory; default: the checkpoint's own dtype when it is 16-bit, else f32)
  --out             where to write scored JSONL and summaries (default runs/eval/<benchmark>)
  --export          write the records (records.jsonl + images/) for another system to answer`;

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

/** Generation settings of `--model`, from the command line. */
interface ModelRunOptions {
  readonly name: string;
  readonly checkpoint: string;
  readonly promptStyle: EvalPromptStyle;
  readonly batchSize: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** GPU storage of the weights, or "auto" (from the checkpoint's dtype and the device). */
  readonly weightsDtype: WeightsDtype | "auto";
}

/** A flag's value as a positive integer (or `fallback` when absent). */
const positiveInt = (flag: string, raw: string | undefined, fallback: number) =>
  Effect.suspend(() => {
    if (raw === undefined) return Effect.succeed(fallback);
    const n = Number(raw);
    return Number.isInteger(n) && n > 0
      ? Effect.succeed(n)
      : Effect.fail(new EvalUsageError({ reason: `--${flag} must be a positive integer` }));
  });

/** `--weights-dtype`, or "auto" when absent. */
const weightsDtypeFlag = (raw: string | undefined) =>
  Effect.suspend(() => {
    if (raw === undefined) return Effect.succeed("auto" as const);
    return (WEIGHTS_DTYPES as ReadonlyArray<string>).includes(raw)
      ? Effect.succeed(raw as WeightsDtype)
      : Effect.fail(
        new EvalUsageError({
          reason: `--weights-dtype must be one of ${WEIGHTS_DTYPES.join(", ")}, got ${raw}`,
        }),
      );
  });

/** Decodes `records` with the checkpoint on a fresh device, timing the decode. */
const decodeWithModel = (
  o: ModelRunOptions,
  records: ReadonlyArray<EvalRecord>,
  progress: (line: string) => void,
) =>
  Effect.scoped(Effect.gen(function* () {
    const rt = new GpuRuntime(yield* makeGpu);
    const setup = yield* modelFromCheckpoint(rt, o.checkpoint, { weightsDtype: o.weightsDtype });
    const started = performance.now();
    const predictions: ModelPredictions = yield* predictRecords(
      {
        vlm: setup.vlm,
        tokenizer: setup.tokenizer,
        processor: processorSettings(setup.preprocessor),
        generation: setup.generation,
      },
      records,
      o,
      (done, total) => progress(`${o.name}: ${done}/${total} records`),
    );
    return {
      predictions,
      seconds: (performance.now() - started) / 1000,
      weightsDtype: setup.vlm.params.weightsDtype,
    };
  }));

/** The `model` block of summary.json: settings, throughput and the records that could not run. */
const modelSummary = (
  o: ModelRunOptions,
  records: number,
  run: {
    readonly predictions: ModelPredictions;
    readonly seconds: number;
    readonly weightsDtype: WeightsDtype;
  },
) => ({
  name: o.name,
  checkpoint: o.checkpoint,
  weightsDtype: run.weightsDtype,
  prompt: o.promptStyle,
  batchSize: o.batchSize,
  maxNewTokens: o.maxNewTokens,
  seed: o.seed,
  records,
  decoded: run.predictions.outputs.size,
  seconds: run.seconds,
  recordsPerSecond: records / run.seconds,
  generatedTokens: run.predictions.generatedTokens,
  generatedTokensPerSecond: run.predictions.generatedTokens / run.seconds,
  failures: run.predictions.failures.map((f) => ({
    benchmark: f.benchmark,
    id: f.id,
    reason: f.reason,
  })),
});

/** "benchmark/id: reason" of the first failure. */
const firstFailure = (failures: ReadonlyArray<{ benchmark: string; id: string; reason: string }>) =>
  `${failures[0]!.benchmark}/${failures[0]!.id}: ${failures[0]!.reason}`;

/** A named checkpoint, from `name=dir` or a bare folder (named "model"). */
const parseModelSpec = (spec: string): { readonly name: string; readonly checkpoint: string } => {
  const eq = spec.indexOf("=");
  return eq > 0
    ? { name: spec.slice(0, eq), checkpoint: spec.slice(eq + 1) }
    : { name: "model", checkpoint: spec };
};

/**
 * Runs the eval command on `args` and returns what it prints; `progress` receives one line per
 * decoded batch of `--model`. Kept separate from the process entry so tests run it in-process.
 */
export const runEval = Effect.fn("runEval")(function* (
  args: ReadonlyArray<string>,
  progress: (line: string) => void = () => {},
) {
  const parsed = yield* Effect.try({
    try: () =>
      parseArgs({
        args: [...args],
        options: {
          benchmark: { type: "string" },
          data: { type: "string" },
          predictions: { type: "string", multiple: true },
          model: { type: "string", multiple: true },
          prompt: { type: "string" },
          "batch-size": { type: "string" },
          "max-new-tokens": { type: "string" },
          limit: { type: "string" },
          seed: { type: "string" },
          "weights-dtype": { type: "string" },
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
  if (systems.length === 0 && parsed.model === undefined) {
    return yield* new EvalUsageError({
      reason: "--predictions is required unless --model names a checkpoint to decode",
    });
  }
  const promptStyle = parsed.prompt ?? "eval";
  if (!EVAL_PROMPT_STYLES.includes(promptStyle as EvalPromptStyle)) {
    return yield* new EvalUsageError({
      reason: `--prompt must be one of ${EVAL_PROMPT_STYLES.join(", ")}`,
    });
  }
  const generation = {
    promptStyle: promptStyle as EvalPromptStyle,
    batchSize: yield* positiveInt("batch-size", parsed["batch-size"], 8),
    maxNewTokens: yield* positiveInt("max-new-tokens", parsed["max-new-tokens"], 512),
    seed: yield* positiveInt("seed", parsed.seed, 42),
    weightsDtype: yield* weightsDtypeFlag(parsed["weights-dtype"]),
  };
  const models: ReadonlyArray<ModelRunOptions> = (parsed.model ?? []).map((spec) => ({
    ...parseModelSpec(spec),
    ...generation,
  }));
  const limit = yield* positiveInt("limit", parsed.limit, Number.POSITIVE_INFINITY);
  const names = [...models.map((m) => m.name), ...systems.map((s) => s.name)];
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    return yield* new EvalUsageError({ reason: `two systems are named ${duplicate}` });
  }
  const out = parsed.out ?? `runs/eval/${benchmark}`;
  const records = (yield* loadBenchmark(benchmark, data)).slice(0, limit);
  const results: Array<{ name: string; cells: ReadonlyArray<AccuracyCell> }> = [];
  const files: Array<[string, string]> = [];
  const score = (name: string, outputs: ReadonlyMap<string, string>) => {
    const scored = scoreAll(records, outputs);
    results.push({ name, cells: accuracyTable(scored) });
    files.push([
      `${out}/${name}.scored.jsonl`,
      scored.map((s) => JSON.stringify(s)).join("\n") + "\n",
    ]);
  };
  // Predictions files are read and checked before decoding, so a bad file fails fast.
  const external: Array<[string, ReadonlyMap<string, string>]> = [];
  for (const system of systems) {
    external.push([system.name, yield* readPredictions(system.file, records)]);
  }
  const modelBlocks: Array<ReturnType<typeof modelSummary>> = [];
  for (const model of models) {
    const run = yield* decodeWithModel(model, records, progress);
    const outputs = run.predictions.outputs;
    files.push([
      `${out}/${model.name}.predictions.jsonl`,
      records.filter((r) => outputs.has(recordKey(r))).map((r) =>
        JSON.stringify({ id: r.id, benchmark: r.benchmark, prediction: outputs.get(recordKey(r)) })
      ).join("\n") + "\n",
    ]);
    score(model.name, outputs);
    modelBlocks.push(modelSummary(model, records.length, run));
  }
  for (const [name, outputs] of external) score(name, outputs);
  const summary = results.map((r) => `## ${r.name}\n\n${formatAccuracyTable(r.cells)}`).join("\n") +
    (results.length > 1 ? `\n## side by side\n\n${formatComparisonTable(results)}` : "");
  const modelLines = modelBlocks.map((m) =>
    `${m.name}: decoded ${m.decoded}/${m.records} records in ${m.seconds.toFixed(1)} s ` +
    `(${m.recordsPerSecond.toFixed(2)} records/s, ` +
    `${m.generatedTokensPerSecond.toFixed(1)} generated tokens/s)` +
    (m.failures.length === 0 ? "" : `; ${m.failures.length} could not run ` +
      `(scored as missing; reasons in summary.json), first: ${firstFailure(m.failures)}`) +
    "\n"
  ).join("") + (modelBlocks.length > 0 ? "\n" : "");
  yield* makeDirectory(out);
  for (const [file, text] of files) {
    yield* writeFileAtomic(file, text);
  }
  yield* writeFileAtomic(`${out}/summary.md`, modelLines + summary);
  yield* writeFileAtomic(
    `${out}/summary.json`,
    JSON.stringify(
      {
        benchmark,
        data,
        ...(modelBlocks.length > 0 ? { models: modelBlocks } : {}),
        systems: results,
      },
      null,
      2,
    ) + "\n",
  );
  return `${records.length} records of ${benchmark} from ${data}\n\n${modelLines}${summary}` +
    `wrote ${out}\n`;
});

if (import.meta.main) {
  const exit = await Effect.runPromiseExit(
    runEval(Deno.args, (line) => console.error(line)),
  );
  if (exit._tag === "Success") {
    console.log(exit.value);
  } else {
    const error = Cause.squash(exit.cause);
    console.error(`eval: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
