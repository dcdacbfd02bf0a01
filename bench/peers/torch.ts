/**
 * The PyTorch CPU peer: runs bench/peers/matmul_torch.py in a Python that can import torch
 * (Debian `python3-torch`), with the thread settings of webgpu.md §8: OpenBLAS ignores
 * `torch.set_num_threads`, and without OMP_WAIT_POLICY=PASSIVE two-thread runs get ~3× slower.
 *
 * @module
 */
import type { MatmulCase, TimingOptions } from "../lib.ts";

/** What the peer script reports. */
export interface TorchReport {
  readonly torch: string;
  readonly threads: number;
  /** The BLAS libraries the process loaded (reference BLAS is ~50× slower than OpenBLAS). */
  readonly blas: string;
  readonly results: ReadonlyArray<{ readonly name: string; readonly ms: number }>;
}

/** Debian's torch lives in the system Python; a pyenv or venv `python3` may not see it. */
const CANDIDATES = ["python3", "/usr/bin/python3"];

const canImportTorch = async (python: string): Promise<boolean> => {
  try {
    const { success } = await new Deno.Command(python, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
};

/** The first Python that can import torch, or undefined. */
export const findTorchPython = async (): Promise<string | undefined> => {
  for (const python of CANDIDATES) if (await canImportTorch(python)) return python;
  return undefined;
};

/**
 * Runs a peer script from bench/peers/ in one Python process with `threads` CPU threads, writing
 * `request` as JSON to its stdin and parsing the JSON it prints.
 */
export const runTorchScript = async <Report>(
  python: string,
  script: string,
  request: unknown,
  threads: number,
): Promise<Report> => {
  const child = new Deno.Command(python, {
    args: [new URL(`./${script}`, import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: {
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      MKL_NUM_THREADS: String(threads),
      OMP_WAIT_POLICY: "PASSIVE",
    },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as Report;
};

/** Times every case in one PyTorch process with `threads` CPU threads. */
export const runTorchMatmul = (
  python: string,
  cases: ReadonlyArray<MatmulCase>,
  threads: number,
  { warmup = 1, reps = 5 }: TimingOptions = {},
): Promise<TorchReport> =>
  runTorchScript<TorchReport>(python, "matmul_torch.py", {
    warmup,
    reps,
    cases: cases.map((c) => ({
      name: c.name,
      layout: c.layout,
      batch: c.batch,
      m: c.m,
      n: c.n,
      k: c.k,
      broadcast_b: c.broadcastB,
    })),
  }, threads);
