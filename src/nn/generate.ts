/**
 * Batched generation with a KV cache on the GPU: one prompt pass fills the cache, then each
 * decode step embeds the previous step's sampled tokens (they never leave the GPU), runs the
 * decoder on one row per sequence against the cache, and samples the next tokens (temperature,
 * top-p, seeded; temperature 0 = greedy). Steps are recorded in chunks, one submit and one
 * readback per chunk, so the ~10 ms readback cost is paid once per chunk, not per token.
 *
 * @module
 */
import { Schema } from "effect";
import { Arena } from "../gpu/buffer_pool.ts";
import { add } from "../gpu/ops/elementwise.ts";
import { embeddingForward } from "../gpu/ops/embedding.ts";
import { mropeTable } from "../gpu/ops/rope_tables.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import { sampleTokens } from "../gpu/ops/sample.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { packBatch, type SequenceSample } from "./batch.ts";
import type { DecoderCache, LayerCache } from "./decoder.ts";
import type { Vlm } from "./vlm.ts";

/** How to generate. */
export interface GenerationOptions {
  readonly maxNewTokens: number;
  /** 0 = greedy argmax. */
  readonly temperature: number;
  /** Nucleus mass in (0, 1]; default 1. */
  readonly topP?: number;
  readonly seed: number;
  /** A sequence stops after emitting any of these (the token is kept in the output). */
  readonly stopTokens: ReadonlyArray<number>;
  /** Decode steps per submit and readback; default 16. */
  readonly stepsPerSubmit?: number;
  /** Token id used to pad prompts of different lengths. */
  readonly padId: number;
  /**
   * Called after each chunk's readback with every sequence's new tokens (empty once it stopped),
   * so a caller can stream the text.
   */
  readonly onChunk?: (tokens: ReadonlyArray<ReadonlyArray<number>>) => void;
  /**
   * Tokens never to sample (their logits are set to −∞), e.g. the vision tokens: a response that
   * contains `<|image_pad|>` would otherwise claim image features it does not have.
   */
  readonly bannedTokens?: ReadonlyArray<number>;
}

/** One sequence's continuation. */
export interface Generated {
  readonly tokens: ReadonlyArray<number>;
  /** Log-probability of each token under the model (log-softmax of the raw logits). */
  readonly logprobs: ReadonlyArray<number>;
  /** True when a stop token ended it, false when it ran out of `maxNewTokens`. */
  readonly stopped: boolean;
}

/** The prompt plus the tokens to generate do not fit the model's context. */
export class ContextTooLong extends Schema.TaggedError<ContextTooLong>()("ContextTooLong", {
  promptTokens: Schema.Number,
  maxNewTokens: Schema.Number,
  contextLength: Schema.Number,
}) {
  override get message(): string {
    return `a prompt of ${this.promptTokens} tokens plus ${this.maxNewTokens} new tokens exceeds ` +
      `the context length of ${this.contextLength}`;
  }
}

const iota = (n: number, offset = 0) => Uint32Array.from({ length: n }, (_, i) => i + offset);

/**
 * Generates a continuation of every prompt (all prompts' images must share one grid). Throws
 * `ContextTooLong` before any GPU work when a prompt cannot fit with `maxNewTokens`.
 */
export const generate = async (
  vlm: Vlm,
  prompts: ReadonlyArray<SequenceSample>,
  options: GenerationOptions,
): Promise<Generated[]> => {
  const c = vlm.config;
  const rt = vlm.runtime;
  const longest = Math.max(...prompts.map((p) => p.tokens.length));
  if (longest + options.maxNewTokens > c.max_position_embeddings) {
    throw new ContextTooLong({
      promptTokens: longest,
      maxNewTokens: options.maxNewTokens,
      contextLength: c.max_position_embeddings,
    });
  }
  const host = packBatch(c, prompts, options.padId);
  const B = host.batch;
  const T = host.length;
  const capacity = T + options.maxNewTokens;
  const hd = c.hidden_size / c.num_attention_heads;
  const kvWidth = c.num_key_value_heads * hd;
  const arena = new Arena(rt.pool);
  const upload = (data: Uint32Array<ArrayBuffer> | Float32Array<ArrayBuffer>, shape: number[]) => {
    const t = arena.alloc(shape, data instanceof Uint32Array ? "u32" : "f32");
    rt.write(t, data);
    return t;
  };
  const layers: LayerCache[] = Array.from({ length: c.num_hidden_layers }, () => ({
    k: arena.alloc([B, capacity, kvWidth]),
    v: arena.alloc([B, capacity, kvWidth]),
  }));
  const lengths = Array.from(host.lengths);
  // Position (all three M-RoPE axes) of each prompt's last token; decode continues from there.
  const lastPosition = lengths.map((n, b) =>
    Math.max(...[0, 1, 2].map((axis) => host.positions[axis * B * T + b * T + n - 1]!))
  );
  const tokensOut = arena.alloc([options.maxNewTokens, B], "u32");
  const logpOut = arena.alloc([options.maxNewTokens, B]);
  const sampled = {
    tokens: arena.alloc([B], "u32"),
    logp: arena.alloc([B]),
    logpRaw: arena.alloc([B]),
  };
  const sampleOptions = (step: number) => ({
    temperature: options.temperature,
    topP: options.topP ?? 1,
    seed: options.seed,
    step,
  });
  const banned = options.bannedTokens ?? [];
  const logitBias = banned.length === 0 ? undefined : (() => {
    const bias = new Float32Array(c.vocab_size);
    for (const id of banned) bias[id] = -Infinity;
    return upload(bias, [c.vocab_size]);
  })();
  /** Next-token logits [B, V] of hidden rows [B, H], banned tokens masked out. */
  const nextLogits = (rec: CommandRecorder, hidden: Tensor): Tensor => {
    const logits = vlm.head(rec, arena, hidden);
    if (logitBias === undefined) return logits;
    const masked = arena.alloc(logits.shape);
    add(rec, logits, logitBias, masked);
    return masked;
  };
  const keep = (rec: CommandRecorder, step: number) => {
    const at = (t: Tensor): Tensor => ({ ...t, shape: [B], offset: t.offset + step * B * 4 });
    rec.copy(sampled.tokens, at(tokensOut));
    rec.copy(sampled.logpRaw, at(logpOut));
  };

  // Prompt pass: fill the cache, sample the first token from each prompt's last row.
  let rec = new CommandRecorder(rt, "generate");
  const batch = vlm.upload(arena, host);
  /** [B] u32 0..B−1: one row per sequence, shared by every decode step. */
  const sequenceRows = upload(iota(B), [B]);
  const prefillCache: DecoderCache = {
    layers,
    capacity,
    srcRows: upload(iota(B * T), [B * T]),
    dstRows: upload(
      Uint32Array.from({ length: B * T }, (_, r) => Math.floor(r / T) * capacity + (r % T)),
      [B * T],
    ),
    keyCount: T,
    mask: { kind: "causal" },
  };
  const hidden = vlm.prefill(rec, arena, batch, prefillCache);
  const last = arena.alloc([B, c.hidden_size]);
  moveRows(
    rec,
    hidden,
    upload(Uint32Array.from(lengths, (n, b) => b * T + n - 1), [B]),
    sequenceRows,
    last,
  );
  sampleTokens(rec, nextLogits(rec, last), sampled, sampleOptions(0));
  keep(rec, 0);

  const chunk = options.stepsPerSubmit ?? 16;
  const results: { tokens: number[]; logprobs: number[]; stopped: boolean }[] = prompts.map(() => ({
    tokens: [],
    logprobs: [],
    stopped: false,
  }));
  const stop = new Set(options.stopTokens);
  const embedTable = vlm.params.value("model.embed_tokens.weight");
  let readFrom = 0;
  for (let step = 1; step <= options.maxNewTokens; step++) {
    if (step < options.maxNewTokens) {
      // Feed generated token step−1 at position last + step, cache row length + step − 1.
      const x = arena.alloc([B, c.hidden_size]);
      embeddingForward(rec, sampled.tokens, embedTable, x);
      const positions = Float32Array.from(lastPosition, (p) => p + step);
      const ctx = {
        batch: B,
        length: 1,
        rotary: upload(
          mropeTable(
            [positions, positions, positions],
            hd,
            c.rope_theta,
            c.rope_scaling.mrope_section,
          ),
          [1, B, hd / 2, 2],
        ),
        keyLengths: upload(Uint32Array.from(lengths, (n) => n + step), [B]),
        cache: {
          layers,
          capacity,
          srcRows: sequenceRows,
          dstRows: upload(Uint32Array.from(lengths, (n, b) => b * capacity + n + step - 1), [B]),
          keyCount: capacity,
          mask: { kind: "full" },
        } satisfies DecoderCache,
      };
      const { normed } = vlm.decode(rec, arena, ctx, x);
      sampleTokens(rec, nextLogits(rec, normed), sampled, sampleOptions(step));
      keep(rec, step);
    }
    const chunkEnds = step % chunk === 0 || step === options.maxNewTokens;
    if (!chunkEnds) continue;
    // Read back the tokens produced so far in this chunk: [readFrom, step).
    const count = step - readFrom;
    const view = (t: Tensor): Tensor => ({
      ...t,
      shape: [count, B],
      offset: t.offset + readFrom * B * 4,
    });
    rec.read(view(tokensOut));
    rec.read(view(logpOut));
    const { arrays } = await rec.submit().resolve();
    const [tokens, logps] = arrays as [Uint32Array, Float32Array];
    const before = results.map((r) => r.tokens.length);
    for (let s = 0; s < count; s++) {
      results.forEach((r, b) => {
        if (r.stopped) return;
        const token = tokens[s * B + b]!;
        r.tokens.push(token);
        r.logprobs.push(logps[s * B + b]!);
        if (stop.has(token)) r.stopped = true;
      });
    }
    options.onChunk?.(results.map((r, b) => r.tokens.slice(before[b])));
    readFrom = step;
    if (results.every((r) => r.stopped) || step === options.maxNewTokens) break;
    rec = new CommandRecorder(rt, "generate");
  }
  arena.reset();
  return results;
};
