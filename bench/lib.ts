/**
 * The benchmark harness shared by every bench/<op>_bench.ts module: the section and result-row
 * types the runner (bench/run.ts) collects, GPU-timestamp and wall-clock timers (warm-up, then
 * the median of several repetitions), GFLOP/s and ratio arithmetic, a markdown table, and
 * results files written atomically under bench/results/.
 *
 * A bench module exports `section: BenchSection`; `run(ctx)` measures our kernels and, in the
 * same process and on the same adapter, the peers (tfjs-webgpu, PyTorch CPU, …), and returns one
 * `BenchRow` per (case, engine). Rows of one case are compared against the row whose engine is
 * `OURS`.
 *
 * @module
 */
import { CommandRecorder } from "../src/gpu/recorder.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";

/** Engine name of our own kernels; peers' rows are compared against this one. */
export const OURS = "ours";

/** What the runner hands every section. */
export interface BenchContext {
  /** Our runtime on the benchmark adapter. */
  readonly rt: GpuRuntime;
  /** The adapter our kernels run on, as `describeAdapter` writes it. */
  readonly adapterDescription: string;
  /** A smaller sweep (CI, quick checks): fewer shapes, fewer repetitions. */
  readonly quick: boolean;
  /** Progress output (one line per measurement), so a slow run shows where it is. */
  readonly log: (line: string) => void;
}

/** How a time was obtained. */
export type TimingSource = "gpu-timestamp" | "wall" | "peer-reported";

/** One measurement: a case (an op at one shape) run by one engine. */
export interface BenchRow {
  /** Section name, e.g. "matmul". */
  readonly section: string;
  /** The case, e.g. "NN 1024×1024×1024"; rows of one case are compared with each other. */
  readonly case: string;
  /** "ours", "tfjs-webgpu", "pytorch-cpu (2 threads)", … */
  readonly engine: string;
  /** Median milliseconds per op. */
  readonly ms: number;
  /** Floating-point operations of one op, when the op has a conventional count. */
  readonly flops?: number;
  readonly timing: TimingSource;
  /** Free text: tile sizes chosen, why a peer is missing, … */
  readonly note?: string;
}

/** A named group of measurements; `run` may take minutes and logs as it goes. */
export interface BenchSection {
  readonly name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** Repetition counts for one timing. */
export interface TimingOptions {
  /** Untimed runs first (pipeline creation, first-touch of memory). */
  readonly warmup?: number;
  /** Timed repetitions; the median is reported. */
  readonly reps?: number;
}

/** Median of a non-empty list. */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** GFLOP/s of `flops` operations done in `ms` milliseconds. */
export const gflops = (flops: number, ms: number): number => flops / (ms * 1e6);

/** One matmul to measure: C [batch, M, N] = op(A)·op(B) in a layout (see src/gpu/ops/matmul.ts). */
export interface MatmulCase {
  /** Case label shown in the table, e.g. "tiny mlp.up fwd NT 2400×384×128". */
  readonly name: string;
  readonly layout: "NN" | "NT" | "TN";
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** B has no batch axis (weights shared by the batch). */
  readonly broadcastB: boolean;
}

/** Floating-point operations of a (batched) matmul: 2·batch·M·N·K. */
export const matmulFlops = (m: number, n: number, k: number, batch = 1): number =>
  2 * batch * m * n * k;

/**
 * Times what `record` records, on the GPU: `warmup` untimed submits, then one submit holding
 * `reps` timestamped passes (one per repetition, each with everything `record` records), and
 * returns the median pass duration. `record` must only record work on tensors allocated
 * beforehand. Without `timestamp-query` it falls back to wall clock per submit (which then
 * includes Deno's ~10 ms readback floor: the `timing` field says which).
 */
export const timeGpu = async (
  rt: GpuRuntime,
  record: (rec: CommandRecorder) => void,
  { warmup = 1, reps = 5 }: TimingOptions = {},
): Promise<{ ms: number; samplesMs: number[]; timing: TimingSource }> => {
  for (let i = 0; i < warmup; i++) await submitAndWait(rt, record);
  if (!rt.features.timestamps) {
    const samplesMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      await submitAndWait(rt, record);
      samplesMs.push(performance.now() - start);
    }
    return { ms: median(samplesMs), samplesMs, timing: "wall" };
  }
  const rec = new CommandRecorder(rt, "bench");
  for (let i = 0; i < reps; i++) rec.timed(`rep${i}`, () => record(rec));
  const { timings } = await rec.submit().resolve();
  const samplesMs = [...timings.values()].map((ns) => ns / 1e6);
  return { ms: median(samplesMs), samplesMs, timing: "gpu-timestamp" };
};

/** Records, submits and waits until the GPU has finished. */
const submitAndWait = async (
  rt: GpuRuntime,
  record: (rec: CommandRecorder) => void,
): Promise<void> => {
  const rec = new CommandRecorder(rt, "bench-warmup");
  record(rec);
  rec.submit();
  await rt.device.queue.onSubmittedWorkDone();
};

/**
 * Times an async function by wall clock: `warmup` untimed calls, then the median of `reps`.
 * For peers that do not expose GPU timestamps; the caller makes `fn` wait for its own result.
 */
export const timeWall = async (
  fn: () => Promise<void>,
  { warmup = 1, reps = 5 }: TimingOptions = {},
): Promise<{ ms: number; samplesMs: number[] }> => {
  for (let i = 0; i < warmup; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn();
    samplesMs.push(performance.now() - start);
  }
  return { ms: median(samplesMs), samplesMs };
};

/** Speed of `OURS` relative to each row of the same section and case (>1: ours is faster). */
export const oursSpeedup = (
  rows: ReadonlyArray<BenchRow>,
  row: BenchRow,
): number | undefined => {
  const ours = rows.find((r) =>
    r.section === row.section && r.case === row.case && r.engine === OURS
  );
  if (ours === undefined || row.engine === OURS) return undefined;
  return row.ms / ours.ms;
};

/**
 * Per section and peer engine: the geometric mean, minimum and maximum of our speed-up over the
 * cases both ran, as markdown lines (ratios of rows measured in the same run).
 */
export const speedupSummary = (rows: ReadonlyArray<BenchRow>): string[] => {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const ratio = oursSpeedup(rows, r);
    if (ratio === undefined) continue;
    const key = `${r.section}: ours vs ${r.engine}`;
    groups.set(key, [...(groups.get(key) ?? []), ratio]);
  }
  return [...groups].map(([key, ratios]) => {
    const geo = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
    return `- ${key}: ${geo.toFixed(2)}× faster (geometric mean of ${ratios.length} cases; ` +
      `range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
  });
};

const fixed = (x: number | undefined, digits: number): string =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);

/** A markdown table of `rows`: one line per measurement, with GFLOP/s and our speed-up. */
export const markdownTable = (rows: ReadonlyArray<BenchRow>): string => {
  const lines = [
    "| section | case | engine | ms | GFLOP/s | ours × faster | timing | note |",
    "|---|---|---|---:|---:|---:|---|---|",
  ];
  for (const r of rows) {
    const rate = r.flops === undefined ? undefined : gflops(r.flops, r.ms);
    lines.push(
      `| ${r.section} | ${r.case} | ${r.engine} | ${fixed(r.ms, 3)} | ${fixed(rate, 2)} | ` +
        `${fixed(oursSpeedup(rows, r), 2)} | ${r.timing} | ${r.note ?? ""} |`,
    );
  }
  return lines.join("\n");
};

/** Where and on what a benchmark ran. */
export interface BenchEnvironment {
  readonly date: string;
  readonly adapter: string;
  readonly deno: string;
  readonly os: string;
  readonly cpuCount: number;
  readonly quick: boolean;
}

/** The environment of this process, for the results header. */
export const benchEnvironment = (adapter: string, quick: boolean): BenchEnvironment => ({
  date: new Date().toISOString(),
  adapter,
  deno: Deno.version.deno,
  os: `${Deno.build.os} ${Deno.build.arch}`,
  cpuCount: navigator.hardwareConcurrency,
  quick,
});

/** Writes `text` to `path` through a temporary file and a rename, so no reader sees half a file. */
const writeAtomic = async (path: string, text: string): Promise<void> => {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
};

/**
 * Writes `<dir>/<stamp>.json` and `.md`, plus `latest.json` / `latest.md` (overwritten) when
 * `latest` — a run of every section, so that a partial run never replaces the full table — and
 * returns the paths written.
 */
export const writeResults = async (
  dir: string,
  env: BenchEnvironment,
  rows: ReadonlyArray<BenchRow>,
  { latest }: { readonly latest: boolean },
): Promise<string[]> => {
  await Deno.mkdir(dir, { recursive: true });
  const stamp = env.date.replaceAll(":", "-").replace(/\.\d+Z$/, "Z");
  const json = JSON.stringify({ environment: env, rows }, null, 2) + "\n";
  const md = `# Benchmarks ${env.date}\n\n` +
    `Adapter: ${env.adapter}; Deno ${env.deno}; ${env.os}; ${env.cpuCount} CPUs` +
    `${env.quick ? "; quick sweep" : ""}.\n\n${speedupSummary(rows).join("\n")}\n\n` +
    `${markdownTable(rows)}\n`;
  const paths: string[] = [];
  for (const name of latest ? [stamp, "latest"] : [stamp]) {
    const jsonPath = `${dir}/${name}.json`;
    const mdPath = `${dir}/${name}.md`;
    await writeAtomic(jsonPath, json);
    await writeAtomic(mdPath, md);
    paths.push(jsonPath, mdPath);
  }
  return paths;
};
