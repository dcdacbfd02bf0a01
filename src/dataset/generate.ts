/**
 * The synthetic data set program: samples and renders scenes in batches on the GPU, writes PNGs,
 * synthesises and balances questions per split, and writes `train.jsonl`, `val.jsonl`,
 * `test.jsonl`, `images/` and `summary.json`. Everything is written into a temporary sibling
 * folder that is renamed to the output folder only at the end, and the same seed gives
 * byte-identical output.
 *
 * @module
 */
import { Effect, Stream } from "effect";
import { encodeRgbPng } from "../scene/png.ts";
import { makeRng } from "../domain/random.ts";
import { SceneRenderer } from "../scene/render.ts";
import { DEFAULT_SAMPLER_OPTIONS, type SamplerOptions, sampleScene } from "../scene/sampler.ts";
import type { GpuDeviceLost } from "../gpu/errors.ts";
import {
  balanceByCategory,
  type CategoryShares,
  DEFAULT_SPLIT_FRACTIONS,
  paperShares,
  type Split,
  type SplitFractions,
  splitOfScene,
  SPLITS,
} from "./balance.ts";
import {
  type BlindBaseline,
  type McQuestionRecord,
  optionPriorBaseline,
  questionAwareBaseline,
} from "./blind_baseline.ts";
import { buildRecord, type ImageRef, type RecordGraphs, scene3dOf } from "./build.ts";
import { writeJsonl } from "./jsonl.ts";
import {
  type AnswerGroup,
  CATEGORIES,
  type Category,
  type Level,
  LEVELS,
  type Question,
} from "./question.ts";
import { DatasetIoError, type RecordDecodeError, type Scene3d, StvqaRecord } from "./record.ts";
import { DEFAULT_PER_SCENE_LIMIT, synthesiseQuestions } from "./synthesise.ts";
import { withStagingFolder } from "./staging.ts";

/** What to generate. */
export interface GenerateOptions {
  readonly scenes: number;
  readonly out: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** Records per scene the balancer aims for (the total per split is scenes × this). */
  readonly recordsPerScene: number;
  readonly shares: CategoryShares;
  readonly splits: SplitFractions;
  /** Scenes rendered per GPU submit. */
  readonly batchSize: number;
  /** Called after each rendered batch with (scenes done, scenes total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Defaults for `deno task data`. */
export const DEFAULT_GENERATE_OPTIONS: Omit<GenerateOptions, "out"> = {
  scenes: 2000,
  seed: 1,
  width: 96,
  height: 96,
  recordsPerScene: 5,
  shares: paperShares(0.5),
  splits: DEFAULT_SPLIT_FRACTIONS,
  batchSize: 64,
};

/** Counts for the summary table. */
export interface DatasetSummary {
  readonly scenes: Readonly<Record<Split, number>>;
  readonly records: Readonly<Record<Split, Readonly<Record<Category, number>>>>;
  readonly levels: Readonly<Record<Level, number>>;
  readonly answerLetters: Readonly<Record<string, number>>;
  /** Drafts proposed and dropped as ambiguous, per category, over all scenes. */
  readonly proposed: Readonly<Record<Category, number>>;
  readonly ambiguous: Readonly<Record<Category, number>>;
  /** The option-prior baseline (reads the options). */
  readonly blindBaseline: HeldOutScores;
  /** The question-aware baseline (reads the question and the options). */
  readonly questionAwareBaseline: HeldOutScores;
}

/**
 * A blind baseline fitted on train, scored on each held-out split and on both together
 * (`heldOut`, the summary's figure: twice the records, so less noise).
 */
export interface HeldOutScores {
  readonly val: BlindBaseline;
  readonly test: BlindBaseline;
  readonly heldOut: BlindBaseline;
}

/** What the records of one scene share. */
interface SceneRecordContext {
  readonly image: ImageRef;
  readonly graphs: RecordGraphs;
  readonly scene3d: Scene3d;
}

/** A question waiting for the balancer, with the slot of its scene's context. */
interface Candidate {
  readonly category: Category;
  readonly level: Level;
  readonly rating: number;
  /** The answers the balancer evens out together. */
  readonly answerGroup: AnswerGroup;
  /** The question's answer within its group (`Question.groupAnswer`). */
  readonly answer: string;
  readonly slot: number;
  readonly question: Question;
}

/** Fits `baseline` on the written train split and scores it (see {@link HeldOutScores}). */
const heldOutScores = (
  baseline: (
    train: ReadonlyArray<McQuestionRecord>,
    heldOut: ReadonlyArray<McQuestionRecord>,
  ) => BlindBaseline,
  written: ReadonlyMap<Split, ReadonlyArray<McQuestionRecord>>,
): HeldOutScores => {
  const train = written.get("train")!, val = written.get("val")!, test = written.get("test")!;
  return {
    val: baseline(train, val),
    test: baseline(train, test),
    heldOut: baseline(train, [...val, ...test]),
  };
};

const zero = <K extends string>(keys: ReadonlyArray<K>): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

const io = (path: string, what: string) => (cause: unknown) =>
  new DatasetIoError({ path, reason: `${what}: ${String(cause)}` });

/** A scene's image path: the zero-padded index, so file names sort in scene order. */
const imageName = (index: number): string => `images/${String(index).padStart(6, "0")}.png`;

/**
 * Generates the data set into `options.out` (which must not exist yet; written atomically, see
 * `withStagingFolder`) and returns its summary.
 * Needs `SceneRenderer`.
 */
export const generateDataset = Effect.fn("generateDataset")(function* (
  options: GenerateOptions,
): Effect.fn.Return<
  DatasetSummary,
  DatasetIoError | RecordDecodeError | GpuDeviceLost,
  SceneRenderer
> {
  return yield* withStagingFolder(options.out, (tmp) =>
    Effect.gen(function* () {
      yield* Effect.tryPromise({
        try: () => Deno.mkdir(`${tmp}/images`),
        catch: io(tmp, "cannot create folder"),
      });
      const renderer = yield* SceneRenderer;
      const sampler: SamplerOptions = {
        ...DEFAULT_SAMPLER_OPTIONS,
        width: options.width,
        height: options.height,
      };
      // Separate domains so that no scene index can reproduce the balancer's stream.
      const root = makeRng(options.seed);
      const sceneStreams = root.fork(1), balanceStreams = root.fork(2);
      const proposed = zero(CATEGORIES), ambiguous = zero(CATEGORIES);
      // Candidates stay small (a question and its scene's slot); records are built only for
      // the questions the balancer keeps.
      const scenesById: SceneRecordContext[] = [];
      const candidates = new Map<Split, Candidate[]>(SPLITS.map((s) => [s, []]));
      const scenesPerSplit = zero(SPLITS);
      for (let start = 0; start < options.scenes; start += options.batchSize) {
        const indices = Array.from(
          { length: Math.min(options.batchSize, options.scenes - start) },
          (_, k) => start + k,
        );
        const scenes = indices.map((i) => sampleScene(sceneStreams.fork(i).fork(0), i, sampler));
        const rendered = yield* renderer.render(scenes);
        for (const r of rendered) {
          const i = r.scene.index;
          const path = imageName(i);
          const png = encodeRgbPng(r.rgba, r.scene.width, r.scene.height);
          yield* Effect.tryPromise({
            try: () => Deno.writeFile(`${tmp}/${path}`, png),
            catch: io(`${tmp}/${path}`, "cannot write image"),
          });
          const synthesised = synthesiseQuestions(
            r,
            sceneStreams.fork(i).fork(1),
            DEFAULT_PER_SCENE_LIMIT,
          );
          for (const c of CATEGORIES) {
            proposed[c] += synthesised.proposed[c];
            ambiguous[c] += synthesised.ambiguous[c];
          }
          const split = splitOfScene(options.seed, i, options.splits);
          scenesPerSplit[split]++;
          const slot = scenesById.push({
            image: {
              imageId: `synth-${String(i).padStart(6, "0")}`,
              path,
              width: r.scene.width,
              height: r.scene.height,
            },
            graphs: { graph: synthesised.graph, stored: synthesised.canonicalGraph },
            scene3d: scene3dOf(r),
          }) - 1;
          for (const question of synthesised.questions) {
            candidates.get(split)!.push({
              category: question.category,
              level: question.level,
              rating: question.rating,
              answerGroup: question.answerGroup,
              answer: question.groupAnswer,
              slot,
              question,
            });
          }
        }
        options.onProgress?.(start + indices.length, options.scenes);
      }
      const records = Object.fromEntries(SPLITS.map((s) => [s, zero(CATEGORIES)])) as Record<
        Split,
        Record<Category, number>
      >;
      const levels = zero(LEVELS);
      const answerLetters: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
      const written = new Map<Split, ReadonlyArray<StvqaRecord>>();
      for (const split of SPLITS) {
        const chosen = balanceByCategory(
          candidates.get(split)!,
          options.shares,
          scenesPerSplit[split] * options.recordsPerScene,
          balanceStreams.fork(SPLITS.indexOf(split)),
        ).map(({ slot, question }) => {
          const context = scenesById[slot]!;
          return buildRecord(question, context.graphs, context.image, context.scene3d);
        });
        for (const r of chosen) {
          records[split][r.category]++;
          levels[r.level]++;
          answerLetters[r.answer_only] = (answerLetters[r.answer_only] ?? 0) + 1;
        }
        yield* writeJsonl(`${tmp}/${split}.jsonl`, StvqaRecord, Stream.fromIterable(chosen));
        written.set(split, chosen);
      }
      const summary: DatasetSummary = {
        scenes: scenesPerSplit,
        records,
        levels,
        answerLetters,
        proposed,
        ambiguous,
        blindBaseline: heldOutScores(optionPriorBaseline, written),
        questionAwareBaseline: heldOutScores(questionAwareBaseline, written),
      };
      yield* Effect.tryPromise({
        try: () =>
          Deno.writeTextFile(
            `${tmp}/summary.json`,
            JSON.stringify(
              { seed: options.seed, width: options.width, height: options.height, ...summary },
              null,
              2,
            ) +
              "\n",
          ),
        catch: io(`${tmp}/summary.json`, "cannot write summary"),
      });
      return summary;
    }));
});
