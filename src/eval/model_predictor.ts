/**
 * Our model as the evaluation harness's `Predictor`: each record becomes a chat prompt (the
 * paper's short evaluation template, or the prompt a checkpoint was trained with) with its image
 * run through the Qwen2.5-VL processor, and the model decodes greedily. Records are batched by
 * image grid (one vision batch needs one grid), so images of any size are evaluated, and each
 * record that cannot be run (several images, an unreadable image, a prompt longer than the
 * context) is reported as a `PredictionFailed` naming it, while the rest go on.
 *
 * @module
 */
import { Effect, Layer } from "effect";
import { trainingPrompt } from "../dataset/prompt.ts";
import { ContextTooLong, generate } from "../nn/generate.ts";
import { decodeImage, readImage } from "../nn/image_file.ts";
import {
  type ImageProcessorConfig,
  type ProcessedImage,
  processImage,
  type RgbImage,
} from "../nn/image_processor.ts";
import type { Vlm } from "../nn/vlm.ts";
import { expandImagePads, renderChat } from "../text/chat_template.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { PredictionFailed, Predictor } from "./predictor.ts";
import { type EvalRecord, type ImageRef, questionWithOptions } from "./record.ts";
import { recordKey } from "./scoring.ts";

/**
 * Which prompt wraps a record's question. `eval` is the paper's evaluation template
 * (SPATIAL_THINKER_TEMPLATE, paper.md §1.2), used for every benchmark in the paper; `compact`
 * and `paper` are our two training prompts (src/stages/examples.ts), for checkpoints that have
 * only seen one of them.
 */
export type EvalPromptStyle = "eval" | "compact" | "paper";

/** Every {@link EvalPromptStyle}, for command-line validation. */
export const EVAL_PROMPT_STYLES: ReadonlyArray<EvalPromptStyle> = ["eval", "compact", "paper"];

/** The paper's short evaluation instruction (official `evaluation/templates.py`). */
const SPATIAL_THINKER_EVAL_INSTRUCTION =
  "You FIRST observe the image in <observe> </observe> tags, then visualise the relevant scene " +
  "graph in <scene> </scene> tags, followed by thinking about the reasoning process as an " +
  "internal monologue within <think> </think> tags and then provide the final answer. The final " +
  "answer MUST BE put within <answer> </answer> tags, and only return the final choice " +
  "including the correct option and answer within the answer tags, e.g., " +
  "<answer> ({correct_option}) {correct_answer} </answer>.";

/** Width and height of the record's original image, in pixels. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The user text for `record` in `style`. `size` is the original image's size (absent for a
 * text-only record, which then has no size line). The official evaluation leaves the template's
 * `{Width} x {Height}` unformatted and appends "(W x H)" (paper.md §6.1 d); we write the size once,
 * in the `Image size: (W x H)` form the reward and our training prompts use (`paper` keeps its
 * size line for a text-only record, as `(0 x 0)`, since its instructions refer to it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evalPromptText } from "./model_predictor.ts";
 * const record = { question: "Which is closer?", choices: ["car", "tree"] };
 * const text = evalPromptText(record, { width: 640, height: 480 }, "eval");
 * assert.ok(text.startsWith("You FIRST observe the image"));
 * assert.ok(text.endsWith("Image size: (640 x 480)\n\nNow answer the following question:\nWhich is closer?\nOptions:\n(A) car\n(B) tree"));
 * ```
 */
export const evalPromptText = (
  record: Pick<EvalRecord, "question" | "choices">,
  size: ImageSize | undefined,
  style: EvalPromptStyle,
): string => {
  const question = questionWithOptions(record);
  const sizeLine = size === undefined ? "" : `Image size: (${size.width} x ${size.height})`;
  switch (style) {
    case "eval":
      return `${SPATIAL_THINKER_EVAL_INSTRUCTION}\n\n${
        sizeLine === "" ? "" : `${sizeLine}\n\n`
      }Now answer the following question:\n${question}`;
    case "compact":
      return `Answer in <observe>, <scene>, <think> and <answer> tags.${
        sizeLine === "" ? "" : ` ${sizeLine}`
      }\nQ. ${question}`;
    case "paper":
      return trainingPrompt(size?.width ?? 0, size?.height ?? 0, question)
        .replace(/^<image>\s*/, "");
  }
};

/** What the predictor needs of a loaded model (a `ModelSetup` provides all of it). */
export interface EvalModel {
  readonly vlm: Vlm;
  readonly tokenizer: Tokenizer;
  /** The checkpoint's image processor settings. */
  readonly processor: ImageProcessorConfig;
  readonly generation: {
    readonly eos_token_id: ReadonlyArray<number>;
    readonly pad_token_id: number;
  };
}

/** How to decode. */
export interface ModelPredictionOptions {
  readonly promptStyle: EvalPromptStyle;
  /** Prompts per generation call (records of one image grid only). */
  readonly batchSize: number;
  readonly maxNewTokens: number;
  /** Unused by greedy decoding itself; fixed so a run is reproducible whatever the sampler. */
  readonly seed: number;
}

/** One record ready for the model. */
export interface PreparedPrompt {
  readonly record: EvalRecord;
  /** Chat-templated prompt ids, image pads expanded. */
  readonly tokens: ReadonlyArray<number>;
  readonly image?: ProcessedImage;
}

const failure = (record: EvalRecord, reason: string) =>
  new PredictionFailed({ benchmark: record.benchmark, id: record.id, reason });

const reasonOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause);

const loadRgb = (record: EvalRecord, ref: ImageRef): Effect.Effect<RgbImage, PredictionFailed> =>
  ref.kind === "path"
    ? Effect.mapError(readImage(ref.path), (e) => failure(record, e.message))
    : Effect.try({
      try: () => decodeImage(ref.bytes),
      catch: (cause) =>
        failure(record, `cannot read image ${ref.name ?? "(embedded)"}: ${reasonOf(cause)}`),
    });

/**
 * Prompt ids of `user` in the chat template with `imagePads` image tokens (none: text only).
 * The record text goes through `encodeOrdinary`, so a benchmark question that happens to contain
 * `<|image_pad|>` or `<|im_end|>` cannot inject special tokens.
 */
const chatTokens = (tokenizer: Tokenizer, user: string, imagePads: number | undefined) => {
  const marker = "\u0000";
  const rendered = renderChat([{
    role: "user",
    content: imagePads === undefined
      ? [{ type: "text", text: marker }]
      : [{ type: "image" }, { type: "text", text: marker }],
  }]);
  const [before, after] =
    (imagePads === undefined ? rendered : expandImagePads(rendered, [imagePads])).split(marker) as [
      string,
      string,
    ];
  return [
    ...tokenizer.encode(before),
    ...tokenizer.encodeOrdinary(user),
    ...tokenizer.encode(after),
  ];
};

/**
 * Reads and processes the record's image and tokenizes its prompt. Fails with
 * `PredictionFailed` for a record with several images (the model takes one per prompt) or an
 * image that cannot be decoded or processed.
 */
export const preparePrompt = (
  model: Pick<EvalModel, "tokenizer" | "processor">,
  record: EvalRecord,
  style: EvalPromptStyle,
): Effect.Effect<PreparedPrompt, PredictionFailed> =>
  Effect.gen(function* () {
    if (record.images.length > 1) {
      return yield* failure(
        record,
        `${record.images.length} images; the model takes one image per prompt`,
      );
    }
    const ref = record.images[0];
    if (ref === undefined) {
      return {
        record,
        tokens: chatTokens(model.tokenizer, evalPromptText(record, undefined, style), undefined),
      };
    }
    const rgb = yield* loadRgb(record, ref);
    const image = yield* Effect.try({
      try: () => processImage(rgb, model.processor),
      catch: (cause) => failure(record, reasonOf(cause)),
    });
    const text = evalPromptText(record, { width: rgb.width, height: rgb.height }, style);
    return { record, tokens: chatTokens(model.tokenizer, text, image.imageTokens), image };
  });

/**
 * A record planned into a batch: its prompt length and image grid, without the pixels. Pixels are
 * made again for the batch being decoded, so a benchmark of thousands of large images does not
 * hold every processed image in memory at once.
 */
export interface PlannedPrompt {
  readonly record: EvalRecord;
  readonly promptTokens: number;
  /** The processed image's (t, h, w) patch grid; absent for a text-only record. */
  readonly grid?: readonly [number, number, number];
}

/**
 * Splits prompts into generation batches: one image grid per batch (text-only prompts together),
 * at most `batchSize` each, groups in first-seen order. Within a group prompts are ordered by
 * length (ties in input order), so a batch pads its prompts to similar lengths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gridBatches } from "./model_predictor.ts";
 * const p = (id: string, promptTokens: number, h?: number) => ({
 *   record: { id, benchmark: "b", category: "c", question: "q", choices: [], answer: "", images: [] },
 *   promptTokens,
 *   ...(h === undefined ? {} : { grid: [1, h, 6] as const }),
 * });
 * const batches = gridBatches([p("a", 9, 6), p("b", 5, 8), p("c", 7, 6), p("d", 5), p("e", 8, 6)], 2);
 * assert.deepEqual(batches.map((b) => b.map((x) => x.record.id)), [["c", "e"], ["a"], ["b"], ["d"]]);
 * ```
 */
export const gridBatches = (
  prompts: ReadonlyArray<PlannedPrompt>,
  batchSize: number,
): ReadonlyArray<ReadonlyArray<PlannedPrompt>> => {
  const groups = new Map<string, Array<PlannedPrompt>>();
  for (const p of prompts) {
    const key = p.grid === undefined ? "text" : p.grid.join("x");
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [p]);
    else group.push(p);
  }
  return [...groups.values()].flatMap((unsorted) => {
    const group = unsorted.toSorted((a, b) => a.promptTokens - b.promptTokens);
    return Array.from(
      { length: Math.ceil(group.length / batchSize) },
      (_, i) => group.slice(i * batchSize, (i + 1) * batchSize),
    );
  });
};

/** The outcome of decoding a record set. */
export interface ModelPredictions {
  /** Raw outputs keyed by `recordKey`, for the records that ran. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Records that could not be run, each with its reason (they score as missing). */
  readonly failures: ReadonlyArray<PredictionFailed>;
  /** Tokens generated over all records (stop tokens included). */
  readonly generatedTokens: number;
}

/** Progress after each generation batch: records finished (run or failed) out of the total. */
export type PredictionProgress = (done: number, total: number) => void;

/**
 * Decodes every record greedily, `batchSize` prompts of one image grid per generation call.
 * A record whose prompt cannot fit `maxNewTokens` into the context, or whose batch fails on the
 * GPU, is a failure; the others still run.
 */
export const predictRecords = (
  model: EvalModel,
  records: ReadonlyArray<EvalRecord>,
  options: ModelPredictionOptions,
  onProgress: PredictionProgress = () => {},
): Effect.Effect<ModelPredictions> =>
  Effect.gen(function* () {
    const failures: Array<PredictionFailed> = [];
    const planned: Array<PlannedPrompt> = [];
    const contextLength = model.vlm.config.max_position_embeddings;
    for (const record of records) {
      const prepared = yield* Effect.result(preparePrompt(model, record, options.promptStyle));
      if (prepared._tag === "Failure") failures.push(prepared.failure);
      else if (prepared.success.tokens.length + options.maxNewTokens > contextLength) {
        failures.push(
          failure(
            record,
            new ContextTooLong({
              promptTokens: prepared.success.tokens.length,
              maxNewTokens: options.maxNewTokens,
              contextLength,
            }).message,
          ),
        );
      } else {
        const grid = prepared.success.image?.grid;
        planned.push({
          record,
          promptTokens: prepared.success.tokens.length,
          ...(grid === undefined ? {} : { grid }),
        });
      }
    }
    const outputs = new Map<string, string>();
    let generatedTokens = 0;
    let done = failures.length;
    for (const plannedBatch of gridBatches(planned, options.batchSize)) {
      done += plannedBatch.length;
      // The same records prepared again (deterministic), now with their pixels.
      const batch: Array<PreparedPrompt> = [];
      for (const p of plannedBatch) {
        const prepared = yield* Effect.result(preparePrompt(model, p.record, options.promptStyle));
        if (prepared._tag === "Failure") failures.push(prepared.failure);
        else batch.push(prepared.success);
      }
      if (batch.length === 0) {
        onProgress(done, records.length);
        continue;
      }
      const generated = yield* Effect.result(Effect.tryPromise({
        try: () =>
          generate(
            model.vlm,
            batch.map((p) => ({
              tokens: p.tokens,
              ...(p.image === undefined ? {} : { image: p.image }),
              responseStart: p.tokens.length,
            })),
            {
              maxNewTokens: options.maxNewTokens,
              temperature: 0,
              seed: options.seed,
              stopTokens: model.generation.eos_token_id,
              padId: model.generation.pad_token_id,
            },
          ),
        catch: reasonOf,
      }));
      if (generated._tag === "Failure") {
        for (const p of batch) failures.push(failure(p.record, generated.failure));
      } else {
        batch.forEach((p, k) => {
          const g = generated.success[k]!;
          generatedTokens += g.tokens.length;
          outputs.set(
            recordKey(p.record),
            model.tokenizer.decode(g.tokens, { skipSpecialTokens: true }),
          );
        });
      }
      onProgress(done, records.length);
    }
    return { outputs, failures, generatedTokens };
  });

/**
 * A `Predictor` backed by the model, one record per generation call (for programs written
 * against the `Predictor` seam; `predictRecords` batches and is faster for whole benchmarks).
 */
export const modelPredictorLayer = (
  model: EvalModel,
  options: Omit<ModelPredictionOptions, "batchSize">,
): Layer.Layer<Predictor> =>
  Predictor.fromFunction((record) =>
    Effect.flatMap(
      predictRecords(model, [record], { ...options, batchSize: 1 }),
      ({ outputs, failures }) => {
        const output = outputs.get(recordKey(record));
        return output === undefined
          ? Effect.fail(failures[0] ?? failure(record, "the model produced no output"))
          : Effect.succeed(output);
      },
    )
  );
