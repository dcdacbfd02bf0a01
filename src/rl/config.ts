/**
 * The GRPO trainer's configuration: a Schema-typed record with two presets (`paper`: the
 * SpatialThinker scripts' values; `tiny`: a scale that trains on a CPU adapter), loaded as
 * "preset, then a JSON file, then dotted command-line overrides" (`--rollout.n=8`). Every bad key
 * or value is a typed error that names the key, the value and where it came from.
 *
 * @module
 */
import { Effect, Predicate, Result, Schema, SchemaIssue } from "effect";
import { AGGREGATION_MODES } from "./aggregation.ts";
import { KL_ESTIMATORS } from "./kl.ts";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const Positive = Schema.Finite.check(Schema.isGreaterThan(0));
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));
const UnitOpen = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThan(1));
const UnitHalfOpen = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1));
const Beta = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1));

/** Sampling of the rollouts. */
export const RolloutConfig = Schema.Struct({
  /** Responses sampled per prompt (the GRPO group size G). */
  n: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)),
  temperature: Positive,
  topP: UnitHalfOpen,
  /** Generation budget per response; also L_max of the Dr.GRPO aggregation. */
  maxNewTokens: PositiveInt,
  /** Prompts per rollout step (responses per step = batchSize · n). */
  batchSize: PositiveInt,
});

/** Optimisation of the actor. */
export const ActorConfig = Schema.Struct({
  /** Prompts per optimizer update; each rollout step gives batchSize / miniBatchSize updates. */
  miniBatchSize: PositiveInt,
  /** Responses per forward/backward pass; gradients are accumulated over a mini-batch. */
  microBatchSize: PositiveInt,
  lr: Positive,
  betas: Schema.Tuple([Beta, Beta]),
  weightDecay: NonNegative,
  /** Linear warm-up steps of the learning rate (constant afterwards). */
  warmupSteps: NonNegativeInt,
  /** Global gradient-norm clip. */
  gradClip: Positive,
});

/** The GRPO objective. */
export const AlgorithmConfig = Schema.Struct({
  /** `true`: divide advantages by the group std (GRPO); `false`: centre only (Dr.GRPO). */
  normalizeAdvantageByStd: Schema.Boolean,
  clipLow: UnitOpen,
  clipHigh: Positive,
  /** Dual-clip constant c, > 1. */
  dualClip: Schema.Finite.check(Schema.isGreaterThan(1)),
  /** Coefficient of the KL loss against the frozen reference; 0 drops the reference model. */
  klCoef: NonNegative,
  klEstimator: Schema.Literals(KL_ESTIMATORS),
  aggregation: Schema.Literals(AGGREGATION_MODES),
  /** Drop groups whose answer accuracy does not vary, and sample more prompts instead. */
  dynamicSampling: Schema.Boolean,
});

/** Schedule, seed and checkpointing. */
export const TrainerConfig = Schema.Struct({
  steps: PositiveInt,
  /** The one seed that drives sampling, shuffling and initialisation. */
  seed: NonNegativeInt,
  /** Validate every `valFreq` steps (0: never). */
  valFreq: NonNegativeInt,
  /** Save a checkpoint every `saveFreq` steps (0: only at the end). */
  saveFreq: NonNegativeInt,
});

/** Which named reward variant scores the rollouts (the weights live in `domain/reward.ts`). */
export const RewardSelection = Schema.Struct({
  /**
   * A reward variant name of `src/stages/reward.ts` (`spatial-thinker`, `sparse`,
   * `naive-spatial`, `strict`); the trainer resolves it, since `rl` sits below `stages`.
   */
  variant: Schema.NonEmptyString,
});

/** The whole GRPO trainer configuration. */
export const GrpoConfig = Schema.Struct({
  rollout: RolloutConfig,
  actor: ActorConfig,
  algorithm: AlgorithmConfig,
  trainer: TrainerConfig,
  reward: RewardSelection,
});

/** A decoded, cross-checked GRPO configuration. */
export type GrpoConfig = typeof GrpoConfig.Type;

/** Names of the built-in presets. */
export const GRPO_PRESET_NAMES = ["paper", "tiny"] as const;

/** One of {@link GRPO_PRESET_NAMES}. */
export type GrpoPresetName = typeof GRPO_PRESET_NAMES[number];

/**
 * Built-in presets.
 * - `paper`: the SpatialThinker 7B scripts (rl.md, paper.md §2): 512 prompts × 8 per step,
 *   128-prompt mini-batches (4 updates per step), lr 1e-6, 75 steps.
 * - `tiny`: our CPU scale. Differs from `paper` where the paper's value cannot work at this
 *   scale: 16 prompts × 8 per step (a step must fit minutes on lavapipe), 256 new tokens (small
 *   models write short scene graphs), lr 5e-5 (a 1.3 M-parameter policy moved by 1e-6 would not
 *   move at all, while 1e-3 collapsed it in one update in our PyTorch reference run), 2 updates
 *   per step, 130 steps, validation every 10.
 */
export const GRPO_PRESETS: Readonly<Record<GrpoPresetName, GrpoConfig>> = {
  paper: {
    rollout: {
      n: 8,
      temperature: 1,
      topP: 1,
      maxNewTokens: 2048,
      batchSize: 512,
    },
    actor: {
      miniBatchSize: 128,
      microBatchSize: 4,
      lr: 1e-6,
      betas: [0.9, 0.999],
      weightDecay: 1e-2,
      warmupSteps: 0,
      gradClip: 1,
    },
    algorithm: {
      normalizeAdvantageByStd: true,
      clipLow: 0.2,
      clipHigh: 0.3,
      dualClip: 3,
      klCoef: 0.01,
      klEstimator: "low_var_kl",
      aggregation: "token-mean",
      dynamicSampling: false,
    },
    trainer: { steps: 75, seed: 1, valFreq: 5, saveFreq: 5 },
    reward: { variant: "spatial-thinker" },
  },
  tiny: {
    rollout: {
      n: 8,
      temperature: 1,
      topP: 1,
      maxNewTokens: 256,
      batchSize: 16,
    },
    actor: {
      miniBatchSize: 8,
      microBatchSize: 16,
      lr: 5e-5,
      betas: [0.9, 0.999],
      weightDecay: 1e-2,
      warmupSteps: 0,
      gradClip: 1,
    },
    algorithm: {
      normalizeAdvantageByStd: true,
      clipLow: 0.2,
      clipHigh: 0.3,
      dualClip: 3,
      klCoef: 0.01,
      klEstimator: "low_var_kl",
      aggregation: "token-mean",
      dynamicSampling: false,
    },
    trainer: { steps: 130, seed: 1, valFreq: 10, saveFreq: 25 },
    reward: { variant: "spatial-thinker" },
  },
};

/** The config file could not be read or is not a JSON object. */
export class ConfigFileError extends Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `config file ${this.path}: ${this.reason}`;
  }
}

/** A file entry or override names a key the configuration does not have. */
export class ConfigKeyUnknown extends Schema.TaggedError<ConfigKeyUnknown>()("ConfigKeyUnknown", {
  key: Schema.String,
  source: Schema.String,
  known: Schema.Array(Schema.String),
}) {
  override get message(): string {
    return `unknown config key "${this.key}" (from ${this.source}); known keys: ` +
      this.known.join(", ");
  }
}

/** A key holds a value of the wrong type or out of range, or values contradict each other. */
export class ConfigValueInvalid extends Schema.TaggedError<ConfigValueInvalid>()(
  "ConfigValueInvalid",
  {
    key: Schema.String,
    value: Schema.String,
    source: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `config key "${this.key}" = ${this.value} (from ${this.source}): ${this.reason}`;
  }
}

/** Any failure of {@link resolveGrpoConfig}. */
export type GrpoConfigError = ConfigFileError | ConfigKeyUnknown | ConfigValueInvalid;

type Tree = { [key: string]: unknown };

/** Every leaf key of the configuration in dotted form, e.g. `rollout.n`. */
export const grpoConfigKeys = (): ReadonlyArray<string> => leafKeys(GRPO_PRESETS.paper, "");

const leafKeys = (tree: unknown, prefix: string): Array<string> =>
  Predicate.isObject(tree) && !Array.isArray(tree)
    ? Object.entries(tree).flatMap(([k, v]) => leafKeys(v, prefix === "" ? k : `${prefix}.${k}`))
    : [prefix];

const cloneTree = (value: unknown): Tree => structuredClone(value) as Tree;

/** The object holding the leaf at a dotted key, or `undefined` if the key is not a leaf. */
const leafParent = (tree: Tree, key: string): { parent: Tree; name: string } | undefined => {
  const parts = key.split(".");
  let node: unknown = tree;
  for (const p of parts.slice(0, -1)) {
    if (!Predicate.isObject(node) || Array.isArray(node) || !(p in node)) return undefined;
    node = (node as Tree)[p];
  }
  const name = parts[parts.length - 1]!;
  if (!Predicate.isObject(node) || Array.isArray(node) || !(name in node)) return undefined;
  const leaf = (node as Tree)[name];
  if (Predicate.isObject(leaf) && !Array.isArray(leaf)) return undefined;
  return { parent: node as Tree, name };
};

/** One layer of settings on top of a preset: a parsed file or the command-line overrides. */
export type ConfigLayer =
  | { readonly kind: "file"; readonly path: string; readonly content: unknown }
  | { readonly kind: "overrides"; readonly overrides: ReadonlyArray<string> };

/**
 * Pure core of the loader: starts from `preset`, applies each layer in order, decodes and
 * cross-checks. A file layer must be a JSON object shaped like (part of) the config; an override
 * is `--a.b=value` or `a.b=value`, where `value` is JSON (numbers, booleans, arrays) except for
 * string keys, which take the text as is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { resolveGrpoConfig } from "./config.ts";
 * const r = resolveGrpoConfig("tiny", [{ kind: "overrides", overrides: ["--rollout.n=4"] }]);
 * assert.ok(Result.isSuccess(r) && r.success.rollout.n === 4);
 * ```
 */
export const resolveGrpoConfig = (
  preset: GrpoPresetName,
  layers: ReadonlyArray<ConfigLayer>,
): Result.Result<GrpoConfig, GrpoConfigError> => {
  const tree = cloneTree(GRPO_PRESETS[preset]);
  const sources = new Map<string, string>(grpoConfigKeys().map((k) => [k, `preset ${preset}`]));
  const known = grpoConfigKeys();
  for (const layer of layers) {
    const applied = layer.kind === "file"
      ? applyFile(tree, layer.path, layer.content, sources, known)
      : applyOverrides(tree, layer.overrides, sources, known);
    if (applied !== undefined) return Result.fail(applied);
  }
  const decoded = Schema.decodeUnknownResult(GrpoConfig)(tree, { errors: "all" });
  if (Result.isFailure(decoded)) {
    const [first] = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues;
    const key = (first?.path ?? []).map(String).filter((p) => !/^\d+$/.test(p)).join(".");
    const slot = leafParent(tree, key);
    return Result.fail(
      new ConfigValueInvalid({
        key,
        value: JSON.stringify(slot === undefined ? undefined : slot.parent[slot.name]),
        source: sources.get(key) ?? "config",
        reason: first?.message ?? decoded.failure.message,
      }),
    );
  }
  const crossError = crossCheck(decoded.success, sources);
  return crossError === undefined ? Result.succeed(decoded.success) : Result.fail(crossError);
};

const applyFile = (
  tree: Tree,
  path: string,
  content: unknown,
  sources: Map<string, string>,
  known: ReadonlyArray<string>,
): GrpoConfigError | undefined => {
  if (!Predicate.isObject(content) || Array.isArray(content)) {
    return new ConfigFileError({ path, reason: "expected a JSON object at the top level" });
  }
  for (const key of leafKeys(content, "")) {
    const slot = leafParent(tree, key);
    if (slot === undefined) return new ConfigKeyUnknown({ key, source: path, known: [...known] });
    slot.parent[slot.name] = key.split(".").reduce<unknown>((n, p) => (n as Tree)[p], content);
    sources.set(key, path);
  }
  return undefined;
};

const applyOverrides = (
  tree: Tree,
  overrides: ReadonlyArray<string>,
  sources: Map<string, string>,
  known: ReadonlyArray<string>,
): GrpoConfigError | undefined => {
  for (const raw of overrides) {
    const text = raw.replace(/^--/, "");
    const eq = text.indexOf("=");
    const source = `command line ${raw}`;
    if (eq <= 0) {
      return new ConfigValueInvalid({
        key: text,
        value: "",
        source,
        reason: "expected --key=value, e.g. --rollout.n=8",
      });
    }
    const key = text.slice(0, eq);
    const value = text.slice(eq + 1);
    const slot = leafParent(tree, key);
    if (slot === undefined) return new ConfigKeyUnknown({ key, source, known: [...known] });
    slot.parent[slot.name] = Predicate.isString(slot.parent[slot.name]) ? value : parseJson(value);
    sources.set(key, source);
  }
  return undefined;
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** Constraints between keys that the per-key schema cannot express. */
const crossCheck = (
  c: GrpoConfig,
  sources: ReadonlyMap<string, string>,
): ConfigValueInvalid | undefined => {
  const fail = (key: string, value: number, reason: string) =>
    new ConfigValueInvalid({
      key,
      value: String(value),
      source: sources.get(key) ?? "config",
      reason,
    });
  if (c.rollout.batchSize % c.actor.miniBatchSize !== 0) {
    return fail(
      "actor.miniBatchSize",
      c.actor.miniBatchSize,
      `must divide rollout.batchSize (${c.rollout.batchSize})`,
    );
  }
  const responsesPerUpdate = c.actor.miniBatchSize * c.rollout.n;
  if (responsesPerUpdate % c.actor.microBatchSize !== 0) {
    return fail(
      "actor.microBatchSize",
      c.actor.microBatchSize,
      `must divide actor.miniBatchSize × rollout.n (${responsesPerUpdate})`,
    );
  }
  if (c.algorithm.dualClip <= 1 + c.algorithm.clipHigh) {
    return fail(
      "algorithm.dualClip",
      c.algorithm.dualClip,
      `must exceed 1 + algorithm.clipHigh (${1 + c.algorithm.clipHigh}) to ever apply`,
    );
  }
  return undefined;
};

/**
 * Loads a configuration: `preset`, then the JSON file at `file` (if given), then `overrides`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { loadGrpoConfig } from "./config.ts";
 * const c = await Effect.runPromise(
 *   loadGrpoConfig({ preset: "paper", file: undefined, overrides: ["--actor.lr=2e-6"] }),
 * );
 * assert.equal(c.actor.lr, 2e-6);
 * ```
 */
export const loadGrpoConfig = Effect.fn("loadGrpoConfig")(function* (options: {
  readonly preset: GrpoPresetName;
  readonly file: string | undefined;
  readonly overrides: ReadonlyArray<string>;
}): Effect.fn.Return<GrpoConfig, GrpoConfigError> {
  const layers: Array<ConfigLayer> = [];
  if (options.file !== undefined) {
    const path = options.file;
    const text = yield* Effect.tryPromise({
      try: () => Deno.readTextFile(path),
      catch: (cause) => new ConfigFileError({ path, reason: String(cause) }),
    });
    const content = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (cause) => new ConfigFileError({ path, reason: `invalid JSON: ${String(cause)}` }),
    });
    layers.push({ kind: "file", path, content });
  }
  layers.push({ kind: "overrides", overrides: options.overrides });
  return yield* Effect.fromResult(resolveGrpoConfig(options.preset, layers));
});

/** Command-line arguments sorted into the config loader's inputs and everything else. */
export interface GrpoConfigArgs {
  readonly preset: GrpoPresetName;
  readonly file: string | undefined;
  /** Dotted `--a.b=value` overrides, in order. */
  readonly overrides: ReadonlyArray<string>;
  /** Arguments that are not configuration (left for the command's own flags). */
  readonly rest: ReadonlyArray<string>;
}

/**
 * Picks `--preset=NAME` (default `defaultPreset`), `--config=FILE` and every dotted
 * `--section.key=value` out of a command line; `--preset NAME` and `--config FILE` also work.
 * An unknown preset is a `ConfigValueInvalid` on the key `preset`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { splitGrpoConfigArgs } from "./config.ts";
 * const r = splitGrpoConfigArgs(["--preset=paper", "--rollout.n=4", "--out=runs/a"], "tiny");
 * assert.ok(Result.isSuccess(r));
 * assert.deepEqual(r.success.overrides, ["--rollout.n=4"]);
 * assert.deepEqual(r.success.rest, ["--out=runs/a"]);
 * ```
 */
export const splitGrpoConfigArgs = (
  args: ReadonlyArray<string>,
  defaultPreset: GrpoPresetName,
): Result.Result<GrpoConfigArgs, ConfigValueInvalid> => {
  let preset: string = defaultPreset;
  let file: string | undefined;
  const overrides: Array<string> = [];
  const rest: Array<string> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = /^--(preset|config)(?:=(.*))?$/.exec(arg);
    if (flag !== null) {
      const value = flag[2] ?? args[++i];
      if (value === undefined || value === "") {
        return Result.fail(
          new ConfigValueInvalid({
            key: flag[1]!,
            value: "",
            source: `command line ${arg}`,
            reason: "expects a value",
          }),
        );
      }
      if (flag[1] === "preset") preset = value;
      else file = value;
    } else if (/^--[A-Za-z]+\.[A-Za-z.]+(=|$)/.test(arg)) overrides.push(arg);
    else rest.push(arg);
  }
  if (!(GRPO_PRESET_NAMES as ReadonlyArray<string>).includes(preset)) {
    return Result.fail(
      new ConfigValueInvalid({
        key: "preset",
        value: preset,
        source: "command line",
        reason: `expected one of ${GRPO_PRESET_NAMES.join(", ")}`,
      }),
    );
  }
  return Result.succeed({ preset: preset as GrpoPresetName, file, overrides, rest });
};
