/**
 * Memory-bound kernels of the model: RMSNorm, rotary embeddings, embedding gather/scatter,
 * cross-entropy, sampling. One row per op and shape, timed by GPU timestamps; the note gives the
 * effective bandwidth (bytes the op must move at least, divided by its time). The same ops written
 * as Hugging Face writes them run in PyTorch CPU (bench/peers/misc_torch.py, wall clock, all CPU
 * threads) in the same run when a Python with torch exists.
 *
 * Shapes: the tiny preset (hidden 128, 4 heads × 32, vocab 1024) at 8 rollouts × 300 tokens =
 * 2400 rows, and Qwen2.5-VL-3B's vocabulary (151,936) for the loss and the sampler at a few rows.
 *
 * @module
 */
import { Arena } from "../src/gpu/buffer_pool.ts";
import {
  crossEntropyBackward,
  crossEntropyForward,
  tokenLogProbs,
} from "../src/gpu/ops/cross_entropy.ts";
import { embeddingBackward, embeddingForward } from "../src/gpu/ops/embedding.ts";
import { rmsNormBackward, rmsNormForward } from "../src/gpu/ops/rmsnorm.ts";
import { applyRotary } from "../src/gpu/ops/rope.ts";
import { textRotaryTable } from "../src/gpu/ops/rope_tables.ts";
import { sampleTokens } from "../src/gpu/ops/sample.ts";
import type { CommandRecorder } from "../src/gpu/recorder.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import { type BenchContext, type BenchRow, type BenchSection, OURS, timeGpu } from "./lib.ts";
import { findTorchPython } from "./peers/torch.ts";

const SECTION = "misc";

/** A tensor of uniform values in [-scale, scale) from a fixed LCG (contents only need variety). */
const filled = (rt: GpuRuntime, shape: number[], scale = 1): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32 * 2 - 1) * scale;
  }
  return rt.createTensor(shape, "f32", data);
};

const ids = (rt: GpuRuntime, n: number, vocab: number): Tensor =>
  rt.createTensor([n], "u32", Uint32Array.from({ length: n }, (_, i) => (i * 7919) % vocab));

/** The same op for bench/peers/misc_torch.py (see its docstring for kinds and shapes). */
interface PeerCase {
  readonly kind: string;
  readonly shape: ReadonlyArray<number>;
  readonly top_p?: number;
}

interface Case {
  readonly name: string;
  /** Bytes the op reads and writes at minimum. */
  readonly bytes: number;
  readonly record: (rec: CommandRecorder) => void;
  readonly peer?: PeerCase;
}

const cases = (rt: GpuRuntime, arena: Arena, quick: boolean): Case[] => {
  const rows = 2400, hidden = 128, heads = 4, headDim = 32, vocab = 1024;
  const x = filled(rt, [rows, hidden]);
  const w = filled(rt, [hidden]);
  const y = rt.createTensor([rows, hidden]);
  const rstd = rt.createTensor([rows]);
  const dx = rt.createTensor([rows, hidden]);
  const dw = rt.createTensor([hidden]);
  const q = filled(rt, [8, 300, heads, headDim]);
  const table = rt.createTensor(
    [1, 300, headDim / 2, 2],
    "f32",
    textRotaryTable(Array.from({ length: 300 }, (_, t) => t), headDim, 10000),
  );
  const tokenIds = ids(rt, rows, vocab);
  const embTable = filled(rt, [vocab, hidden]);
  const dTable = rt.createTensor([vocab, hidden]);
  const logits = filled(rt, [rows, vocab], 4);
  const dlogits = rt.createTensor([rows, vocab]);
  const stats = () => ({
    lse: rt.createTensor([rows]),
    logp: rt.createTensor([rows]),
    entropy: rt.createTensor([rows]),
    summary: rt.createTensor([2]),
  });
  const s = stats();
  const f = 4;
  const list: Case[] = [
    {
      name: `rmsnorm fwd [${rows}, ${hidden}]`,
      bytes: 2 * rows * hidden * f,
      record: (rec) => rmsNormForward(rec, { x, weight: w, y, rstd }, 1e-6),
      peer: { kind: "rmsnorm_fwd", shape: [rows, hidden] },
    },
    {
      name: `rmsnorm bwd [${rows}, ${hidden}]`,
      bytes: 3 * rows * hidden * f,
      record: (rec) => {
        rmsNormBackward(rec, arena, { x, weight: w, rstd, dy: y, dx, dweight: dw });
        arena.reset();
      },
      peer: { kind: "rmsnorm_bwd", shape: [rows, hidden] },
    },
    {
      name: `rope in place [8, 300, ${heads}, ${headDim}]`,
      bytes: 2 * 8 * 300 * heads * headDim * f,
      record: (rec) =>
        applyRotary(rec, {
          x: q,
          layout: { batch: 8, tokens: 300, heads, headDim },
          table,
        }),
      peer: { kind: "rope", shape: [8, 300, heads, headDim] },
    },
    {
      name: `embedding fwd N=${rows} [${vocab}, ${hidden}]`,
      bytes: 2 * rows * hidden * f,
      record: (rec) => embeddingForward(rec, tokenIds, embTable, y),
      peer: { kind: "embedding_fwd", shape: [rows, vocab, hidden] },
    },
    {
      name: `embedding bwd N=${rows} [${vocab}, ${hidden}]`,
      bytes: (rows + vocab) * hidden * f,
      record: (rec) => {
        embeddingBackward(rec, arena, { ids: tokenIds, dout: x, dtable: dTable });
        arena.reset();
      },
      peer: { kind: "embedding_bwd", shape: [rows, vocab, hidden] },
    },
    {
      name: `cross-entropy fwd [${rows}, ${vocab}]`,
      bytes: rows * vocab * f,
      record: (rec) => crossEntropyForward(rec, logits, tokenIds, s),
      peer: { kind: "cross_entropy_fwd", shape: [rows, vocab] },
    },
    {
      name: `cross-entropy bwd [${rows}, ${vocab}]`,
      bytes: 2 * rows * vocab * f,
      record: (rec) =>
        crossEntropyBackward(rec, {
          logits,
          targets: tokenIds,
          lse: s.lse,
          summary: s.summary,
          dlogits,
        }),
      peer: { kind: "cross_entropy_bwd", shape: [rows, vocab] },
    },
  ];
  const sampleRows = 8;
  const sampled = {
    tokens: rt.createTensor([sampleRows], "u32"),
    logp: rt.createTensor([sampleRows]),
    logpRaw: rt.createTensor([sampleRows]),
  };
  const tinyLogits = filled(rt, [sampleRows, vocab], 4);
  list.push(
    {
      name: `sample T=1 top-p 0.9 [${sampleRows}, ${vocab}]`,
      bytes: sampleRows * vocab * f,
      record: (rec) =>
        sampleTokens(rec, tinyLogits, sampled, { temperature: 1, topP: 0.9, seed: 1, step: 0 }),
      peer: { kind: "sample_top_p", shape: [sampleRows, vocab], top_p: 0.9 },
    },
    {
      name: `sample T=1 no top-p [${sampleRows}, ${vocab}]`,
      bytes: sampleRows * vocab * f,
      record: (rec) => sampleTokens(rec, tinyLogits, sampled, { temperature: 1, seed: 1, step: 0 }),
    },
  );
  // The brief's scaling points for the scatter-add: 4k tokens into a 2k vocabulary, and into
  // Qwen's 151,936 rows (hidden 64 here to keep the table small on a CPU adapter).
  for (const [n, v, d] of quick ? [[4096, 2048, 128]] : [[4096, 2048, 128], [4096, 151936, 64]]) {
    const tok = ids(rt, n!, v!);
    const grad = filled(rt, [n!, d!]);
    const dtab = rt.createTensor([v!, d!]);
    list.push({
      name: `embedding bwd N=${n} [${v}, ${d}]`,
      bytes: (n! + v!) * d! * f,
      record: (rec) => {
        embeddingBackward(rec, arena, { ids: tok, dout: grad, dtable: dtab });
        arena.reset();
      },
      peer: { kind: "embedding_bwd", shape: [n!, v!, d!] },
    });
  }
  if (!quick) {
    const qwenVocab = 151936, qwenRows = 16;
    const big = filled(rt, [qwenRows, qwenVocab], 8);
    const bigTargets = ids(rt, qwenRows, qwenVocab);
    const bigStats = {
      lse: rt.createTensor([qwenRows]),
      logp: rt.createTensor([qwenRows]),
      entropy: rt.createTensor([qwenRows]),
    };
    const bigSampled = {
      tokens: rt.createTensor([qwenRows], "u32"),
      logp: rt.createTensor([qwenRows]),
      logpRaw: rt.createTensor([qwenRows]),
    };
    list.push(
      {
        name: `token log-probs [${qwenRows}, ${qwenVocab}]`,
        bytes: qwenRows * qwenVocab * f,
        record: (rec) => tokenLogProbs(rec, big, bigTargets, bigStats),
        peer: { kind: "token_logprobs", shape: [qwenRows, qwenVocab] },
      },
      {
        name: `sample T=1 top-p 0.9 [${qwenRows}, ${qwenVocab}]`,
        bytes: qwenRows * qwenVocab * f,
        record: (rec) =>
          sampleTokens(rec, big, bigSampled, { temperature: 1, topP: 0.9, seed: 1, step: 0 }),
        peer: { kind: "sample_top_p", shape: [qwenRows, qwenVocab], top_p: 0.9 },
      },
      {
        name: `argmax [${qwenRows}, ${qwenVocab}]`,
        bytes: qwenRows * qwenVocab * f,
        record: (rec) => sampleTokens(rec, big, bigSampled, { temperature: 0, seed: 1, step: 0 }),
        peer: { kind: "argmax", shape: [qwenRows, qwenVocab] },
      },
    );
  }
  return list;
};

const PEER_SCRIPT = new URL("./peers/misc_torch.py", import.meta.url).pathname;

/** Runs the peer cases in one PyTorch process with every CPU thread; undefined without torch. */
const runTorchPeer = async (
  cases: ReadonlyArray<Case>,
  reps: number,
): Promise<{ threads: number; ms: Map<string, number> } | undefined> => {
  const python = await findTorchPython();
  if (python === undefined) return undefined;
  const threads = String(navigator.hardwareConcurrency);
  const child = new Deno.Command(python, {
    args: [PEER_SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // OpenBLAS ignores torch.set_num_threads; busy-waiting OpenMP threads slow 2-thread runs ~3×.
    env: { OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, OMP_WAIT_POLICY: "PASSIVE" },
  }).spawn();
  const request = {
    warmup: 1,
    reps,
    cases: cases.flatMap((c) => c.peer === undefined ? [] : [{ name: c.name, ...c.peer }]),
  };
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`misc_torch.py failed: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(stdout)) as {
    threads: number;
    results: { name: string; ms: number }[];
  };
  return { threads: report.threads, ms: new Map(report.results.map((r) => [r.name, r.ms])) };
};

/** The misc-kernel section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const arena = new Arena(ctx.rt.pool);
    const rows: BenchRow[] = [];
    const all = cases(ctx.rt, arena, ctx.quick);
    const reps = ctx.quick ? 3 : 7;
    for (const c of all) {
      const { ms, timing } = await timeGpu(ctx.rt, c.record, { warmup: 1, reps });
      const gbps = c.bytes / (ms * 1e6);
      ctx.log(`${c.name}: ${ms.toFixed(3)} ms, ${gbps.toFixed(2)} GB/s`);
      rows.push({
        section: SECTION,
        case: c.name,
        engine: OURS,
        ms,
        timing,
        note: `${gbps.toFixed(2)} GB/s effective (${(c.bytes / 1e6).toFixed(1)} MB moved)`,
      });
    }
    const peer = await runTorchPeer(all, reps);
    if (peer === undefined) {
      ctx.log("PyTorch CPU peer skipped: no python3 that can import torch");
      return rows;
    }
    for (const c of all) {
      const ms = peer.ms.get(c.name);
      if (ms === undefined) continue;
      ctx.log(`${c.name}: PyTorch CPU ${ms.toFixed(3)} ms`);
      rows.push({
        section: SECTION,
        case: c.name,
        engine: `pytorch-cpu (${peer.threads} threads)`,
        ms,
        timing: "wall",
        note: "Hugging Face formulation; backward rows time autograd.grad only",
      });
    }
    return rows;
  },
};
