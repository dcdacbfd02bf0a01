/**
 * Matmul benchmark: our register-tiled kernels (src/gpu/ops/matmul.ts) at square sizes and at the
 * model's real shapes in all three layouts, against tfjs-webgpu (same adapter, GPU timestamps) and
 * PyTorch CPU (same cores, wall clock), all in one run.
 *
 * Model shapes (rows = tokens):
 * - tiny preset (hidden 128, MLP 384, vocab 1024), 8 rollouts × 300 tokens = 2400 rows; weights
 *   are stored [out, in] (Hugging Face), so forward is NT, dx = dy·W is NN, dW = dyᵀ·x is TN.
 * - Qwen2.5-VL-3B (hidden 2048, MLP 11008, vocab 151936) with 64 rows (a prefill chunk) and the
 *   vocabulary projection with 4 rows (decoding); its 1.24 GB weight exceeds one storage binding,
 *   so our op splits it (tfjs cannot bind it and is skipped there).
 *
 * @module
 */
import { fill } from "../src/gpu/ops/fill.ts";
import { isCpuAdapter } from "../src/gpu/adapter.ts";
import { matmul, matmulStrategy, type MatmulTile } from "../src/gpu/ops/matmul.ts";
import { CommandRecorder } from "../src/gpu/recorder.ts";
import { numel, type Tensor } from "../src/gpu/tensor.ts";
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  gflops,
  type MatmulCase,
  matmulFlops,
  OURS,
  timeGpu,
} from "./lib.ts";
import { tfjsWebgpu, timeTfjsMatmul } from "./peers/tfjs.ts";
import { findTorchPython, runTorchMatmul } from "./peers/torch.ts";

const SECTION = "matmul";

const mm = (
  name: string,
  layout: MatmulCase["layout"],
  m: number,
  n: number,
  k: number,
): MatmulCase => ({
  name: `${name} ${layout} ${m}×${n}×${k}`,
  layout,
  batch: 1,
  m,
  n,
  k,
  broadcastB: true,
});

/** The cases of one run: `quick` keeps one of each kind. */
export const matmulCases = (quick: boolean): MatmulCase[] => {
  const sizes = quick ? [256, 512] : [256, 512, 1024];
  const squares = sizes.flatMap((s) =>
    (["NN", "NT", "TN"] as const).map((layout) => mm("square", layout, s, s, s))
  );
  if (quick) squares.push(mm("square", "NN", 1024, 1024, 1024));
  const tokens = 2400;
  const tiny = [
    mm("tiny attn.q fwd", "NT", tokens, 128, 128),
    mm("tiny mlp.up fwd", "NT", tokens, 384, 128),
    mm("tiny mlp.down fwd", "NT", tokens, 128, 384),
    mm("tiny lm_head fwd", "NT", tokens, 1024, 128),
    mm("tiny mlp.up dx", "NN", tokens, 128, 384),
    mm("tiny mlp.up dW", "TN", 384, 128, tokens),
    mm("tiny lm_head dx", "NN", tokens, 128, 1024),
    mm("tiny lm_head dW", "TN", 1024, 128, tokens),
    // A batched attention-shaped product: 8 heads of scores Q·Kᵀ, 300×300 with head dim 32.
    { ...mm("tiny attn scores", "NT", 300, 300, 32), batch: 8, broadcastB: false },
  ];
  const rows = 64;
  const qwen = [
    mm("qwen3b attn.q fwd", "NT", rows, 2048, 2048),
    mm("qwen3b mlp.up fwd", "NT", rows, 11008, 2048),
    mm("qwen3b mlp.down fwd", "NT", rows, 2048, 11008),
    mm("qwen3b mlp.up dx", "NN", rows, 2048, 11008),
    mm("qwen3b mlp.up dW", "TN", 11008, 2048, rows),
    mm("qwen3b lm_head fwd", "NT", 4, 151936, 2048),
  ];
  if (quick) {
    return [...squares, tiny[1]!, tiny[4]!, tiny[5]!, tiny[8]!, qwen[1]!];
  }
  return [...squares, ...tiny, ...qwen];
};

const operandShapes = (c: MatmulCase) => {
  const lead = c.batch > 1 ? [c.batch] : [];
  return {
    a: [...lead, ...(c.layout === "TN" ? [c.k, c.m] : [c.m, c.k])],
    b: [...(c.broadcastB ? [] : lead), ...(c.layout === "NT" ? [c.n, c.k] : [c.k, c.n])],
    c: [...lead, c.m, c.n],
  };
};

/** `fill` in binding-sized pieces (the Qwen vocabulary projection's weight is 1.24 GB). */
const fillChunked = (rec: CommandRecorder, t: Tensor, value: number): void => {
  const count = numel(t.shape);
  const chunk = Math.floor(rec.runtime.maxBindingBytes / 4 / 64) * 64;
  for (let start = 0; start < count; start += chunk) {
    const length = Math.min(chunk, count - start);
    fill(rec, { ...t, shape: [length], offset: t.offset + start * 4 }, value);
  }
};

/** Times our matmul on one case (operands filled on the GPU; timing does not depend on values). */
const timeOurs = async (
  ctx: BenchContext,
  c: MatmulCase,
  reps: number,
  extra: { tile?: MatmulTile; viaNT?: boolean } = {},
): Promise<{ ms: number; timing: BenchRow["timing"] }> => {
  const shapes = operandShapes(c);
  const tensors: Tensor[] = [shapes.a, shapes.b, shapes.c].map((s) => ctx.rt.createTensor(s));
  const [a, b, out] = tensors as [Tensor, Tensor, Tensor];
  try {
    const setup = new CommandRecorder(ctx.rt, "bench-setup");
    fillChunked(setup, a, 0.5);
    fillChunked(setup, b, 0.25);
    setup.submit();
    const options = { layout: c.layout, ...extra };
    return await timeGpu(ctx.rt, (rec) => matmul(rec, a, b, out, options), { warmup: 1, reps });
  } finally {
    for (const t of tensors) t.buffer.destroy();
  }
};

const tileName = (t: MatmulTile) => `${t.tm}×${4 * t.tn4}`;

/** Tile sweep at 1024³ NT: how much the per-invocation tile matters on this adapter. */
const SWEEP: ReadonlyArray<MatmulTile> = [
  { tm: 16, tn4: 4 },
  { tm: 8, tn4: 4 },
  { tm: 16, tn4: 2 },
  { tm: 8, tn4: 2 },
  { tm: 4, tn4: 4 },
];

/** How our op runs a case: the NT detour (CPU adapters) or not, and the kernel's tile. */
const describeOurs = (ctx: BenchContext, c: MatmulCase, viaNT?: boolean): string => {
  const strategy = matmulStrategy(ctx.rt, c.layout, c, viaNT === undefined ? {} : { viaNT });
  return `${strategy.viaNT ? "transposes + NT, " : ""}tile ${tileName(strategy.tile)}`;
};

/** The matmul section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx) {
    const cases = matmulCases(ctx.quick);
    const reps = ctx.quick ? 3 : 5;
    const rows: BenchRow[] = [];
    const add = (row: BenchRow) => {
      rows.push(row);
      const rate = row.flops ? ` ${gflops(row.flops, row.ms).toFixed(2)} GFLOP/s` : "";
      ctx.log(`${row.section} ${row.case} [${row.engine}] ${row.ms.toFixed(3)} ms${rate}`);
    };
    const tfjs = await tfjsWebgpu();
    if (!tfjs.ok) ctx.log(`tfjs-webgpu skipped: ${tfjs.reason}`);

    // Ours and tfjs alternate case by case, so that load changes on a shared machine hit both.
    for (const c of cases) {
      const flops = matmulFlops(c.m, c.n, c.k, c.batch);
      const ours = await timeOurs(ctx, c, reps);
      add({
        section: SECTION,
        case: c.name,
        engine: OURS,
        flops,
        ...ours,
        note: describeOurs(ctx, c),
      });
      if (!ctx.quick && c.layout !== "NT" && isCpuAdapter(ctx.rt.device)) {
        const direct = await timeOurs(ctx, c, reps, { viaNT: false });
        add({
          section: SECTION,
          case: c.name,
          engine: `ours, direct ${c.layout} kernel`,
          flops,
          ...direct,
          note: describeOurs(ctx, c, false),
        });
      }
      // tfjs asks for WebGPU's default limits: one binding holds at most 128 MiB.
      if (!tfjs.ok) continue;
      if (c.n * c.k * 4 > 128 * 1024 * 1024) {
        ctx.log(`tfjs-webgpu skips ${c.name}: B exceeds its 128 MiB binding`);
        continue;
      }
      const ms = await timeTfjsMatmul(tfjs.tf, c, { warmup: 1, reps: ctx.quick ? 2 : 3 });
      add({
        section: SECTION,
        case: c.name,
        engine: "tfjs-webgpu 4.22.0",
        ms,
        flops,
        timing: "gpu-timestamp",
      });
    }
    if (!ctx.quick) {
      const c = mm("square", "NT", 1024, 1024, 1024);
      for (const tile of SWEEP) {
        const { ms, timing } = await timeOurs(ctx, c, 3, { tile });
        add({
          section: SECTION,
          case: c.name,
          engine: `ours, tile ${tileName(tile)}`,
          ms,
          flops: matmulFlops(c.m, c.n, c.k),
          timing,
          note: "tile sweep",
        });
      }
    }

    const python = await findTorchPython();
    if (python === undefined) ctx.log("PyTorch CPU skipped: no python3 can import torch");
    else {
      const threads = navigator.hardwareConcurrency;
      const report = await runTorchMatmul(python, cases, threads, { warmup: 2, reps });
      ctx.log(`PyTorch ${report.torch}, ${report.threads} threads, BLAS: ${report.blas}`);
      for (const r of report.results) {
        const c = cases.find((x) => x.name === r.name)!;
        add({
          section: SECTION,
          case: c.name,
          engine: `pytorch-cpu ${report.torch} (${report.threads} threads)`,
          ms: r.ms,
          flops: matmulFlops(c.m, c.n, c.k, c.batch),
          timing: "wall",
          note: report.blas.includes("openblas") ? "OpenBLAS" : `BLAS: ${report.blas}`,
        });
      }
    }
    return rows;
  },
};
