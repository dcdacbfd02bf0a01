/**
 * Sampling next tokens from logit rows on the GPU (kernels/sample_fwd.wgsl): temperature, top-p
 * (nucleus, found by an 8-ary search on the threshold logit instead of a sort) and greedy argmax,
 * with a counter-based RNG (Philox-4x32-10) keyed by a seed, so one seed and the same
 * (step, row) counters give the same random numbers on every device. Token ids and their
 * log-probs stay on the GPU.
 *
 * @module
 */
import { ShapeMismatch } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { expectShape, type Tensor } from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import { rowChunks } from "./row_chunks.ts";
import { threadsPerRow } from "./row_reduce.ts";

/** Outputs of `sampleTokens`, each [N]. */
export interface SampledTokens {
  /** u32 sampled token ids. */
  readonly tokens: Tensor;
  /** f32 log-prob of each token under the sampling distribution (temperature, nucleus). */
  readonly logp: Tensor;
  /** f32 log-prob of each token under the unmodified logits (log_softmax at temperature 1). */
  readonly logpRaw: Tensor;
}

/** How to sample. */
export interface SampleOptions {
  /** Divides the logits; 0 means greedy argmax (then `logp` is 0: a point mass). */
  readonly temperature: number;
  /** Nucleus mass in (0, 1]; 1 (default) keeps every token. */
  readonly topP?: number;
  /** RNG key: an integer in [0, 2⁵³). */
  readonly seed: number;
  /** RNG counter that changes every call (e.g. the decode step); an integer in [0, 2³²). */
  readonly step: number;
  /** Added to the row index in the RNG counter (e.g. the first sequence of this batch); default 0. */
  readonly rowOffset?: number;
}

/**
 * Records one sampled token per row of logits [N, V] into `out`. Row n draws its uniform from
 * Philox-4x32-10 with key (seed mod 2³², ⌊seed / 2³²⌋) and counter (rowOffset + n, step, 0, 0).
 *
 * @example Nucleus sampling keeps only the likeliest tokens
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { sampleTokens } from "./sample.ts";
 *
 * const tokens = await Effect.runPromise(Effect.provide(
 *   Effect.gen(function* () {
 *     const rt = new GpuRuntime(yield* Gpu);
 *     // 4 rows of p ∝ e^[4, 4, 0, 0]: top-p 0.9 keeps tokens 0 and 1 only.
 *     const row = [4, 4, 0, 0];
 *     const logits = rt.createTensor([4, 4], "f32", new Float32Array([...row, ...row, ...row, ...row]));
 *     const out = {
 *       tokens: rt.createTensor([4], "u32"),
 *       logp: rt.createTensor([4]),
 *       logpRaw: rt.createTensor([4]),
 *     };
 *     const rec = new CommandRecorder(rt);
 *     sampleTokens(rec, logits, out, { temperature: 1, topP: 0.9, seed: 42, step: 0 });
 *     rec.read(out.tokens);
 *     const { arrays } = yield* Effect.promise(() => rec.submit().resolve());
 *     return [...arrays[0]!];
 *   }),
 *   Gpu.layer,
 * ));
 * if (!tokens.every((t) => t === 0 || t === 1)) throw new Error(`outside the nucleus: ${tokens}`);
 * ```
 */
export const sampleTokens = (
  rec: CommandRecorder,
  logits: Tensor,
  out: SampledTokens,
  options: SampleOptions,
): void => {
  const op = "sampleTokens";
  const [rows, vocab] = logits.shape;
  if (logits.shape.length !== 2 || rows === undefined || vocab === undefined || vocab === 0) {
    throw new ShapeMismatch({ op, detail: `logits must be [N, V], got [${logits.shape}]` });
  }
  expectShape(op, "logits", logits, [rows, vocab]);
  expectShape(op, "tokens", out.tokens, [rows], "u32");
  expectShape(op, "logp", out.logp, [rows]);
  expectShape(op, "logpRaw", out.logpRaw, [rows]);
  const { temperature, topP = 1, seed, step, rowOffset = 0 } = options;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`${op}: temperature must be finite and ≥ 0, got ${temperature}`);
  }
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`${op}: topP must be in (0, 1], got ${topP}`);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`${op}: seed must be an integer in [0, 2^53), got ${seed}`);
  }
  for (const [name, value] of [["step", step], ["rowOffset", rowOffset]] as const) {
    if (
      !Number.isInteger(value) || value < 0 || value + (name === "rowOffset" ? rows : 0) > 2 ** 32
    ) {
      throw new RangeError(`${op}: ${name} must be a u32 counter, got ${value}`);
    }
  }
  const tpr = threadsPerRow(vocab);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "sample_fwd.wgsl",
    entryPoint: temperature === 0 ? "argmax" : "sample_tokens",
    constants: { TPR: tpr },
  });
  const blocks = rowChunks(
    op,
    logits,
    rec.runtime.maxBindingBytes,
    rec.runtime.device.limits.minStorageBufferOffsetAlignment,
    65535,
  );
  for (const block of blocks) {
    rec.dispatch(
      pipeline,
      [block.view, out.tokens, out.logp, out.logpRaw],
      grid1d(block.rows, 256 / tpr),
      packParams([
        { u32: block.rows },
        { u32: vocab },
        { u32: block.first },
        { f32: temperature === 0 ? 1 : temperature },
        { f32: topP },
        { u32: seed % 2 ** 32 },
        { u32: Math.floor(seed / 2 ** 32) },
        { u32: step },
        { u32: rowOffset },
      ]),
    );
  }
};
