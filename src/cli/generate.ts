/**
 * `deno task generate`: answer one question about one image with a Qwen2.5-VL checkpoint folder
 * (the Hugging Face layout: config.json, model.safetensors or shards with an index, tokenizer and
 * processor configs), streaming the answer as it is generated.
 *
 * ```
 * deno task generate --model ckpt/Qwen2.5-VL-3B-Instruct --image scene.png --prompt "Where is the cube?"
 * deno task generate --model DIR --image IMG --prompt TEXT --temperature 1 --top-p 0.9 --seed 7
 * deno task generate --model DIR --image IMG --prompt TEXT --dump-logits prompt_logits.safetensors
 * deno task generate --model DIR --image IMG --prompt TEXT --weights-dtype f32
 * ```
 *
 * `--weights-dtype f32|bf16|f16` sets how the weights are stored on the GPU. The default keeps a
 * 16-bit checkpoint 16-bit (BF16 as bf16; F16 as f16 where the device has `shader-f16`, bf16
 * otherwise): half the memory of f32, widened in the kernels, accumulated in f32. F32 checkpoints
 * stay f32 unless asked.
 *
 * `--dump-logits FILE` writes a safetensors file with `input_ids` I64 [T] and `logits` F32
 * [T, vocab] of the full templated prompt, teacher-forced (plus `pixel_values` F32 [patches, 1176]
 * and `image_grid_thw` I64 [1, 3] when there is an image): the hook for parity checks against
 * other implementations.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Cause, Effect, Result, Schema } from "effect";
import { Arena } from "../gpu/buffer_pool.ts";
import { Gpu } from "../gpu/gpu.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { packBatch, type SequenceSample } from "../nn/batch.ts";
import type { FileIoFailed } from "../nn/file_io.ts";
import { generate } from "../nn/generate.ts";
import { ImageUnreadable, readImage } from "../nn/image_file.ts";
import { type ProcessedImage, processImage } from "../nn/image_processor.ts";
import type { HostTensor } from "../nn/safetensors.ts";
import { writeSafetensorsFile } from "../nn/safetensors.ts";
import type { Vlm } from "../nn/vlm.ts";
import { type WeightsDtype, WeightsDtypeSchema } from "../nn/weights_dtype.ts";
import { modelFromCheckpoint, type ModelSetup, processorSettings } from "../stages/model_setup.ts";
import { renderChat, singleImagePrompt } from "../text/chat_template.ts";
import type { Tokenizer } from "../text/tokenizer.ts";

/** Options of one `generate` run. */
export const GenerateOptions = Schema.Struct({
  model: Schema.String.check(Schema.isNonEmpty()),
  image: Schema.optional(Schema.String),
  prompt: Schema.String,
  maxNewTokens: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** 0 = greedy. */
  temperature: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  topP: Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)),
  seed: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  dumpLogits: Schema.optional(Schema.String),
  /** GPU storage of the weights; absent = from the checkpoint's dtype (`defaultWeightsDtype`). */
  weightsDtype: Schema.optional(WeightsDtypeSchema),
});
/** Options of one `generate` run. */
export type GenerateOptions = typeof GenerateOptions.Type;

/** Command-line arguments that do not parse or validate. */
export class GenerateArgsInvalid extends Schema.TaggedError<GenerateArgsInvalid>()(
  "GenerateArgsInvalid",
  { reason: Schema.String },
) {
  override get message(): string {
    return `generate: ${this.reason}`;
  }
}

const FLAGS = {
  model: { type: "string" },
  image: { type: "string" },
  prompt: { type: "string" },
  "max-new-tokens": { type: "string", default: "512" },
  temperature: { type: "string", default: "0" },
  "top-p": { type: "string", default: "1" },
  seed: { type: "string", default: "0" },
  "dump-logits": { type: "string" },
  "weights-dtype": { type: "string" },
} as const;

const numberFlag = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

/**
 * Parses and validates `--model DIR [--image PATH] --prompt TEXT`, the sampling flags and
 * `--weights-dtype`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { parseGenerateArgs } from "./generate.ts";
 * const options = Result.getOrThrow(parseGenerateArgs(["--model", "m", "--prompt", "Hi", "--seed", "3"]));
 * assert(options.seed === 3 && options.temperature === 0);
 * ```
 */
export const parseGenerateArgs = (
  args: ReadonlyArray<string>,
): Result.Result<GenerateOptions, GenerateArgsInvalid> => {
  let values: ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>["values"];
  try {
    ({ values } = parseArgs({ args: [...args], options: FLAGS, strict: true }));
  } catch (cause) {
    return Result.fail(new GenerateArgsInvalid({ reason: String((cause as Error).message) }));
  }
  if (values.model === undefined) {
    return Result.fail(new GenerateArgsInvalid({ reason: "--model DIR is required" }));
  }
  if (values.prompt === undefined) {
    return Result.fail(new GenerateArgsInvalid({ reason: "--prompt TEXT is required" }));
  }
  const decoded = Schema.decodeUnknownResult(GenerateOptions)({
    model: values.model,
    prompt: values.prompt,
    maxNewTokens: numberFlag(values["max-new-tokens"]),
    temperature: numberFlag(values.temperature),
    topP: numberFlag(values["top-p"]),
    seed: numberFlag(values.seed),
    ...(values.image === undefined ? {} : { image: values.image }),
    ...(values["dump-logits"] === undefined ? {} : { dumpLogits: values["dump-logits"] }),
    ...(values["weights-dtype"] === undefined ? {} : { weightsDtype: values["weights-dtype"] }),
  });
  return Result.mapError(decoded, (issue) => new GenerateArgsInvalid({ reason: issue.message }));
};

/**
 * The chat-templated prompt of one question (with its image's pads expanded when there is one),
 * tokenised; the whole sequence is context (`responseStart` = its length).
 */
export const promptSample = (
  tokenizer: Tokenizer,
  question: string,
  image?: ProcessedImage,
): SequenceSample => {
  const text = image === undefined
    ? renderChat([{ role: "user", content: [{ type: "text", text: question }] }])
    : singleImagePrompt(question, image.imageTokens);
  const tokens = tokenizer.encode(text);
  return { tokens, responseStart: tokens.length, ...(image === undefined ? {} : { image }) };
};

/**
 * Teacher-forced logits of every position of one sequence: [T, vocab] f32, row t predicting
 * token t + 1. One forward pass, one readback.
 */
export const sequenceLogits = async (
  vlm: Vlm,
  sample: SequenceSample,
  padId: number,
): Promise<Float32Array> => {
  const rt = vlm.runtime;
  const arena = new Arena(rt.pool);
  const rec = new CommandRecorder(rt, "sequenceLogits");
  const { logits } = vlm.forward(
    rec,
    arena,
    vlm.upload(arena, packBatch(vlm.config, [sample], padId)),
  );
  rec.read(logits);
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  return arrays[0] as Float32Array;
};

const bytesOf = (values: ArrayBufferView): Uint8Array =>
  new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** Host tensors of a logits dump (see the module doc). */
export const logitsDumpTensors = (
  sample: SequenceSample,
  logits: Float32Array,
  vocab: number,
): Map<string, HostTensor> => {
  const T = sample.tokens.length;
  if (logits.length !== T * vocab) {
    throw new RangeError(`logitsDumpTensors: ${logits.length} logits for ${T}×${vocab}`);
  }
  const tensors = new Map<string, HostTensor>([
    [
      "input_ids",
      { dtype: "I64", shape: [T], data: bytesOf(BigInt64Array.from(sample.tokens, BigInt)) },
    ],
    ["logits", { dtype: "F32", shape: [T, vocab], data: bytesOf(logits) }],
  ]);
  const image = sample.image;
  if (image !== undefined) {
    const patches = image.grid[0] * image.grid[1] * image.grid[2];
    tensors.set("pixel_values", {
      dtype: "F32",
      shape: [patches, image.pixelValues.length / patches],
      data: bytesOf(image.pixelValues),
    });
    tensors.set("image_grid_thw", {
      dtype: "I64",
      shape: [1, 3],
      data: bytesOf(BigInt64Array.from(image.grid, BigInt)),
    });
  }
  return tensors;
};

/**
 * Turns generated token chunks into printable text deltas. Text is decoded from all tokens so far
 * (BPE bytes can split a character across tokens); a trailing incomplete character is held back
 * until the token that completes it arrives.
 */
export class TextStream {
  readonly #tokenizer: Tokenizer;
  readonly #ids: number[] = [];
  #printed = 0;

  constructor(tokenizer: Tokenizer) {
    this.#tokenizer = tokenizer;
  }

  /** Adds tokens; returns the newly completed text. */
  push(tokens: ReadonlyArray<number>): string {
    this.#ids.push(...tokens);
    const text = this.#tokenizer.decode(this.#ids, { skipSpecialTokens: true });
    const complete = text.endsWith("\uFFFD") ? text.slice(0, -1) : text;
    const delta = complete.slice(this.#printed);
    this.#printed = Math.max(this.#printed, complete.length);
    return delta;
  }

  /** Whatever is still held back (an incomplete character at the very end). */
  flush(): string {
    const text = this.#tokenizer.decode(this.#ids, { skipSpecialTokens: true });
    const rest = text.slice(this.#printed);
    this.#printed = text.length;
    return rest;
  }
}

/** What a run produced. */
export interface GenerateResult {
  readonly promptTokens: number;
  readonly tokens: ReadonlyArray<number>;
  readonly text: string;
  readonly stopped: boolean;
  /** Wall-clock seconds of the generation (prompt pass included, logits dump excluded). */
  readonly seconds: number;
  /** How the weights are stored on the GPU and the bytes they take there. */
  readonly weights: { readonly dtype: WeightsDtype; readonly gpuBytes: number };
}

/**
 * Answers the prompt with an opened model, calling `write` with each piece of text as chunks come
 * back; writes the logits dump first when asked (atomically, so a failed run leaves no file).
 */
export const answer = (
  setup: ModelSetup,
  options: GenerateOptions,
  image: ProcessedImage | undefined,
  write: (text: string) => void,
): Effect.Effect<GenerateResult, FileIoFailed> =>
  Effect.gen(function* () {
    const padId = setup.generation.pad_token_id;
    const sample = promptSample(setup.tokenizer, options.prompt, image);
    if (options.dumpLogits !== undefined) {
      const logits = yield* Effect.promise(() => sequenceLogits(setup.vlm, sample, padId));
      yield* writeSafetensorsFile(
        options.dumpLogits,
        logitsDumpTensors(sample, logits, setup.config.vocab_size),
        { format: "pt", producer: "spatial-thinker generate --dump-logits" },
      );
    }
    const stream = new TextStream(setup.tokenizer);
    const started = performance.now();
    const [out] = yield* Effect.promise(() =>
      generate(setup.vlm, [sample], {
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        topP: options.topP,
        seed: options.seed,
        stopTokens: setup.generation.eos_token_id,
        padId,
        onChunk: ([tokens]) => write(stream.push(tokens ?? [])),
      })
    );
    write(stream.flush());
    return {
      seconds: (performance.now() - started) / 1000,
      weights: { dtype: setup.vlm.params.weightsDtype, gpuBytes: setup.vlm.params.valueBytes },
      promptTokens: sample.tokens.length,
      tokens: out!.tokens,
      text: setup.tokenizer.decode(out!.tokens, { skipSpecialTokens: true }),
      stopped: out!.stopped,
    };
  });

/** The whole command: load the checkpoint and the image, then answer. */
export const runGenerate = (options: GenerateOptions, write: (text: string) => void) =>
  Effect.gen(function* () {
    const rt = new GpuRuntime(yield* Gpu);
    const setup = yield* modelFromCheckpoint(rt, options.model, {
      weightsDtype: options.weightsDtype ?? "auto",
    });
    const file = options.image;
    const image = file === undefined
      ? undefined
      : yield* Effect.flatMap(readImage(file), (rgb) =>
        Effect.try({
          try: () => processImage(rgb, processorSettings(setup.preprocessor)),
          // smart_resize refuses sides under 10 px and aspect ratios over 200.
          catch: (cause) => new ImageUnreadable({ file, reason: String((cause as Error).message) }),
        }));
    return yield* answer(setup, options, image, write);
  });

if (import.meta.main) {
  const encoder = new TextEncoder();
  const write = (text: string) => {
    if (text !== "") Deno.stdout.writeSync(encoder.encode(text));
  };
  const program = Effect.gen(function* () {
    const options = yield* Effect.fromResult(parseGenerateArgs(Deno.args));
    const result = yield* runGenerate(options, write);
    write("\n");
    console.error(
      `[${result.promptTokens} prompt tokens, ${result.tokens.length} generated in ` +
        `${result.seconds.toFixed(1)} s (${(result.tokens.length / result.seconds).toFixed(2)} ` +
        `tokens/s), ${result.stopped ? "stopped at an end token" : "hit --max-new-tokens"}, ` +
        `weights ${result.weights.dtype} (${
          (result.weights.gpuBytes / 1e9).toFixed(2)
        } GB on the GPU)]`,
    );
  }).pipe(Effect.provide(Gpu.layer));
  const exit = await Effect.runPromiseExit(program);
  if (exit._tag === "Failure") {
    const error = Cause.squash(exit.cause);
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
