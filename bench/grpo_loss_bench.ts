/**
 * The GRPO loss kernel (src/gpu/ops/grpo_loss.ts): per-token surrogate + k3 KL, dlogp and the
 * statistics, timed by GPU timestamps, beside the float64 host reference (src/rl/grpo_loss.ts)
 * on the same batch by wall clock. The note gives the effective bandwidth (36 bytes per token:
 * seven [N] inputs read, two [N] outputs written).
 *
 * Shapes: the tiny preset's rollout batch (8 × 300 tokens), the paper's 7B batch per update
 * (64 responses × 1024 tokens), and 512 × 2048 tokens.
 *
 * Add `section` to bench/run.ts, or run this file alone: `deno run -A bench/grpo_loss_bench.ts
 * [--quick]`.
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect";
import { makeGpu } from "../src/gpu/gpu.ts";
import {
  GRPO_STAT_COUNT,
  grpoLossGpu,
  type GrpoLossGpuInputs,
  type GrpoLossGpuOutputs,
  grpoLossPartialRows,
} from "../src/gpu/ops/grpo_loss.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { aggregationWeights } from "../src/rl/aggregation.ts";
import { grpoLoss as hostGrpoLoss, type GrpoLossOptions } from "../src/rl/grpo_loss.ts";
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  markdownTable,
  OURS,
  timeGpu,
  timeWall,
} from "./lib.ts";

const SECTION = "grpo";
const BYTES_PER_TOKEN = 36;
const HOST = "host float64 reference";

const OPTIONS: GrpoLossOptions = {
  clipLow: 0.2,
  clipHigh: 0.3,
  dualClip: 3,
  klCoef: 0.01,
  klEstimator: "low_var_kl",
  aggregation: "token-mean",
  maxResponseLength: 1024,
};

/** A [rows, cols] batch with ragged responses (fixed LCG: contents only need variety). */
const batch = (rows: number, cols: number) => {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const n = rows * cols;
  const logp = new Float64Array(n), oldLogp = new Float64Array(n), refLogp = new Float64Array(n);
  const mask = new Float64Array(n), entropy = new Float64Array(n);
  const advantages = Float64Array.from({ length: rows }, () => next() * 4 - 2);
  for (let i = 0; i < rows; i++) {
    const length = Math.floor((0.3 + 0.7 * next()) * cols);
    for (let t = 0; t < length; t++) {
      const k = i * cols + t;
      mask[k] = 1;
      logp[k] = -next() * 6;
      oldLogp[k] = logp[k]! + (next() - 0.5) * 0.6;
      refLogp[k] = logp[k]! + (next() - 0.5) * 0.4;
      entropy[k] = next() * 4;
    }
  }
  const tokenBatch = (values: Float64Array) => ({ rows, cols, values });
  const maskBatch = tokenBatch(mask);
  return {
    host: {
      logp: tokenBatch(logp),
      oldLogp: tokenBatch(oldLogp),
      refLogp: tokenBatch(refLogp),
      advantages,
      mask: maskBatch,
      entropy: tokenBatch(entropy),
    },
    weights: aggregationWeights(maskBatch, OPTIONS.aggregation, OPTIONS.maxResponseLength),
    advantagePerToken: Float64Array.from(
      { length: n },
      (_, k) => advantages[Math.floor(k / cols)]!,
    ),
  };
};

const upload = (rt: GpuRuntime, b: ReturnType<typeof batch>) => {
  const n = b.weights.length;
  const t = (values: Float64Array) => rt.createTensor([n], "f32", Float32Array.from(values));
  const inputs: GrpoLossGpuInputs = {
    logp: t(b.host.logp.values),
    oldLogp: t(b.host.oldLogp.values),
    refLogp: t(b.host.refLogp.values),
    advantage: t(b.advantagePerToken),
    mask: t(b.host.mask.values),
    weight: t(b.weights),
    entropy: t(b.host.entropy.values),
  };
  const out: GrpoLossGpuOutputs = {
    dlogp: rt.createTensor([n]),
    tokenLoss: rt.createTensor([n]),
    partials: rt.createTensor([grpoLossPartialRows(n), GRPO_STAT_COUNT]),
    stats: rt.createTensor([GRPO_STAT_COUNT]),
  };
  return { inputs, out };
};

/** The GRPO-loss section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const shapes = ctx.quick ? [[8, 300], [64, 1024]] : [[8, 300], [64, 1024], [512, 2048]];
    const reps = ctx.quick ? 3 : 9;
    const rows: BenchRow[] = [];
    for (const [responses, cols] of shapes as [number, number][]) {
      const name = `grpo loss + k3, ${responses}×${cols} tokens`;
      const b = batch(responses, cols);
      const { inputs, out } = upload(ctx.rt, b);
      const gpu = await timeGpu(ctx.rt, (rec) => grpoLossGpu(rec, inputs, out, OPTIONS), {
        warmup: 1,
        reps,
      });
      const gbps = (BYTES_PER_TOKEN * b.weights.length) / (gpu.ms * 1e6);
      ctx.log(`${name}: ${gpu.ms.toFixed(3)} ms, ${gbps.toFixed(2)} GB/s`);
      rows.push({
        section: SECTION,
        case: name,
        engine: OURS,
        ms: gpu.ms,
        timing: gpu.timing,
        note: `${gbps.toFixed(2)} GB/s effective`,
      });
      const host = await timeWall(() => {
        hostGrpoLoss(b.host, OPTIONS, b.weights);
        return Promise.resolve();
      }, { warmup: 1, reps: ctx.quick ? 3 : 5 });
      ctx.log(`${name}: host ${host.ms.toFixed(3)} ms`);
      rows.push({
        section: SECTION,
        case: name,
        engine: HOST,
        ms: host.ms,
        timing: "wall",
        note: "src/rl/grpo_loss.ts on the CPU, no upload or readback",
      });
    }
    return rows;
  },
};

if (import.meta.main) {
  const scope = Scope.makeUnsafe();
  const gpu = await Effect.runPromise(Scope.provide(makeGpu, scope));
  const rows = await section.run({
    rt: new GpuRuntime(gpu),
    adapterDescription: gpu.adapterDescription,
    quick: Deno.args.includes("--quick"),
    log: (line) => console.log(`  ${line}`),
  });
  console.log(`Adapter: ${gpu.adapterDescription}\n\n${markdownTable(rows)}`);
  await Effect.runPromise(Scope.close(scope, Exit.void));
}
