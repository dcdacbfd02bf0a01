/**
 * Memory-bound kernels of the training step: residual and bias adds, SwiGLU forward/backward, the
 * global gradient norm with its clip scale, and the AdamW step. Ours are timed by GPU timestamps;
 * the note gives the effective bandwidth (bytes the op must move at least, over its time). PyTorch
 * CPU runs the same ops the way a PyTorch training loop does (bench/peers/elementwise_torch.py,
 * wall clock) in the same run when a Python with torch exists.
 *
 * Shapes: the tiny preset at 8 rollouts × 300 tokens (hidden 128, MLP 384; ≈1.45 M parameters
 * for the optimizer) and, in the full sweep, one Qwen2.5-VL-3B MLP weight (11008 × 2048).
 *
 * @module
 */
import { adamw } from "../src/gpu/ops/adamw.ts";
import { add, swigluBackward, swigluForward } from "../src/gpu/ops/elementwise.ts";
import { fill } from "../src/gpu/ops/fill.ts";
import { gradClipStats, reductionScratchElements } from "../src/gpu/ops/reduce.ts";
import { CommandRecorder } from "../src/gpu/recorder.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import { type BenchContext, type BenchRow, type BenchSection, OURS, timeGpu } from "./lib.ts";
import { findTorchPython, runTorchScript } from "./peers/torch.ts";

const SECTION = "elementwise";

interface Case {
  readonly name: string;
  /** Bytes the op reads and writes at minimum. */
  readonly bytes: number;
  /** What the peer script runs (bench/peers/elementwise_torch.py kinds). */
  readonly peer: { readonly kind: string; readonly shape: ReadonlyArray<number> };
  /** Allocates the operands and returns the recording of one op on them. */
  readonly setup: (rt: GpuRuntime, rec: CommandRecorder) => (rec: CommandRecorder) => void;
}

/** Tensors created for the current case, destroyed after it is timed. */
const live: Tensor[] = [];

const tensors = (rt: GpuRuntime, rec: CommandRecorder, count: number, shape: number[]) =>
  Array.from({ length: count }, (_, i) => {
    const t = rt.createTensor(shape);
    fill(rec, t, 0.25 + 0.125 * i);
    live.push(t);
    return t;
  });

const elements = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1);

const cases = (quick: boolean): Case[] => {
  const rows = 2400;
  const hidden = [rows, 128];
  const mlp = [rows, 384];
  const params = [1_450_000];
  const qwenWeight = [11008, 2048];
  const list: Case[] = [
    {
      name: `residual add [${hidden}]`,
      bytes: 3 * 4 * elements(hidden),
      peer: { kind: "add", shape: hidden },
      setup: (rt, rec) => {
        const [x, y, out] = tensors(rt, rec, 3, hidden) as [Tensor, Tensor, Tensor];
        return (r) => add(r, x, y, out);
      },
    },
    {
      name: `bias add [${mlp}] + [384]`,
      bytes: 2 * 4 * elements(mlp),
      peer: { kind: "add_row", shape: mlp },
      setup: (rt, rec) => {
        const [x, out] = tensors(rt, rec, 2, mlp) as [Tensor, Tensor];
        const [row] = tensors(rt, rec, 1, [384]) as [Tensor];
        return (r) => add(r, x, row, out);
      },
    },
    {
      name: `swiglu fwd [${mlp}]`,
      bytes: 3 * 4 * elements(mlp),
      peer: { kind: "swiglu_fwd", shape: mlp },
      setup: (rt, rec) => {
        const [g, u, y] = tensors(rt, rec, 3, mlp) as [Tensor, Tensor, Tensor];
        return (r) => swigluForward(r, g, u, y);
      },
    },
    {
      name: `swiglu bwd [${mlp}]`,
      bytes: 5 * 4 * elements(mlp),
      peer: { kind: "swiglu_bwd", shape: mlp },
      setup: (rt, rec) => {
        const [g, u, dy, dg, du] = tensors(rt, rec, 5, mlp) as Tensor[] as [
          Tensor,
          Tensor,
          Tensor,
          Tensor,
          Tensor,
        ];
        return (r) => swigluBackward(r, g, u, dy, dg, du);
      },
    },
    ...[params, ...(quick ? [] : [qwenWeight])].flatMap((shape): Case[] => [
      {
        name: `grad norm + clip scale [${shape}]`,
        bytes: 4 * elements(shape),
        peer: { kind: "grad_norm", shape },
        setup: (rt, rec) => {
          const [g] = tensors(rt, rec, 1, shape) as [Tensor];
          const scratch = rt.createTensor([reductionScratchElements(rt, [g])]);
          const stats = rt.createTensor([3]);
          live.push(scratch, stats);
          return (r) => gradClipStats(r, [g], scratch, stats, { maxNorm: 1 });
        },
      },
      {
        name: `adamw step [${shape}]`,
        bytes: 7 * 4 * elements(shape),
        peer: { kind: "adamw", shape },
        setup: (rt, rec) => {
          const [p, g, m, v] = tensors(rt, rec, 4, shape) as [Tensor, Tensor, Tensor, Tensor];
          return (r) => adamw(r, p, g, m, v, { lr: 1e-3, step: 10 });
        },
      },
    ]),
  ];
  return list;
};

/** The elementwise / optimizer section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx: BenchContext) {
    const list = cases(ctx.quick);
    const reps = ctx.quick ? 3 : 7;
    const rows: BenchRow[] = [];
    const gbps = (bytes: number, ms: number) => `${(bytes / ms / 1e6).toFixed(2)} GB/s effective`;
    for (const c of list) {
      const setup = new CommandRecorder(ctx.rt, "bench-setup");
      const record = c.setup(ctx.rt, setup);
      setup.submit();
      const { ms, timing } = await timeGpu(ctx.rt, record, { warmup: 1, reps });
      for (const t of live.splice(0)) t.buffer.destroy();
      rows.push({
        section: SECTION,
        case: c.name,
        engine: OURS,
        ms,
        timing,
        note: gbps(c.bytes, ms),
      });
      ctx.log(`${SECTION} ${c.name} [ours] ${ms.toFixed(3)} ms, ${gbps(c.bytes, ms)}`);
    }
    const python = await findTorchPython();
    if (python === undefined) {
      ctx.log("PyTorch CPU skipped: no python3 can import torch");
      return rows;
    }
    const threads = navigator.hardwareConcurrency;
    const report = await runTorchScript<{
      torch: string;
      threads: number;
      results: ReadonlyArray<{ name: string; ms: number }>;
    }>(python, "elementwise_torch.py", {
      warmup: 2,
      reps,
      cases: list.map((c) => ({ name: c.name, ...c.peer })),
    }, threads);
    for (const r of report.results) {
      const c = list.find((x) => x.name === r.name)!;
      rows.push({
        section: SECTION,
        case: c.name,
        engine: `pytorch-cpu ${report.torch} (${report.threads} threads)`,
        ms: r.ms,
        timing: "wall",
        note: gbps(c.bytes, r.ms),
      });
      ctx.log(`${SECTION} ${c.name} [pytorch-cpu] ${r.ms.toFixed(3)} ms, ${gbps(c.bytes, r.ms)}`);
    }
    return rows;
  },
};
