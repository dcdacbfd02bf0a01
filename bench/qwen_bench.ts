/**
 * Prefill and decode speed of a random model with the published Qwen2.5-VL-3B dimensions
 * (hidden 2048, GQA 16/2 heads, MLP 11008, vocab 151,936 — a 1.24 GB f32 embedding that is also
 * the LM head, bound in blocks on adapters with a 128 MiB binding limit; vision 1280 wide,
 * 3420 MLP, 2×2 merger) on this machine's adapter.
 *
 * The full 36 decoder layers and 32 vision blocks (15 GB of f32 weights) do not fit beside
 * everything else on a small machine, so the model is built with one decoder layer and one vision
 * block, and the parts are timed on their own with GPU timestamps: one decoder layer over the
 * prompt (prefill) and over one token against a KV cache (decode), the LM head with the embedding
 * gather and the sampler (once per token), and the vision tower with no block, one windowed and
 * one full-attention block for a 504×504 image (1,296 patches, ragged windows). The full model is then
 * 36 layers + head, and 28 windowed + 4 full blocks + the rest of the tower; those rows say
 * "estimated". End-to-end `generate` at one layer is timed by wall clock too (it adds the
 * per-chunk readback).
 *
 * The language model is timed twice in the same run: with bf16 weights (what a BF16 checkpoint
 * such as the published 3B gets by default: matrices packed two per u32 and widened in the
 * kernels; engine "ours") and with f32 weights ("ours, f32 weights"), so the table's
 * "ours × faster" column is the f32 / bf16 time ratio. The vision tower is timed with bf16 weights.
 *
 * ```
 * deno run -A bench/qwen_bench.ts           # prints the rows; --quick for fewer repetitions
 * ```
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect";
import { Arena } from "../src/gpu/buffer_pool.ts";
import { embeddingForward } from "../src/gpu/ops/embedding.ts";
import { mropeTable } from "../src/gpu/ops/rope_tables.ts";
import { sampleTokens } from "../src/gpu/ops/sample.ts";
import { makeGpu } from "../src/gpu/gpu.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import { packBatch } from "../src/nn/batch.ts";
import { PRESETS, type Qwen25VLConfig } from "../src/nn/config.ts";
import type { DecoderContext } from "../src/nn/decoder.ts";
import { generate } from "../src/nn/generate.ts";
import { processImage } from "../src/nn/image_processor.ts";
import { initialWeights } from "../src/nn/init.ts";
import { visionForward } from "../src/nn/vision.ts";
import { Vlm } from "../src/nn/vlm.ts";
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  markdownTable,
  OURS,
  timeGpu,
  timeWall,
} from "./lib.ts";

const SECTION = "qwen3b";
const QWEN_3B = PRESETS["qwen2.5-vl-3b"].config;
const IMAGE_SIDE = 504;

/** The 3B dimensions with `layers` decoder layers and `blocks` vision blocks. */
export const qwen3bAtDepth = (
  layers: number,
  blocks: number,
  fullBlocks: ReadonlyArray<number>,
): Qwen25VLConfig => ({
  ...QWEN_3B,
  num_hidden_layers: layers,
  vision_config: { ...QWEN_3B.vision_config, depth: blocks, fullatt_block_indexes: fullBlocks },
});

/** Deterministic prompt tokens below the special ids. */
const promptTokens = (count: number): number[] =>
  Array.from({ length: count }, (_, i) => (i * 7919 + 13) % 150000);

/** What one model's language-model parts measured (see the module doc). */
interface LanguageTimes {
  readonly layerPrefill: { readonly ms: number; readonly timing: BenchRow["timing"] };
  readonly layerDecode: { readonly ms: number; readonly timing: BenchRow["timing"] };
  readonly head: { readonly ms: number; readonly timing: BenchRow["timing"] };
  readonly e2ePrefill: number;
  readonly e2eAll: number;
}

/**
 * Times one decoder layer of `vlm` over the prompt and over one cached token, the per-token
 * embedding + LM head + sampler, and end-to-end `generate` (wall clock).
 */
const timeLanguageModel = async (
  rt: GpuRuntime,
  config: Qwen25VLConfig,
  vlm: Vlm,
  prompt: number,
  newTokens: number,
  reps: { readonly warmup: number; readonly reps: number },
): Promise<LanguageTimes> => {
  const H = config.hidden_size;
  const hd = H / config.num_attention_heads;
  const kvWidth = config.num_key_value_heads * hd;
  const arena = new Arena(rt.pool);
  const upload = (
    data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
    shape: number[],
  ) => {
    const t = arena.alloc(shape, data instanceof Uint32Array ? "u32" : "f32");
    rt.write(t, data);
    return t;
  };

  // One decoder layer over the prompt.
  const sample = { tokens: promptTokens(prompt), responseStart: prompt };
  const batch = vlm.upload(arena, packBatch(config, [sample], 0));
  const xPrompt = arena.alloc([prompt, H]);
  // Activations only need the right shapes: timings do not depend on the values.
  const layerPrefill = await timeGpu(rt, (rec) => {
    vlm.decode(rec, arena, batch.decoder, xPrompt);
  }, reps);

  // One decoder layer for one new token against a cache holding the prompt.
  const capacity = prompt + 1;
  const cacheCtx: DecoderContext = {
    batch: 1,
    length: 1,
    rotary: upload(
      mropeTable(
        [[prompt], [prompt], [prompt]],
        hd,
        config.rope_theta,
        config.rope_scaling.mrope_section,
      ),
      [1, 1, hd / 2, 2],
    ),
    keyLengths: upload(Uint32Array.of(prompt + 1), [1]),
    cache: {
      layers: [{
        k: arena.alloc([1, capacity, kvWidth]),
        v: arena.alloc([1, capacity, kvWidth]),
      }],
      capacity,
      srcRows: upload(Uint32Array.of(0), [1]),
      dstRows: upload(Uint32Array.of(prompt), [1]),
      keyCount: capacity,
      mask: { kind: "full" },
    },
  };
  const xToken = arena.alloc([1, H]);
  const layerDecode = await timeGpu(rt, (rec) => {
    vlm.decode(rec, arena, cacheCtx, xToken);
  }, reps);

  // Per token outside the layers: embedding gather, LM head [151936, 2048], greedy sample.
  const sampled: { tokens: Tensor; logp: Tensor; logpRaw: Tensor } = {
    tokens: upload(Uint32Array.of(11), [1]),
    logp: arena.alloc([1]),
    logpRaw: arena.alloc([1]),
  };
  const head = await timeGpu(rt, (rec) => {
    embeddingForward(rec, sampled.tokens, vlm.params.value("model.embed_tokens.weight"), xToken);
    const logits = vlm.head(rec, arena, xToken);
    sampleTokens(rec, logits, sampled, { temperature: 0, topP: 1, seed: 1, step: 0 });
  }, reps);

  // End to end at one layer (wall clock, with the readback every 16 tokens).
  const options = { temperature: 0, seed: 1, stopTokens: [], padId: 0, stepsPerSubmit: 16 };
  const e2ePrefill = await timeWall(async () => {
    await generate(vlm, [sample], { ...options, maxNewTokens: 1 });
  }, reps);
  const e2eAll = await timeWall(async () => {
    await generate(vlm, [sample], { ...options, maxNewTokens: 1 + newTokens });
  }, reps);
  arena.reset();
  return { layerPrefill, layerDecode, head, e2ePrefill: e2ePrefill.ms, e2eAll: e2eAll.ms };
};

/** Engine name of the rows of each weight storage: bf16 is what a BF16 3B checkpoint gets. */
const ENGINES: Readonly<Record<"bf16" | "f32", string>> = {
  bf16: OURS,
  f32: "ours, f32 weights",
};

/** The benchmark section (see the module doc). */
export const section: BenchSection = {
  name: SECTION,
  async run(ctx) {
    const rt = ctx.rt;
    const prompt = ctx.quick ? 32 : 128;
    const newTokens = ctx.quick ? 4 : 16;
    const reps = { warmup: 1, reps: ctx.quick ? 1 : 3 };
    const config = qwen3bAtDepth(1, 1, [0]);
    const weights = initialWeights(config, 1);
    const rows: BenchRow[] = [];
    const row = (
      engine: string,
      name: string,
      ms: number,
      note: string,
      timing: BenchRow["timing"],
    ) => {
      ctx.log(`${name} [${engine}]: ${ms.toFixed(1)} ms (${note})`);
      rows.push({ section: SECTION, case: name, engine, ms, timing, note });
    };
    const rate = (count: number, ms: number, unit: string) =>
      `${(count / (ms / 1000)).toFixed(2)} ${unit}/s`;
    const L = QWEN_3B.num_hidden_layers;

    // The language model with bf16 weights (two per u32, widened in the kernels) and with f32
    // weights, one after the other (each model freed before the next is built).
    for (const weightsDtype of ["bf16", "f32"] as const) {
      const engine = ENGINES[weightsDtype];
      const vlm = new Vlm(rt, config, weights, { weightsDtype });
      const gpuBytes = vlm.params.valueBytes;
      const t = await timeLanguageModel(rt, config, vlm, prompt, newTokens, reps);
      if (weightsDtype === "bf16") await timeVision(ctx, config, vlm, reps, row);
      // Free the weights (gradients were never allocated: nothing here trains).
      vlm.params.all().forEach((p) => p.value.buffer.destroy());
      rt.pool.trim();
      const weightsNote = `${weightsDtype} weights, ${(gpuBytes / 1e9).toFixed(2)} GB at 1 layer`;
      row(
        engine,
        `3B decoder layer: prefill ${prompt} tokens`,
        t.layerPrefill.ms,
        `${rate(prompt, t.layerPrefill.ms, "tokens")}; ${weightsNote}`,
        t.layerPrefill.timing,
      );
      row(
        engine,
        "3B decoder layer: decode 1 token",
        t.layerDecode.ms,
        `cache of ${prompt}; ${weightsDtype} weights`,
        t.layerDecode.timing,
      );
      row(
        engine,
        "3B embedding + LM head + sample: 1 token",
        t.head.ms,
        `vocab 151936; ${weightsDtype} weights`,
        t.head.timing,
      );
      row(
        engine,
        `1-layer model, generate: prompt pass + 1 token (${prompt} tokens)`,
        t.e2ePrefill,
        rate(prompt, t.e2ePrefill, "tokens"),
        "wall",
      );
      const e2eDecode = (t.e2eAll - t.e2ePrefill) / newTokens;
      row(
        engine,
        "1-layer model, generate: decode 1 token",
        e2eDecode,
        rate(1, e2eDecode, "tokens"),
        "wall",
      );
      const prefill = L * t.layerPrefill.ms + t.head.ms;
      const decode = L * t.layerDecode.ms + t.head.ms;
      row(
        engine,
        `3B estimated (${L} layers + head): prefill ${prompt} tokens`,
        prefill,
        `${rate(prompt, prefill, "tokens")}; ${weightsDtype} weights`,
        t.layerPrefill.timing,
      );
      row(
        engine,
        `3B estimated (${L} layers + head): decode 1 token`,
        decode,
        `${rate(1, decode, "tokens")}; ${weightsDtype} weights`,
        t.layerDecode.timing,
      );
    }
    return rows;
  },
};

/**
 * Times the vision tower of `vlm` on one image at three depths (same weights, block 0 windowed or
 * full) and adds the tower rows, the full-depth one estimated.
 */
const timeVision = async (
  ctx: BenchContext,
  config: Qwen25VLConfig,
  vlm: Vlm,
  reps: { readonly warmup: number; readonly reps: number },
  row: (
    engine: string,
    name: string,
    ms: number,
    note: string,
    timing: BenchRow["timing"],
  ) => void,
): Promise<void> => {
  const rt = ctx.rt;
  const arena = new Arena(rt.pool);
  const image = processImage({
    width: IMAGE_SIDE,
    height: IMAGE_SIDE,
    data: Uint8Array.from({ length: IMAGE_SIDE * IMAGE_SIDE * 3 }, (_, i) => (i * 37) % 256),
  });
  const patches = image.grid[0] * image.grid[1] * image.grid[2];
  const pads = Array(image.imageTokens).fill(config.image_token_id);
  const vision = vlm.upload(
    arena,
    packBatch(config, [{
      tokens: [config.vision_start_token_id, ...pads, config.vision_end_token_id],
      image,
      responseStart: image.imageTokens + 2,
    }], 0),
  ).vision!;
  const tower = (blocks: number, full: ReadonlyArray<number>) =>
    timeGpu(rt, (rec) => {
      visionForward(
        rec,
        arena,
        vlm.params,
        qwen3bAtDepth(1, blocks, full),
        vision.ctx,
        vision.pixels,
      );
    }, reps);
  const noBlocks = await tower(0, []);
  const windowedOnly = await tower(1, []);
  const fullOnly = await tower(1, [0]);
  arena.reset();
  const note = `${vlm.params.weightsDtype} weights`;
  row(
    OURS,
    `3B vision: patch embed + merger, ${patches} patches`,
    noBlocks.ms,
    note,
    noBlocks.timing,
  );
  row(
    OURS,
    `3B vision: patch embed + 1 windowed block + merger, ${patches} patches`,
    windowedOnly.ms,
    note,
    windowedOnly.timing,
  );
  row(
    OURS,
    `3B vision: patch embed + 1 full block + merger, ${patches} patches`,
    fullOnly.ms,
    note,
    fullOnly.timing,
  );
  const fullCount = QWEN_3B.vision_config.fullatt_block_indexes.length;
  const windowedCount = QWEN_3B.vision_config.depth - fullCount;
  const towerFull = noBlocks.ms + windowedCount * (windowedOnly.ms - noBlocks.ms) +
    fullCount * (fullOnly.ms - noBlocks.ms);
  row(
    OURS,
    `3B estimated vision tower (${windowedCount} windowed + ${fullCount} full blocks), ${patches} patches`,
    towerFull,
    `one 504×504 image; ${note}`,
    fullOnly.timing,
  );
};

if (import.meta.main) {
  const scope = Scope.makeUnsafe();
  const gpu = await Effect.runPromise(Scope.provide(makeGpu, scope));
  const ctx: BenchContext = {
    rt: new GpuRuntime(gpu),
    adapterDescription: gpu.adapterDescription,
    quick: Deno.args.includes("--quick"),
    log: (line) => console.log(`  ${line}`),
  };
  console.log(`Adapter: ${gpu.adapterDescription}`);
  const rows = await section.run(ctx);
  console.log(markdownTable(rows));
  await Effect.runPromise(Scope.close(scope, Exit.void));
}
