/**
 * Checkpoint folders in the Hugging Face Qwen2.5-VL layout, plus the training state beside them:
 *
 * ```
 * step-00000100/
 *   config.json                  Qwen2.5-VL config (published flat layout)
 *   generation_config.json       sampling defaults
 *   preprocessor_config.json     image processor settings
 *   tokenizer.json               byte-level BPE
 *   tokenizer_config.json        token roles + chat template
 *   model.safetensors            or model-0000i-of-0000n.safetensors + model.safetensors.index.json
 *   optimizer.safetensors        AdamW moments: "<param>.exp_avg", "<param>.exp_avg_sq" (F32)
 *   trainer_state.json           step, seed, RNG and data-order state, optimizer hyper-parameters
 * ```
 *
 * Saving is atomic at the folder level: everything is written and fsynced into a temporary
 * sibling folder that is then renamed into place, so a run killed mid-save (even by SIGKILL)
 * leaves every previously completed checkpoint intact and loadable. Loading checks every tensor's
 * name, shape and dtype against the config from the headers alone, before any tensor data is
 * read or any GPU work starts, and fails with a `CheckpointMismatch` naming the tensor.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { Effect, Option, Result, Schema } from "effect";
import {
  ConfigInvalid,
  decodeQwen25VLConfig,
  encodeQwen25VLConfig,
  GenerationConfig,
  PreprocessorConfig,
  publishedTensorName,
  type Qwen25VLConfig,
  qwen25vlTensorShapes,
} from "./config.ts";
import { bf16ToF32, type Dtype, f16ToF32, f32ToBf16, f32ToF16, FLOAT_DTYPES } from "./dtype.ts";
import { FileIoFailed, fsCall, readText, syncDirectory, writeFileAtomic } from "./file_io.ts";
import {
  type HostTensor,
  readSafetensorsHeader,
  readSafetensorsTensors,
  type SafetensorsHeader,
  SafetensorsInvalid,
  type TensorEntry,
  writeSafetensorsFile,
} from "./safetensors.ts";
import { loadTokenizer, type Tokenizer, tokenizerJsonText } from "../text/tokenizer.ts";
import type { TokenizerInvalid } from "../text/tokenizer_json.ts";
import { tokenizerConfigJson } from "../text/tokenizer_config.ts";

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const NonNegativeNumber = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/** trainer_state.json: everything besides tensors that a resumed run needs to continue exactly. */
export const TrainerState = Schema.Struct({
  format: Schema.Literal("spatial-thinker/trainer-state@1"),
  /** Optimizer steps completed. */
  step: NonNegativeInt,
  /** The run's one seed; every random stream derives from it. */
  seed: Schema.Int,
  /** State of the run's random generator, serialised by its owner (e.g. hex words). */
  rng: Schema.Struct({ algorithm: Schema.String, state: Schema.String }),
  /** Where the data stream stands: epoch and position within that epoch's order. */
  data_order: Schema.Struct({ epoch: NonNegativeInt, position: NonNegativeInt }),
  optimizer: Schema.Struct({
    name: Schema.Literal("adamw"),
    /** AdamW updates applied so far (bias correction); GRPO makes several per step. */
    updates: NonNegativeInt,
    learning_rate: NonNegativeNumber,
    beta1: NonNegativeNumber,
    beta2: NonNegativeNumber,
    epsilon: NonNegativeNumber,
    weight_decay: NonNegativeNumber,
  }),
  /** The preset the model was built from, when it came from one. */
  preset: Schema.optionalKey(Schema.String),
});

/** Decoded trainer_state.json. */
export type TrainerState = typeof TrainerState.Type;

/** A checkpoint does not match its config (or the optimizer state its model). */
export class CheckpointMismatch extends Schema.TaggedError<CheckpointMismatch>()(
  "CheckpointMismatch",
  {
    dir: Schema.String,
    tensor: Schema.String,
    expected: Schema.String,
    found: Schema.String,
  },
) {
  override get message(): string {
    return `checkpoint ${this.dir}: tensor "${this.tensor}" should be ${this.expected}, found ${this.found}`;
  }
}

/** A JSON file of the checkpoint is missing its required content. */
export class CheckpointFileInvalid extends Schema.TaggedError<CheckpointFileInvalid>()(
  "CheckpointFileInvalid",
  { file: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `${this.file}: ${this.reason}`;
  }
}

/** `saveCheckpoint` never replaces a folder: checkpoints are written once, under a new name. */
export class CheckpointExists extends Schema.TaggedError<CheckpointExists>()("CheckpointExists", {
  dir: Schema.String,
}) {
  override get message(): string {
    return `checkpoint ${this.dir} already exists; checkpoints are written once (use a new step)`;
  }
}

/**
 * The model part of a checkpoint, as the model code holds it (f32 host arrays). Loading gives
 * `Float32Array<ArrayBuffer>` arrays, ready for GPU upload.
 */
export interface ModelCheckpoint<Values extends Float32Array = Float32Array> {
  readonly config: Qwen25VLConfig;
  /** Every tensor of `qwen25vlTensorShapes(config)`, published names, row-major f32. */
  readonly weights: ReadonlyMap<string, Values>;
  readonly generation: GenerationConfig;
  readonly preprocessor: PreprocessorConfig;
  readonly tokenizer: Tokenizer;
}

/** The training part: AdamW moments (same names and shapes as the weights) and trainer_state. */
export interface TrainingCheckpoint<Values extends Float32Array = Float32Array> {
  readonly expAvg: ReadonlyMap<string, Values>;
  readonly expAvgSq: ReadonlyMap<string, Values>;
  readonly state: TrainerState;
}

/** Options for `saveCheckpoint`. */
export interface SaveOptions {
  /** Storage dtype of the model weights (optimizer state is always F32). Default "F32". */
  readonly dtype?: "F32" | "F16" | "BF16";
  /** Split model weights into shards of at most this many bytes. Default 5 GB (as transformers). */
  readonly maxShardBytes?: number;
}

const MODEL_FILE = "model.safetensors";
const INDEX_FILE = "model.safetensors.index.json";
const OPTIMIZER_FILE = "optimizer.safetensors";
const TRAINER_STATE_FILE = "trainer_state.json";

const shapeText = (dtype: string, shape: ReadonlyArray<number>) => `${dtype}[${shape.join(", ")}]`;

/** The folder name of the checkpoint after `step` optimizer steps (sorts by step). */
export const checkpointDirName = (step: number): string => `step-${String(step).padStart(8, "0")}`;

const bytesOf = (values: Float32Array | Uint16Array): Uint8Array =>
  new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/**
 * Converts f32 values to a host tensor of the given float dtype (rounding to nearest even).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostTensorFromF32, hostTensorToF32 } from "./checkpoint.ts";
 * const t = hostTensorFromF32([2], new Float32Array([1, 2]), "BF16");
 * assert(hostTensorToF32(t)[1] === 2);
 * ```
 */
export const hostTensorFromF32 = (
  shape: ReadonlyArray<number>,
  values: Float32Array,
  dtype: "F32" | "F16" | "BF16",
): HostTensor => ({
  dtype,
  shape,
  data: dtype === "F32"
    ? bytesOf(values)
    : bytesOf(dtype === "F16" ? f32ToF16(values) : f32ToBf16(values)),
});

/**
 * Widens a float host tensor to a fresh f32 array (copying, so the result is aligned).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostTensorToF32 } from "./checkpoint.ts";
 * const t = { dtype: "F16" as const, shape: [1], data: new Uint8Array([0x00, 0x3c]) };
 * assert(hostTensorToF32(t)[0] === 1);
 * ```
 */
export const hostTensorToF32 = (tensor: HostTensor): Float32Array<ArrayBuffer> => {
  const copy = tensor.data.slice();
  switch (tensor.dtype) {
    case "F32":
      return new Float32Array(copy.buffer);
    case "F16":
      return f16ToF32(new Uint16Array(copy.buffer)) as Float32Array<ArrayBuffer>;
    case "BF16":
      return bf16ToF32(new Uint16Array(copy.buffer)) as Float32Array<ArrayBuffer>;
    default:
      throw new TypeError(`hostTensorToF32: ${tensor.dtype} is not a float dtype`);
  }
};

/**
 * Checks tensors (by name → dtype and shape) against a config: every expected tensor present with
 * its shape and a float dtype, nothing unexpected. Names may use either key layout. A tied model
 * may also carry `lm_head.weight` (some exporters write it); it is accepted if its shape fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { checkTensorsAgainstConfig } from "./checkpoint.ts";
 * import { PRESETS } from "./config.ts";
 * const result = checkTensorsAgainstConfig(new Map(), PRESETS.tiny.config, "ckpt");
 * assert(Result.isFailure(result) && result.failure.tensor === "visual.patch_embed.proj.weight");
 * ```
 */
export const checkTensorsAgainstConfig = (
  tensors: ReadonlyMap<string, { readonly dtype: Dtype; readonly shape: ReadonlyArray<number> }>,
  config: Qwen25VLConfig,
  dir: string,
): Result.Result<void, CheckpointMismatch> => {
  const expected = qwen25vlTensorShapes(config);
  const found = new Map<string, { dtype: Dtype; shape: ReadonlyArray<number> }>();
  for (const [name, tensor] of tensors) found.set(publishedTensorName(name), tensor);
  const mismatch = (tensor: string, want: string, got: string) =>
    Result.fail(new CheckpointMismatch({ dir, tensor, expected: want, found: got }));
  for (const [name, shape] of expected) {
    const tensor = found.get(name);
    if (tensor === undefined) return mismatch(name, shapeText("float", shape), "no such tensor");
    if (!FLOAT_DTYPES.includes(tensor.dtype)) {
      return mismatch(
        name,
        shapeText("F32|F16|BF16", shape),
        shapeText(tensor.dtype, tensor.shape),
      );
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      return mismatch(name, shapeText(tensor.dtype, shape), shapeText(tensor.dtype, tensor.shape));
    }
  }
  for (const [name, tensor] of found) {
    if (expected.has(name)) continue;
    const tiedHead = name === "lm_head.weight" && config.tie_word_embeddings &&
      tensor.shape.length === 2 && tensor.shape[0] === config.vocab_size &&
      tensor.shape[1] === config.hidden_size;
    if (!tiedHead) {
      return mismatch(name, "no such tensor in this config", shapeText(tensor.dtype, tensor.shape));
    }
  }
  return Result.succeed(undefined);
};

/** Groups tensors into shards of at most `maxBytes` (a tensor larger than that gets its own). */
const shardTensors = (
  tensors: ReadonlyMap<string, HostTensor>,
  maxBytes: number,
): Array<Map<string, HostTensor>> => {
  const shards: Array<Map<string, HostTensor>> = [new Map()];
  let bytes = 0;
  for (const [name, tensor] of tensors) {
    if (bytes > 0 && bytes + tensor.data.length > maxBytes) {
      shards.push(new Map());
      bytes = 0;
    }
    shards[shards.length - 1]!.set(name, tensor);
    bytes += tensor.data.length;
  }
  return shards;
};

const shardFileName = (index: number, count: number) =>
  `model-${String(index + 1).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.safetensors`;

const jsonBytes = (value: unknown) =>
  new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

const exists = (path: string) =>
  Effect.promise(() => Deno.lstat(path).then(() => true, () => false));

/** Writes every file of a checkpoint into `dir` (which must exist). */
const writeCheckpointFiles = (
  dir: string,
  model: ModelCheckpoint,
  training: TrainingCheckpoint | undefined,
  options: SaveOptions,
) =>
  Effect.gen(function* () {
    const shapes = qwen25vlTensorShapes(model.config);
    const dtype = options.dtype ?? "F32";
    const weights = new Map<string, HostTensor>();
    for (const [name, shape] of shapes) {
      weights.set(name, hostTensorFromF32(shape, model.weights.get(name)!, dtype));
    }
    const torchDtype = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;
    const config = { ...encodeQwen25VLConfig(model.config), torch_dtype: torchDtype[dtype] };
    yield* writeFileAtomic(join(dir, "config.json"), [jsonBytes(config)]);
    yield* writeFileAtomic(join(dir, "generation_config.json"), [jsonBytes(model.generation)]);
    yield* writeFileAtomic(join(dir, "preprocessor_config.json"), [jsonBytes(model.preprocessor)]);
    yield* writeFileAtomic(join(dir, "tokenizer.json"), [
      new TextEncoder().encode(tokenizerJsonText(model.tokenizer)),
    ]);
    yield* writeFileAtomic(join(dir, "tokenizer_config.json"), [
      jsonBytes(tokenizerConfigJson(model.tokenizer, model.config.max_position_embeddings)),
    ]);
    const shards = shardTensors(weights, options.maxShardBytes ?? 5_000_000_000);
    if (shards.length === 1) {
      yield* writeSafetensorsFile(join(dir, MODEL_FILE), shards[0]!, { format: "pt" });
    } else {
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      for (const [index, shard] of shards.entries()) {
        const file = shardFileName(index, shards.length);
        yield* writeSafetensorsFile(join(dir, file), shard, { format: "pt" });
        for (const [name, tensor] of shard) {
          weightMap[name] = file;
          totalSize += tensor.data.length;
        }
      }
      yield* writeFileAtomic(join(dir, INDEX_FILE), [
        jsonBytes({ metadata: { total_size: totalSize }, weight_map: weightMap }),
      ]);
    }
    if (training !== undefined) {
      const moments = new Map<string, HostTensor>();
      for (const [name, shape] of shapes) {
        moments.set(`${name}.exp_avg`, hostTensorFromF32(shape, training.expAvg.get(name)!, "F32"));
        moments.set(
          `${name}.exp_avg_sq`,
          hostTensorFromF32(shape, training.expAvgSq.get(name)!, "F32"),
        );
      }
      yield* writeSafetensorsFile(join(dir, OPTIMIZER_FILE), moments, {
        step: String(training.state.step),
      });
      yield* writeFileAtomic(join(dir, TRAINER_STATE_FILE), [
        jsonBytes(Schema.encodeSync(TrainerState)(training.state)),
      ]);
    }
  });

/** Checks the in-memory weights (and moments) against the config before anything is written. */
const checkBeforeSave = (
  dir: string,
  model: ModelCheckpoint,
  training: TrainingCheckpoint | undefined,
): Result.Result<void, CheckpointMismatch> => {
  const shapes = qwen25vlTensorShapes(model.config);
  const sources: Array<[string, ReadonlyMap<string, Float32Array>]> = [["", model.weights]];
  if (training !== undefined) {
    sources.push([".exp_avg", training.expAvg], [".exp_avg_sq", training.expAvgSq]);
  }
  for (const [suffix, values] of sources) {
    for (const [name, shape] of shapes) {
      const count = shape.reduce((product, d) => product * d, 1);
      const array = values.get(name);
      if (array === undefined || array.length !== count) {
        return Result.fail(
          new CheckpointMismatch({
            dir,
            tensor: `${name}${suffix}`,
            expected: `${count} values for ${shapeText("F32", shape)}`,
            found: array === undefined ? "no such tensor" : `${array.length} values`,
          }),
        );
      }
    }
    for (const name of values.keys()) {
      if (!shapes.has(name)) {
        return Result.fail(
          new CheckpointMismatch({
            dir,
            tensor: `${name}${suffix}`,
            expected: "no such tensor in this config",
            found: "a tensor",
          }),
        );
      }
    }
  }
  return Result.succeed(undefined);
};

let temporaryCounter = 0;

/**
 * Saves a checkpoint folder atomically: validates, writes everything into a temporary sibling
 * folder with fsync, then renames it to `dir`, which must not exist yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect, Result } from "effect";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { PRESETS, qwen25vlTensorShapes } from "./config.ts";
 * import { Tokenizer } from "../text/tokenizer.ts";
 * import { trainByteLevelBpe } from "../text/trainer.ts";
 * import { QWEN_SPECIAL_TOKENS } from "../text/special_tokens.ts";
 * const { config, generation, preprocessor } = PRESETS.tiny;
 * const tokenizer = Result.getOrThrow(Tokenizer.fromJson(Result.getOrThrow(
 *   trainByteLevelBpe(["a tiny corpus"], { vocabSize: 1024, specialTokens: QWEN_SPECIAL_TOKENS })), "t"));
 * const weights = new Map([...qwen25vlTensorShapes(config)].map(([name, shape]) =>
 *   [name, new Float32Array(shape.reduce((a, b) => a * b, 1))]));
 * const dir = (await Deno.makeTempDir()) + "/step-00000000";
 * await Effect.runPromise(saveCheckpoint(dir, { config, weights, generation, preprocessor, tokenizer }));
 * const loaded = await Effect.runPromise(loadCheckpoint(dir));
 * assert(loaded.weights.size === weights.size);
 * ```
 */
export const saveCheckpoint = (
  dir: string,
  model: ModelCheckpoint,
  training?: TrainingCheckpoint,
  options: SaveOptions = {},
): Effect.Effect<void, CheckpointMismatch | CheckpointExists | FileIoFailed> =>
  Effect.gen(function* () {
    yield* Effect.fromResult(checkBeforeSave(dir, model, training));
    if (yield* exists(dir)) return yield* new CheckpointExists({ dir });
    const parent = dirname(dir);
    const temp = `${dir}.tmp-${Deno.pid}-${temporaryCounter++}`;
    yield* fsCall(parent, "create directory", () => Deno.mkdir(parent, { recursive: true }));
    yield* fsCall(temp, "create directory", () => Deno.mkdir(temp));
    yield* Effect.onError(
      Effect.gen(function* () {
        yield* writeCheckpointFiles(temp, model, training, options);
        yield* syncDirectory(temp);
        // rename(2) is atomic: readers see no folder or the complete one, never a partial one.
        yield* fsCall(temp, "rename into place", () => Deno.rename(temp, dir));
        yield* syncDirectory(parent);
      }),
      () => Effect.promise(() => Deno.remove(temp, { recursive: true }).catch(() => undefined)),
    );
  });

const parseJsonFile = (path: string) =>
  Effect.flatMap(readText(path), (text) =>
    Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (cause) =>
        new CheckpointFileInvalid({ file: path, reason: `not JSON: ${String(cause)}` }),
    }));

const decodeJsonFile = <S extends Schema.Top & { readonly DecodingServices: never }>(
  path: string,
  schema: S,
) =>
  Effect.flatMap(parseJsonFile(path), (json) =>
    Effect.mapError(
      Schema.decodeUnknownEffect(schema)(json),
      (issue) => new CheckpointFileInvalid({ file: path, reason: issue.message }),
    ));

/** Where one tensor of an opened checkpoint lives. */
export interface TensorLocation {
  readonly file: string;
  readonly header: SafetensorsHeader;
  readonly entry: TensorEntry;
}

/** A checkpoint whose config and tensor headers were read and checked, data not yet read. */
export interface OpenedCheckpoint {
  readonly dir: string;
  readonly config: Qwen25VLConfig;
  /** Published tensor name → file and header entry, for every tensor the config expects, in
   * `qwen25vlTensorShapes` order. */
  readonly tensors: ReadonlyMap<string, TensorLocation>;
}

/** Every error opening or loading a checkpoint can raise. */
export type CheckpointLoadError =
  | CheckpointMismatch
  | CheckpointFileInvalid
  | ConfigInvalid
  | SafetensorsInvalid
  | TokenizerInvalid
  | FileIoFailed;

/**
 * Reads config.json and the safetensors headers (single file or sharded with an index), and
 * checks every tensor against the config. Reads no tensor data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { openCheckpoint } from "./checkpoint.ts";
 * const error = await Effect.runPromise(Effect.flip(openCheckpoint("/nonexistent")));
 * assert(error._tag === "FileIoFailed");
 * ```
 */
export const openCheckpoint = (dir: string): Effect.Effect<OpenedCheckpoint, CheckpointLoadError> =>
  Effect.gen(function* () {
    const configPath = join(dir, "config.json");
    const config = yield* Effect.fromResult(
      decodeQwen25VLConfig(yield* parseJsonFile(configPath), configPath),
    );
    const indexPath = join(dir, INDEX_FILE);
    let files: Array<string>;
    let declared: Map<string, string> | undefined;
    if (yield* exists(indexPath)) {
      const index = yield* decodeJsonFile(
        indexPath,
        Schema.Struct({ weight_map: Schema.Record(Schema.String, Schema.String) }),
      );
      declared = new Map(Object.entries(index.weight_map));
      files = [...new Set(declared.values())].sort();
    } else {
      files = [MODEL_FILE];
    }
    const tensors = new Map<string, TensorLocation>();
    const headers = new Map<string, { dtype: Dtype; shape: ReadonlyArray<number> }>();
    for (const file of files) {
      if (file.includes("/") || file.includes("\\")) {
        return yield* new CheckpointFileInvalid({ file: indexPath, reason: `shard name ${file}` });
      }
      const path = join(dir, file);
      const header = yield* readSafetensorsHeader(path);
      for (const entry of header.tensors) {
        if (declared !== undefined && declared.get(entry.name) !== file) {
          return yield* new CheckpointFileInvalid({
            file: indexPath,
            reason: `tensor ${entry.name} is in ${file} but the index says ${
              declared.get(entry.name) ?? "nothing"
            }`,
          });
        }
        const name = publishedTensorName(entry.name);
        if (tensors.has(name)) {
          return yield* new CheckpointMismatch({
            dir,
            tensor: name,
            expected: "one copy",
            found: `a second copy in ${file}`,
          });
        }
        tensors.set(name, { file: path, header, entry });
        headers.set(name, entry);
      }
    }
    if (declared !== undefined) {
      for (const [name, file] of declared) {
        if (!tensors.has(publishedTensorName(name))) {
          return yield* new CheckpointFileInvalid({
            file: indexPath,
            reason: `index lists ${name} in ${file}, which does not hold it`,
          });
        }
      }
    }
    yield* Effect.fromResult(checkTensorsAgainstConfig(headers, config, dir));
    // In qwen25vlTensorShapes order, which the model code relies on; a tied lm_head is dropped.
    const ordered = new Map<string, TensorLocation>();
    for (const name of qwen25vlTensorShapes(config).keys()) ordered.set(name, tensors.get(name)!);
    return { dir, config, tensors: ordered };
  });

/**
 * The dtype every matrix (tensor of rank ≥ 2) of an opened checkpoint is stored in — F16 or BF16
 * when they all share it — and F32 otherwise (F32 or mixed). Norm weights and biases do not count:
 * exporters often keep those in f32 beside 16-bit matrices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointMatrixDtype } from "./checkpoint.ts";
 * import { PRESETS } from "./config.ts";
 * const empty = { dir: "x", config: PRESETS.tiny.config, tensors: new Map() };
 * assert(checkpointMatrixDtype(empty) === "F32");
 * ```
 */
export const checkpointMatrixDtype = (checkpoint: OpenedCheckpoint): "F32" | "F16" | "BF16" => {
  const dtypes = new Set(
    [...checkpoint.tensors.values()]
      .filter((t) => t.entry.shape.length >= 2)
      .map((t) => t.entry.dtype),
  );
  const [only] = dtypes;
  return dtypes.size === 1 && (only === "F16" || only === "BF16") ? only : "F32";
};

/**
 * Reads the named tensors of an opened checkpoint as f32 (widening F16/BF16), file by file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readCheckpointTensors } from "./checkpoint.ts";
 * import { PRESETS } from "./config.ts";
 * const empty = { dir: "x", config: PRESETS.tiny.config, tensors: new Map() };
 * assert((await Effect.runPromise(readCheckpointTensors(empty, []))).size === 0);
 * ```
 */
export const readCheckpointTensors = (
  checkpoint: OpenedCheckpoint,
  names: Iterable<string>,
): Effect.Effect<Map<string, Float32Array<ArrayBuffer>>, SafetensorsInvalid | FileIoFailed> =>
  Effect.gen(function* () {
    const byFile = new Map<string, Array<string>>();
    for (const name of names) {
      const location = checkpoint.tensors.get(name);
      if (location === undefined) {
        return yield* new SafetensorsInvalid({
          file: checkpoint.dir,
          tensor: name,
          reason: "not in checkpoint",
        });
      }
      const group = byFile.get(location.file) ?? [];
      group.push(name);
      byFile.set(location.file, group);
    }
    const out = new Map<string, Float32Array<ArrayBuffer>>();
    for (const [file, group] of byFile) {
      const header = checkpoint.tensors.get(group[0]!)!.header;
      const stored = group.map((name) => checkpoint.tensors.get(name)!.entry.name);
      const read = yield* readSafetensorsTensors(file, header, stored);
      group.forEach((name, i) => out.set(name, hostTensorToF32(read.get(stored[i]!)!)));
    }
    return out;
  });

/**
 * Visits every tensor of an opened checkpoint as stored (no widening), reading one tensor at a
 * time in `qwen25vlTensorShapes` order, so that a loader uploading each to the GPU holds at most
 * one tensor on the host (the 3B's largest, its embedding, is 622 MB in BF16).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { forEachCheckpointTensor } from "./checkpoint.ts";
 * import { PRESETS } from "./config.ts";
 * const empty = { dir: "x", config: PRESETS.tiny.config, tensors: new Map() };
 * let visited = 0;
 * await Effect.runPromise(forEachCheckpointTensor(empty, () => Effect.sync(() => visited++)));
 * assert(visited === 0);
 * ```
 */
export const forEachCheckpointTensor = <E>(
  checkpoint: OpenedCheckpoint,
  visit: (name: string, tensor: HostTensor) => Effect.Effect<void, E>,
): Effect.Effect<void, SafetensorsInvalid | FileIoFailed | E> =>
  Effect.gen(function* () {
    for (const [name, location] of checkpoint.tensors) {
      const stored = location.entry.name;
      const read = yield* readSafetensorsTensors(location.file, location.header, [stored]);
      yield* visit(name, read.get(stored)!);
    }
  });

/** What is saved beside the weights: sampling defaults, image processor settings, tokenizer. */
export interface CheckpointSideFiles {
  readonly generation: GenerationConfig;
  readonly preprocessor: PreprocessorConfig;
  readonly tokenizer: Tokenizer;
}

/**
 * Reads generation_config.json, preprocessor_config.json and tokenizer.json of a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readCheckpointSideFiles } from "./checkpoint.ts";
 * const error = await Effect.runPromise(Effect.flip(readCheckpointSideFiles("/nonexistent")));
 * assert(error._tag === "FileIoFailed");
 * ```
 */
export const readCheckpointSideFiles = (
  dir: string,
): Effect.Effect<
  CheckpointSideFiles,
  CheckpointFileInvalid | TokenizerInvalid | FileIoFailed
> =>
  Effect.gen(function* () {
    const generation = yield* decodeJsonFile(join(dir, "generation_config.json"), GenerationConfig);
    const preprocessor = yield* decodeJsonFile(
      join(dir, "preprocessor_config.json"),
      PreprocessorConfig,
    );
    const tokenizer = yield* loadTokenizer(join(dir, "tokenizer.json"));
    return { generation, preprocessor, tokenizer };
  });

/**
 * Loads a whole model checkpoint (config, f32 weights, tokenizer, processor and generation
 * settings), after checking every tensor against the config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { loadCheckpoint } from "./checkpoint.ts";
 * const error = await Effect.runPromise(Effect.flip(loadCheckpoint("/nonexistent")));
 * assert(error.message.includes("/nonexistent"));
 * ```
 */
export const loadCheckpoint = (
  dir: string,
): Effect.Effect<ModelCheckpoint<Float32Array<ArrayBuffer>>, CheckpointLoadError> =>
  Effect.gen(function* () {
    const opened = yield* openCheckpoint(dir);
    const weights = yield* readCheckpointTensors(opened, opened.tensors.keys());
    return { config: opened.config, weights, ...(yield* readCheckpointSideFiles(dir)) };
  });

/**
 * Loads the optimizer moments and trainer_state.json of a checkpoint, checking the moments
 * against the model config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { loadTrainingState } from "./checkpoint.ts";
 * import { PRESETS } from "./config.ts";
 * const error = await Effect.runPromise(Effect.flip(loadTrainingState("/nonexistent", PRESETS.tiny.config)));
 * assert(error._tag === "FileIoFailed");
 * ```
 */
export const loadTrainingState = (
  dir: string,
  config: Qwen25VLConfig,
): Effect.Effect<TrainingCheckpoint<Float32Array<ArrayBuffer>>, CheckpointLoadError> =>
  Effect.gen(function* () {
    const state = yield* decodeJsonFile(join(dir, TRAINER_STATE_FILE), TrainerState);
    const path = join(dir, OPTIMIZER_FILE);
    const header = yield* readSafetensorsHeader(path);
    const shapes = qwen25vlTensorShapes(config);
    const entries = new Map(header.tensors.map((entry) => [entry.name, entry]));
    for (const suffix of [".exp_avg", ".exp_avg_sq"]) {
      for (const [name, shape] of shapes) {
        const entry = entries.get(`${name}${suffix}`);
        const want = shapeText("F32", shape);
        if (entry === undefined) {
          return yield* new CheckpointMismatch({
            dir,
            tensor: `${name}${suffix}`,
            expected: want,
            found: "no such tensor",
          });
        }
        if (entry.dtype !== "F32" || shapeText(entry.dtype, entry.shape) !== want) {
          return yield* new CheckpointMismatch({
            dir,
            tensor: `${name}${suffix}`,
            expected: want,
            found: shapeText(entry.dtype, entry.shape),
          });
        }
      }
    }
    if (entries.size !== 2 * shapes.size) {
      const extra = [...entries.keys()].find((name) =>
        !shapes.has(name.replace(/\.exp_avg(_sq)?$/, "")) || !/\.exp_avg(_sq)?$/.test(name)
      );
      return yield* new CheckpointMismatch({
        dir,
        tensor: extra ?? "",
        expected: "no such tensor in this config",
        found: "a tensor",
      });
    }
    const read = yield* readSafetensorsTensors(path, header, entries.keys());
    const expAvg = new Map<string, Float32Array<ArrayBuffer>>();
    const expAvgSq = new Map<string, Float32Array<ArrayBuffer>>();
    for (const name of shapes.keys()) {
      expAvg.set(name, hostTensorToF32(read.get(`${name}.exp_avg`)!));
      expAvgSq.set(name, hostTensorToF32(read.get(`${name}.exp_avg_sq`)!));
    }
    return { expAvg, expAvgSq, state };
  });

/**
 * Removes the temporary folders (`step-N.tmp-PID-K`) that saves interrupted by a crash or SIGKILL
 * left under `root` — a run owns its checkpoints folder, so a resuming run calls this before it
 * saves again. Complete `step-N` folders are never touched; a missing `root` is nothing to clean.
 * Returns the names removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { removeInterruptedSaves } from "./checkpoint.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(root + "/step-00000010");
 * await Deno.mkdir(root + "/step-00000020.tmp-41-0");
 * assert.deepEqual(await Effect.runPromise(removeInterruptedSaves(root)), ["step-00000020.tmp-41-0"]);
 * assert((await Deno.stat(root + "/step-00000010")).isDirectory);
 * ```
 */
export const removeInterruptedSaves = (
  root: string,
): Effect.Effect<ReadonlyArray<string>, FileIoFailed> =>
  Effect.gen(function* () {
    if (!(yield* exists(root))) return [];
    const entries = yield* fsCall(root, "list", () => Array.fromAsync(Deno.readDir(root)));
    const stale = entries
      .filter((entry) => entry.isDirectory && /^step-\d+\.tmp-\d+-\d+$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    for (const name of stale) {
      const path = join(root, name);
      yield* fsCall(path, "remove", () => Deno.remove(path, { recursive: true }));
    }
    return stale;
  });

/**
 * The newest complete checkpoint folder (`step-N`) under `root`, if any. Temporary folders left
 * by an interrupted save are never returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect, Option } from "effect";
 * import { latestCheckpoint } from "./checkpoint.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(root + "/step-00000010");
 * await Deno.mkdir(root + "/step-00000020.tmp-1-0");
 * const latest = await Effect.runPromise(latestCheckpoint(root));
 * assert(Option.getOrThrow(latest).endsWith("step-00000010"));
 * ```
 */
export const latestCheckpoint = (
  root: string,
): Effect.Effect<Option.Option<string>, FileIoFailed> =>
  Effect.map(
    fsCall(root, "list", () => Array.fromAsync(Deno.readDir(root))),
    (entries) => {
      const steps = entries
        .filter((entry) => entry.isDirectory && /^step-\d+$/.test(entry.name))
        .map((entry) => ({ name: entry.name, step: Number(entry.name.slice(5)) }))
        .sort((a, b) => b.step - a.step);
      return steps.length === 0 ? Option.none() : Option.some(join(root, steps[0]!.name));
    },
  );
