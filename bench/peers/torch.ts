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

const SCRIPT = new URL("./matmul_torch.py", import.meta.url).pathname;

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

/** Times every case in one PyTorch process with `threads` CPU threads. */
export const runTorchMatmul = async (
  python: string,
  cases: ReadonlyArray<MatmulCase>,
  threads: number,
  { warmup = 1, reps = 5 }: TimingOptions = {},
): Promise<TorchReport> => {
  const child = new Deno.Command(python, {
    args: [SCRIPT],
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
  const request = {
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
  };
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`matmul_torch.py failed: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as TorchReport;
};
