/**
 * The benchmarks the harness can read, and loading one from a downloaded copy: a folder (the
 * loader picks its files) or a single file of the benchmark's layout.
 *
 * @module
 */
import { Effect, Result } from "effect";
import { BenchmarkRecordInvalid, BenchmarkUnknown, EvalFileError } from "./errors.ts";
import { blink } from "./loaders/blink.ts";
import { cvBench } from "./loaders/cv_bench.ts";
import type { BenchmarkLoader } from "./loaders/loader.ts";
import { mmvp } from "./loaders/mmvp.ts";
import { realWorldQa } from "./loaders/realworldqa.ts";
import { spatialBench } from "./loaders/spatialbench.ts";
import { stvqa } from "./loaders/stvqa.ts";
import { threeDsrBench } from "./loaders/threedsr_bench.ts";
import type { EvalRecord } from "./record.ts";
import { readTable } from "./tables.ts";

/** Every benchmark loader, by command-line name. */
export const BENCHMARK_LOADERS: ReadonlyArray<BenchmarkLoader> = [
  cvBench,
  blink,
  threeDsrBench,
  mmvp,
  realWorldQa,
  spatialBench,
  stvqa,
];

/** The loader called `name`, or `BenchmarkUnknown` listing the known names. */
export const benchmarkLoader = (
  name: string,
): Result.Result<BenchmarkLoader, BenchmarkUnknown> => {
  const loader = BENCHMARK_LOADERS.find((l) => l.name === name);
  return loader === undefined
    ? Result.fail(new BenchmarkUnknown({ name, known: BENCHMARK_LOADERS.map((l) => l.name) }))
    : Result.succeed(loader);
};

/** Paths of every file under `dir`, relative to it, `/`-separated. */
const listFiles = async (dir: string, prefix = ""): Promise<Array<string>> => {
  const out: Array<string> = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listFiles(dir, rel));
    else if (entry.isFile) out.push(rel);
  }
  return out;
};

const dirOf = (file: string): string => {
  const i = file.lastIndexOf("/");
  return i < 0 ? "." : file.slice(0, i);
};

/**
 * All records of benchmark `name` under `path` (a folder or one file), in file order. Ids must
 * be unique within a benchmark, since predictions are joined on them.
 */
export const loadBenchmark = Effect.fn("loadBenchmark")(function* (
  name: string,
  path: string,
): Effect.fn.Return<
  ReadonlyArray<EvalRecord>,
  BenchmarkUnknown | EvalFileError | BenchmarkRecordInvalid
> {
  const loader = yield* Effect.fromResult(benchmarkLoader(name));
  const info = yield* Effect.tryPromise({
    try: () => Deno.stat(path),
    catch: (cause) => new EvalFileError({ file: path, reason: String(cause) }),
  });
  const root = path.replace(/\/+$/, "");
  const files = info.isDirectory
    ? loader.selectFiles(
      yield* Effect.tryPromise({
        try: () => listFiles(root),
        catch: (cause) => new EvalFileError({ file: path, reason: String(cause) }),
      }),
    ).map((p) => `${root}/${p}`)
    : [root];
  if (files.length === 0) {
    return yield* new EvalFileError({
      file: path,
      reason: `no ${name} files found; expected ${loader.source}`,
    });
  }
  const records: Array<EvalRecord> = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const rows = yield* readTable(file);
    for (let i = 0; i < rows.length; i++) {
      const at = { file, row: i + 1, baseDir: dirOf(file) };
      const record = yield* Effect.fromResult(loader.toRecord(rows[i]!, at));
      const key = `${record.benchmark}/${record.id}`;
      const previous = seen.get(key);
      if (previous !== undefined) {
        return yield* new BenchmarkRecordInvalid({
          file,
          row: i + 1,
          reason: `id ${record.id} already used at ${previous}`,
        });
      }
      seen.set(key, `${file}, record ${i + 1}`);
      records.push(record);
    }
  }
  return records;
});
