/**
 * Attention benchmark: our fused forward and backward (src/gpu/ops/attention.ts) against, in the
 * same run, a three-kernel composition built from our own matmul and softmax (QKᵀ, softmax, PV;
 * its backward from five matmuls and the softmax backward), tfjs-webgpu's matMul/softmax/matMul on
 * the same adapter, and PyTorch CPU on the same cores.
 *
 * Shapes: D = 64, B = 1 with 8 heads (B·H = 8), T = S ∈ {128, 512} (add 1024 with `--long`),
 * causal and full masks. FLOPs: forward 4·B·H·T²·D (halved for causal: the fused kernel skips
 * fully masked tiles), backward 2.5× the forward. The composition and tfjs have no mask support
 * in their kernels, so they always do the full T×T work; the composition is timed in the causal
 * cases too (the comparison issue #2 sets: fused causal against the unmasked composition), tfjs
 * in the full-mask forward only.
 * Ours uses the model's [B, T, H, D] layout; the compositions use [B·H, T, D]. Decode rows time
 * one generated token of 8 sequences (the tiny model's 4 query / 2 KV heads) against a KV cache.
 *
 * @module
 */
import { attentionBackward, attentionForward } from "../src/gpu/ops/attention.ts";
import { fill } from "../src/gpu/ops/fill.ts";
import { matmul } from "../src/gpu/ops/matmul.ts";
import { softmaxBackward, softmaxForward } from "../src/gpu/ops/softmax.ts";
import { CommandRecorder } from "../src/gpu/recorder.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  gflops,
  median,
  OURS,
  timeGpu,
} from "./lib.ts";
import { tfjsWebgpu } from "./peers/tfjs.ts";
import { findTorchPython } from "./peers/torch.ts";

const SECTION = "attention";
const HEAD_DIM = 64;
const HEADS = 8;
/** Engine name of the three-kernel composition from our own matmul and softmax. */
const COMPOSITION = "ours 3-kernel (matmul, softmax, matmul)";

/** One measured configuration. */
interface AttentionCase {
  readonly name: string;
  readonly direction: "fwd" | "bwd";
  readonly causal: boolean;
  readonly t: number;
}

/** FLOPs of one call: 4·B·H·T²·D forward (halved for causal), 2.5× that backward. */
export const attentionFlops = (c: Pick<AttentionCase, "direction" | "causal" | "t">): number => {
  const forward = 4 * HEADS * c.t * c.t * HEAD_DIM * (c.causal ? 0.5 : 1);
  return c.direction === "fwd" ? forward : 2.5 * forward;
};

/** The cases of one run: T ∈ {128, 512} (+1024 with `long`), both directions and masks. */
export const attentionCases = (quick: boolean, long: boolean): AttentionCase[] => {
  const lengths = quick ? [512] : long ? [128, 512, 1024] : [128, 512];
  return lengths.flatMap((t) =>
    (["fwd", "bwd"] as const).flatMap((direction) =>
      [false, true].map((causal) => ({
        name: `${direction} ${causal ? "causal" : "full"} T=${t} B·H=${HEADS} D=${HEAD_DIM}`,
        direction,
        causal,
        t,
      }))
    )
  );
};

/** Tensors of one case, filled on the GPU with values that keep the softmax non-degenerate. */
const allocate = (rt: GpuRuntime, shapes: ReadonlyArray<ReadonlyArray<number>>): Tensor[] => {
  const tensors = shapes.map((s) => rt.createTensor(s));
  const setup = new CommandRecorder(rt, "bench-setup");
  tensors.forEach((t, i) => fill(setup, t, 0.01 * (i + 1)));
  setup.submit();
  return tensors;
};

/** Times our fused kernel on one case ([1, T, H, D] tensors). */
const timeFused = async (ctx: BenchContext, c: AttentionCase, reps: number) => {
  const act = [1, c.t, HEADS, HEAD_DIM];
  const tensors = allocate(ctx.rt, [act, act, act, act, [1, HEADS, c.t], act, act, act, act]);
  const [q, k, v, o, lse, dO, dQ, dK, dV] = tensors as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const options = { mask: { kind: c.causal ? "causal" : "full" } } as const;
  try {
    // The backward reads the forward's O and L.
    const prep = new CommandRecorder(ctx.rt, "bench-setup");
    attentionForward(prep, q, k, v, o, lse, options);
    prep.submit();
    return await timeGpu(
      ctx.rt,
      (rec) =>
        c.direction === "fwd"
          ? attentionForward(rec, q, k, v, o, lse, options)
          : attentionBackward(rec, q, k, v, o, lse, dO, dQ, dK, dV, options),
      { warmup: 1, reps },
    );
  } finally {
    for (const t of tensors) t.buffer.destroy();
  }
};

/**
 * Times the composition on one case ([B·H, T, D] tensors):
 * forward S = scale·QKᵀ, P = softmax(S), O = PV;
 * backward dV = PᵀdO, dP = dO Vᵀ, dS = softmax'(dP), dQ = scale·dS K, dK = scale·dSᵀQ.
 */
const timeComposition = async (ctx: BenchContext, c: AttentionCase, reps: number) => {
  const act = [HEADS, c.t, HEAD_DIM];
  const scores = [HEADS, c.t, c.t];
  const tensors = allocate(ctx.rt, [act, act, act, act, scores, scores, act, scores, act, act]);
  const [q, k, v, o, s, p, dO, dP, dQ, dK] = tensors as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const scale = 1 / Math.sqrt(HEAD_DIM);
  const forward = (rec: CommandRecorder) => {
    matmul(rec, q, k, s, { layout: "NT", alpha: scale });
    softmaxForward(rec, s, p);
    matmul(rec, p, v, o);
  };
  // dS overwrites S and dV overwrites O: neither is read again in the backward.
  const backward = (rec: CommandRecorder) => {
    matmul(rec, p, dO, o, { layout: "TN" });
    matmul(rec, dO, v, dP, { layout: "NT" });
    softmaxBackward(rec, p, dP, s);
    matmul(rec, s, k, dQ, { alpha: scale });
    matmul(rec, s, q, dK, { layout: "TN", alpha: scale });
  };
  try {
    const prep = new CommandRecorder(ctx.rt, "bench-setup");
    forward(prep);
    prep.submit();
    return await timeGpu(ctx.rt, c.direction === "fwd" ? forward : backward, { warmup: 1, reps });
  } finally {
    for (const t of tensors) t.buffer.destroy();
  }
};

/** Decoding with a KV cache: the tiny model's GQA shape, `rollouts` sequences, one new token. */
const DECODE = { rollouts: 8, queryHeads: 4, kvHeads: 2 } as const;

/** Times one decode step (T = 1 against `keys` cached keys, causal) of our fused forward. */
const timeDecode = async (ctx: BenchContext, keys: number, reps: number) => {
  const { rollouts: b, queryHeads: hq, kvHeads: hkv } = DECODE;
  const tensors = allocate(ctx.rt, [
    [b, 1, hq, HEAD_DIM],
    [b, keys, hkv, HEAD_DIM],
    [b, keys, hkv, HEAD_DIM],
    [b, 1, hq, HEAD_DIM],
    [b, hq, 1],
  ]);
  const [q, k, v, o, lse] = tensors as [Tensor, Tensor, Tensor, Tensor, Tensor];
  try {
    return await timeGpu(
      ctx.rt,
      (rec) => attentionForward(rec, q, k, v, o, lse, { mask: { kind: "causal" } }),
      { warmup: 1, reps },
    );
  } finally {
    for (const t of tensors) t.buffer.destroy();
  }
};

type Tf = typeof import("@tensorflow/tfjs-core");

/** Median GPU kernel milliseconds of tfjs's matMul (scaled), softmax, matMul forward. */
const timeTfjs = async (tf: Tf, c: AttentionCase, reps: number): Promise<number> => {
  const [q, k, v] = [0, 1, 2].map(() => tf.randomUniform([HEADS, c.t, HEAD_DIM]));
  const scale = tf.scalar(1 / Math.sqrt(HEAD_DIM));
  const run = () => tf.matMul(tf.softmax(tf.mul(tf.matMul(q!, k!, false, true), scale)), v!);
  try {
    const samples: number[] = [];
    for (let i = 0; i <= reps; i++) {
      let out: ReturnType<typeof run> | undefined;
      const info = await tf.time(() => {
        out = tf.tidy(run);
      });
      await out?.data();
      out?.dispose();
      if (i > 0) samples.push(info.kernelMs as number);
    }
    return median(samples);
  } finally {
    for (const t of [q, k, v, scale]) t?.dispose();
  }
};

/** What bench/peers/attention_torch.py reports. */
interface TorchAttentionReport {
  readonly torch: string;
  readonly threads: number;
  readonly kernel: string;
  readonly results: ReadonlyArray<{ readonly name: string; readonly ms: number }>;
}

const runTorch = async (
  python: string,
  cases: ReadonlyArray<AttentionCase>,
  threads: number,
  reps: number,
): Promise<TorchAttentionReport> => {
  const script = new URL("./peers/attention_torch.py", import.meta.url).pathname;
  const child = new Deno.Command(python, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // OpenBLAS ignores torch.set_num_threads; without PASSIVE waits 2-thread runs get ~3× slower.
    env: {
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      OMP_WAIT_POLICY: "PASSIVE",
    },
  }).spawn();
  const request = {
    warmup: 1,
    reps,
    cases: cases.map((c) => ({
      name: c.name,
      direction: c.direction,
      causal: c.causal,
      batch_heads: HEADS,
      t: c.t,
      d: HEAD_DIM,
    })),
  };
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`attention_torch.py failed: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as TorchAttentionReport;
};

const tokensPerSecond = (t: number, ms: number) => `${Math.round(t / (ms / 1000))} tokens/s`;

/** The attention section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx) {
    const cases = attentionCases(ctx.quick, Deno.args.includes("--long"));
    const reps = ctx.quick ? 3 : 5;
    const rows: BenchRow[] = [];
    const add = (
      c: AttentionCase,
      engine: string,
      ms: number,
      timing: BenchRow["timing"],
      note = "",
    ) => {
      const row: BenchRow = {
        section: SECTION,
        case: c.name,
        engine,
        ms,
        flops: attentionFlops(c),
        timing,
        note: [tokensPerSecond(c.t, ms), note].filter((x) => x.length > 0).join("; "),
      };
      rows.push(row);
      ctx.log(
        `${c.name} [${engine}] ${ms.toFixed(3)} ms ${gflops(row.flops!, ms).toFixed(2)} GFLOP/s`,
      );
    };

    const tfjs = await tfjsWebgpu();
    if (!tfjs.ok) ctx.log(`tfjs-webgpu skipped: ${tfjs.reason}`);
    for (const c of cases) {
      const fused = await timeFused(ctx, c, reps);
      add(c, OURS, fused.ms, fused.timing, "fused");
      const composed = await timeComposition(ctx, c, reps);
      add(c, COMPOSITION, composed.ms, composed.timing, c.causal ? "no mask: full T×T work" : "");
      if (tfjs.ok && c.direction === "fwd" && !c.causal) {
        add(
          c,
          "tfjs-webgpu 4.22.0",
          await timeTfjs(tfjs.tf, c, reps),
          "gpu-timestamp",
          "matMul, softmax, matMul",
        );
      }
    }

    for (const keys of ctx.quick ? [1024] : [256, 1024]) {
      const { rollouts: b, queryHeads: hq, kvHeads: hkv } = DECODE;
      const name = `decode T=1 S=${keys} B=${b} Hq=${hq} Hkv=${hkv} D=${HEAD_DIM}`;
      const { ms, timing } = await timeDecode(ctx, keys, reps);
      const flops = 4 * b * hq * keys * HEAD_DIM;
      rows.push({
        section: SECTION,
        case: name,
        engine: OURS,
        ms,
        flops,
        timing,
        note: `fused; ${Math.round(b / (ms / 1000))} tokens/s (one new token per sequence)`,
      });
      ctx.log(`${name} [${OURS}] ${ms.toFixed(3)} ms ${gflops(flops, ms).toFixed(2)} GFLOP/s`);
    }

    const python = await findTorchPython();
    if (python === undefined) ctx.log("PyTorch CPU skipped: no python3 can import torch");
    else {
      const threads = navigator.hardwareConcurrency;
      const report = await runTorch(python, cases, threads, reps);
      ctx.log(`PyTorch ${report.torch}, ${report.threads} threads, ${report.kernel}`);
      for (const r of report.results) {
        const c = cases.find((x) => x.name === r.name)!;
        add(
          c,
          `pytorch-cpu ${report.torch} (${report.threads} threads)`,
          r.ms,
          "wall",
          report.kernel,
        );
      }
    }
    return rows;
  },
};
