/**
 * The whole `tiny` model: one SFT training step (forward, cross-entropy, backward, gradient norm,
 * AdamW), the prompt pass, greedy decoding with the KV cache, and evaluation throughput (records
 * per second through the harness's model predictor). Ours runs the WGSL model on the benchmark
 * adapter; the same architecture in plain PyTorch on the CPU (bench/peers/tiny_vlm_torch.py,
 * same dimensions, same batch shapes, 84×84 images) runs in the same run, and each case's ratio
 * is reported.
 *
 * Timing: whole steps and generation calls by wall clock (ours: submits plus the readback the
 * step needs, waiting until the GPU is idle; the peer: its own wall clock), and our forward +
 * backward alone by GPU timestamps where the adapter has them.
 *
 * @module
 */
import { Effect } from "effect";
import { encode as encodePng } from "fast-png";
import { Arena } from "../src/gpu/buffer_pool.ts";
import type { CommandRecorder } from "../src/gpu/recorder.ts";
import { predictRecords } from "../src/eval/model_predictor.ts";
import type { EvalRecord } from "../src/eval/record.ts";
import { recordSftLoss } from "../src/nn/sft_loss.ts";
import { packBatch, type SequenceSample } from "../src/nn/batch.ts";
import { parameterCount, PRESETS, type Qwen25VLConfig } from "../src/nn/config.ts";
import { generate } from "../src/nn/generate.ts";
import { processImage, type RgbImage } from "../src/nn/image_processor.ts";
import { initialWeights } from "../src/nn/init.ts";
import { AdamW } from "../src/nn/optimizer.ts";
import { optimizerStep } from "../src/nn/train_step.ts";
import { Vlm } from "../src/nn/vlm.ts";
import { processorSettings } from "../src/stages/model_setup.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  OURS,
  timeGpu,
  timeWall,
} from "./lib.ts";
import { findTorchPython } from "./peers/torch.ts";

const SECTION = "model";
const PRESET = PRESETS.tiny;
/** Threads the PyTorch peer gets: the whole machine, as the misc peer does. */
const PEER_THREADS = navigator.hardwareConcurrency;

/** Batch shapes of one benchmark run. */
export interface Shapes {
  readonly train: { readonly batch: number; readonly length: number };
  readonly decode: { readonly batch: number; readonly prompt: number; readonly newTokens: number };
  readonly evalRecords: number;
  readonly evalNewTokens: number;
  readonly reps: number;
}

const FULL: Shapes = {
  train: { batch: 4, length: 192 },
  decode: { batch: 4, prompt: 64, newTokens: 32 },
  evalRecords: 8,
  evalNewTokens: 32,
  reps: 3,
};
const QUICK: Shapes = {
  train: { batch: 2, length: 96 },
  decode: { batch: 2, prompt: 48, newTokens: 16 },
  evalRecords: 4,
  evalNewTokens: 16,
  reps: 2,
};

/** The shapes of a full (`quick` false) or quick run. */
export const benchShapes = (quick: boolean): Shapes => quick ? QUICK : FULL;

/** Scenes are 96×96 and the processor resizes them to 84×84: a 6×6 patch grid, 9 image tokens. */
const SCENE_SIDE = 96;

/** A deterministic LCG in [0, 1) (contents only need variety). */
const lcg = (seed: number) => {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
};

const noiseImage = (seed: number): RgbImage => {
  const next = lcg(seed);
  return {
    width: SCENE_SIDE,
    height: SCENE_SIDE,
    data: Uint8Array.from({ length: SCENE_SIDE * SCENE_SIDE * 3 }, () => Math.floor(next() * 256)),
  };
};

/**
 * `count` sequences of `length` tokens laid out as the PyTorch peer lays them out: two text
 * tokens, `<|vision_start|>`, the image pads, `<|vision_end|>`, then random text; loss from the
 * first token after the image block on.
 */
const sequences = (config: Qwen25VLConfig, count: number, length: number, seed: number) => {
  const next = lcg(seed);
  const image = processImage(noiseImage(seed));
  const start = 3;
  return Array.from({ length: count }, (): SequenceSample => {
    const tokens = Array.from({ length }, () => Math.floor(next() * config.bos_token_id));
    tokens[start - 1] = config.vision_start_token_id;
    tokens.fill(config.image_token_id, start, start + image.imageTokens);
    tokens[start + image.imageTokens] = config.vision_end_token_id;
    return { tokens, image, responseStart: start + image.imageTokens + 1 };
  });
};

/** Records forward, mean cross-entropy on response tokens and backward (as the SFT step does). */
const recordForwardBackward = (
  vlm: Vlm,
  arena: Arena,
  samples: ReadonlyArray<SequenceSample>,
) =>
(rec: CommandRecorder) =>
  recordSftLoss(rec, arena, vlm, packBatch(vlm.config, samples, PRESET.generation.pad_token_id));

/** What the PyTorch peer reports. */
interface PeerReport {
  readonly torch: string;
  readonly threads: number;
  readonly parameters: number;
  readonly ms: ReadonlyMap<string, number>;
}

const PEER_SCRIPT = new URL("./peers/tiny_vlm_torch.py", import.meta.url).pathname;

/**
 * Sends one JSON request to bench/peers/tiny_vlm_torch.py in `python` (see its docstring) with
 * `threads` CPU threads, and returns its parsed JSON answer.
 */
export const callTinyVlmPeer = async (
  python: string,
  request: Readonly<Record<string, unknown>>,
  threads = PEER_THREADS,
): Promise<unknown> => {
  const child = new Deno.Command(python, {
    args: [PEER_SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // OpenBLAS ignores torch.set_num_threads; busy-waiting OpenMP threads slow 2-thread runs ~3×.
    env: {
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      OMP_WAIT_POLICY: "PASSIVE",
    },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ ...request, threads })));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`tiny_vlm_torch.py failed: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
};

/**
 * Times the peer on the same shapes; undefined when no Python can import torch (Debian:
 * `apt-get install -y python3-torch`).
 */
export const runTinyVlmPeer = async (
  shapes: Shapes,
  grid: readonly [number, number, number],
  responseStart: number,
): Promise<PeerReport | undefined> => {
  const python = await findTorchPython();
  if (python === undefined) return undefined;
  const report = await callTinyVlmPeer(python, {
    config: PRESET.config,
    warmup: 1,
    reps: shapes.reps,
    train: { ...shapes.train, grid, response_start: responseStart },
    decode: {
      batch: shapes.decode.batch,
      prompt: shapes.decode.prompt,
      new_tokens: shapes.decode.newTokens,
      grid,
    },
  }) as {
    torch: string;
    threads: number;
    parameters: number;
    results: { name: string; ms: number }[];
  };
  return { ...report, ms: new Map(report.results.map((r) => [r.name, r.ms])) };
};

/** Benchmark records for the predictor: 96×96 PNG scenes with two-option questions. */
const evalRecords = (count: number): EvalRecord[] =>
  Array.from({ length: count }, (_, i) => {
    const image = noiseImage(100 + i);
    return {
      id: `${i}`,
      benchmark: "bench",
      category: "relation",
      question: `Is the red cube to the left of the blue sphere number ${i}?`,
      choices: ["yes", "no"],
      answer: "A",
      images: [{
        kind: "bytes" as const,
        bytes: encodePng({ ...image, channels: 3, depth: 8 }),
      }],
    };
  });

const rate = (count: number, ms: number) => (count / (ms / 1000)).toFixed(1);

/** The model section of `deno task bench`. */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const shapes = benchShapes(ctx.quick);
    const rt = ctx.rt;
    const config = PRESET.config;
    const vlm = new Vlm(rt, config, initialWeights(config, 1));
    const arena = new Arena(rt.pool);
    const rows: BenchRow[] = [];
    const { batch: B, length: T } = shapes.train;
    const train = sequences(config, B, T, 7);
    const trainCase = `train step ${B}×${T} tokens (fwd+bwd+AdamW)`;
    const optimizer = new AdamW(rt, vlm.params, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      maxGradNorm: 1,
    });
    const step = await timeWall(async () => {
      await optimizerStep(vlm, optimizer, arena, 1e-4, (rec) => [
        recordForwardBackward(vlm, arena, train)(rec),
      ]);
      await rt.device.queue.onSubmittedWorkDone();
    }, { warmup: 1, reps: shapes.reps });
    ctx.log(`${trainCase}: ${step.ms.toFixed(1)} ms, ${rate(B * T, step.ms)} tokens/s`);
    rows.push({
      section: SECTION,
      case: trainCase,
      engine: OURS,
      ms: step.ms,
      timing: "wall",
      note: `${rate(B * T, step.ms)} tokens/s; 2 submits, 1 readback`,
    });

    const fwdBwdCase = `forward+backward ${B}×${T} tokens`;
    const fwdBwd = await timeGpu(rt, (rec) => {
      vlm.params.zeroGrads(rec);
      recordForwardBackward(vlm, arena, train)(rec);
    }, { warmup: 1, reps: shapes.reps });
    arena.reset();
    ctx.log(`${fwdBwdCase}: ${fwdBwd.ms.toFixed(1)} ms (${fwdBwd.timing})`);
    rows.push({
      section: SECTION,
      case: fwdBwdCase,
      engine: OURS,
      ms: fwdBwd.ms,
      timing: fwdBwd.timing,
      note: `${rate(B * T, fwdBwd.ms)} tokens/s without the optimizer`,
    });

    const d = shapes.decode;
    const prompts = sequences(config, d.batch, d.prompt, 11).map((s) => ({
      ...s,
      responseStart: s.tokens.length,
    }));
    const options = {
      temperature: 0,
      seed: 1,
      stopTokens: [],
      padId: PRESET.generation.pad_token_id,
    };
    const prefillCase = `prefill ${d.batch}×${d.prompt} tokens`;
    const prefill = await timeWall(async () => {
      await generate(vlm, prompts, { ...options, maxNewTokens: 1 });
    }, { warmup: 1, reps: shapes.reps });
    const generateCase = `greedy generate ${d.batch}×(${d.prompt} + ${d.newTokens}) tokens`;
    const generated = await timeWall(async () => {
      await generate(vlm, prompts, { ...options, maxNewTokens: d.newTokens });
    }, { warmup: 1, reps: shapes.reps });
    // Decode rate: the steps after the first token, without the prompt pass.
    const decodeRate = (prefillMs: number, generateMs: number) =>
      `${rate(d.batch * (d.newTokens - 1), generateMs - prefillMs)} decode tokens/s`;
    ctx.log(`${prefillCase}: ${prefill.ms.toFixed(1)} ms`);
    ctx.log(
      `${generateCase}: ${generated.ms.toFixed(1)} ms, ${decodeRate(prefill.ms, generated.ms)}`,
    );
    rows.push(
      { section: SECTION, case: prefillCase, engine: OURS, ms: prefill.ms, timing: "wall" },
      {
        section: SECTION,
        case: generateCase,
        engine: OURS,
        ms: generated.ms,
        timing: "wall",
        note: `${decodeRate(prefill.ms, generated.ms)}; one readback per 16 steps`,
      },
    );

    const tokenizer = await Effect.runPromise(
      loadTokenizer(new URL("../data/tokenizer/tiny/tokenizer.json", import.meta.url).pathname),
    );
    const records = evalRecords(shapes.evalRecords);
    const evalCase = `evaluate ${records.length} records (eval prompt, ${shapes.evalNewTokens} ` +
      `new tokens, batch 8)`;
    let decoded = 0;
    const evaluation = await timeWall(async () => {
      const result = await Effect.runPromise(predictRecords(
        {
          vlm,
          tokenizer,
          processor: processorSettings(PRESET.preprocessor),
          // No stop tokens: every record decodes exactly evalNewTokens (fixed work per run).
          generation: { eos_token_id: [], pad_token_id: PRESET.generation.pad_token_id },
        },
        records,
        { promptStyle: "eval", batchSize: 8, maxNewTokens: shapes.evalNewTokens, seed: 1 },
      ));
      decoded = result.outputs.size;
    }, { warmup: 1, reps: shapes.reps });
    if (decoded !== records.length) {
      throw new Error(`${evalCase}: only ${decoded} of ${records.length} records decoded`);
    }
    ctx.log(
      `${evalCase}: ${evaluation.ms.toFixed(1)} ms, ${
        rate(records.length, evaluation.ms)
      } records/s`,
    );
    rows.push({
      section: SECTION,
      case: evalCase,
      engine: OURS,
      ms: evaluation.ms,
      timing: "wall",
      note: `${rate(records.length, evaluation.ms)} records/s (PNG decode, processor, ` +
        `tokenizer, generation)`,
    });

    const peer = await runTinyVlmPeer(shapes, train[0]!.image!.grid, train[0]!.responseStart);
    if (peer === undefined) {
      ctx.log(
        "PyTorch CPU peer skipped: no python3 that can import torch " +
          "(apt-get install -y python3-torch)",
      );
      return rows;
    }
    const ours = parameterCount(config);
    if (peer.parameters !== ours) {
      throw new Error(
        `tiny_vlm_torch.py has ${peer.parameters} parameters, the tiny preset ${ours}`,
      );
    }
    const engine = `pytorch-cpu ${peer.torch} (${peer.threads} threads)`;
    const peerRow = (name: string, caseName: string, note: (ms: number) => string) => {
      const ms = peer.ms.get(name);
      if (ms === undefined) throw new Error(`tiny_vlm_torch.py reported no ${name}`);
      ctx.log(`${caseName}: PyTorch CPU ${ms.toFixed(1)} ms`);
      rows.push({ section: SECTION, case: caseName, engine, ms, timing: "wall", note: note(ms) });
    };
    peerRow("train-step", trainCase, (ms) => `${rate(B * T, ms)} tokens/s; clip + torch AdamW`);
    peerRow("prefill", prefillCase, () => "no_grad prompt pass filling the KV cache");
    const peerPrefill = peer.ms.get("prefill")!;
    peerRow("generate", generateCase, (ms) => decodeRate(peerPrefill, ms));
    return rows;
  },
};
