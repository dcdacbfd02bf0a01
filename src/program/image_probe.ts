/**
 * Does a model look at the image? Teacher-forced loss on each SFT target twice: once with the
 * record's own image and once with the image of a record from another scene. A model that reads
 * the image predicts its boxes better from the right picture (the box loss rises when the image is
 * swapped); a model that answers from the text alone scores the same either way. Text outside the
 * scene graph is reported beside it: its gap should be small, since most of it follows from the
 * question.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import type { SequenceSample } from "../nn/batch.ts";
import type { ProcessedImage } from "../nn/image_processor.ts";
import { type PromptExample, type SceneRelations, sftSample } from "../stages/examples.ts";
import { type GroundingExample, groundingSample } from "../stages/grounding_examples.ts";
import type { ModelSetup } from "../stages/model_setup.ts";
import { visitResponseLogits } from "./teacher_forced.ts";

/** Which part of an SFT response a token belongs to. */
export type ResponseTokenKind = "box" | "scene" | "text";

/**
 * The kind of each response token (`pieces` are the decoded tokens): `box` for tokens with a digit
 * that lie inside `<scene>…</scene>` (the coordinates), `scene` for the rest of the scene graph
 * (ids, predicates, JSON), `text` for everything else, the tags included. Tokens are placed by
 * character offset, so tags split over several tokens are handled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responseTokenKinds } from "./image_probe.ts";
 * const pieces = ["<", "scene>", "{\"bbox\": [", "12", ", ", "4", "]}", "</scene>", " so (A)"];
 * assert.deepEqual(
 *   responseTokenKinds(pieces),
 *   ["text", "text", "scene", "box", "scene", "box", "scene", "text", "text"],
 * );
 * ```
 */
export const responseTokenKinds = (pieces: ReadonlyArray<string>): ResponseTokenKind[] => {
  const text = pieces.join("");
  const open = text.indexOf("<scene>");
  const sceneStart = open < 0 ? Infinity : open + "<scene>".length;
  const sceneEnd = open < 0 ? -1 : text.indexOf("</scene>", sceneStart);
  let offset = 0;
  return pieces.map((piece) => {
    const start = offset;
    offset += piece.length;
    if (start < sceneStart || offset > sceneEnd) return "text";
    return /\d/.test(piece) ? "box" : "scene";
  });
};

/** Mean negative log-likelihood (nats per token) of each kind of response token. */
export interface KindLosses {
  readonly box: number;
  readonly scene: number;
  readonly text: number;
}

/** The probe's result: losses with the records' own images and with swapped ones. */
export interface ImageDependence {
  readonly own: KindLosses;
  readonly swapped: KindLosses;
  /** Tokens of each kind scored per pass. */
  readonly tokens: { readonly box: number; readonly scene: number; readonly text: number };
  /** Examples scored (those for which another scene's image of the same size exists). */
  readonly examples: number;
}

/**
 * Pairs every example with the image of the next example (cyclically) that shows another picture
 * (`imageFile` names it) with the same token grid; examples with no such partner are left out.
 */
export const swapImages = <E extends { readonly image: ProcessedImage }>(
  examples: ReadonlyArray<E>,
  imageFile: (example: E) => string,
): { readonly own: E[]; readonly swapped: E[] } => {
  const own: E[] = [];
  const swapped: E[] = [];
  examples.forEach((example, i) => {
    for (let step = 1; step < examples.length; step++) {
      const other = examples[(i + step) % examples.length]!;
      if (
        imageFile(other) !== imageFile(example) &&
        other.image.grid.join() === example.image.grid.join()
      ) {
        own.push(example);
        swapped.push({ ...example, image: other.image });
        return;
      }
    }
  });
  return { own, swapped };
};

/** Negative log-likelihood of `target` under the logits row `z[offset … offset + V)`. */
const rowNll = (z: ArrayLike<number>, offset: number, V: number, target: number): number => {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, z[offset + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(z[offset + v]! - max);
  return max + Math.log(sum) - z[offset + target]!;
};

/** Mean loss per kind over `samples`' responses; `kinds` classifies the decoded response tokens. */
const kindLosses = async (
  setup: ModelSetup,
  arena: Arena,
  samples: ReadonlyArray<SequenceSample>,
  kinds: (pieces: ReadonlyArray<string>) => ResponseTokenKind[],
  batchSize: number,
) => {
  const V = setup.config.vocab_size;
  const sums = { box: 0, scene: 0, text: 0 };
  const counts = { box: 0, scene: 0, text: 0 };
  await visitResponseLogits(setup, arena, samples, batchSize, (s, logits) => {
    const response = s.tokens.slice(s.responseStart);
    kinds(response.map((id) => setup.tokenizer.decode([id]))).forEach((kind, k) => {
      const { z, offset } = logits(k);
      sums[kind] += rowNll(z, offset, V, response[k]!);
      counts[kind]++;
    });
  });
  const mean = (kind: ResponseTokenKind) => sums[kind] / Math.max(1, counts[kind]);
  return { losses: { box: mean("box"), scene: mean("scene"), text: mean("text") }, counts };
};

/** Scores own and swapped samples alike and puts the result together. */
const compare = async (
  setup: ModelSetup,
  arena: Arena,
  own: ReadonlyArray<SequenceSample>,
  swapped: ReadonlyArray<SequenceSample>,
  kinds: (pieces: ReadonlyArray<string>) => ResponseTokenKind[],
  batchSize: number,
): Promise<ImageDependence> => {
  const a = await kindLosses(setup, arena, own, kinds, batchSize);
  const b = await kindLosses(setup, arena, swapped, kinds, batchSize);
  return { own: a.losses, swapped: b.losses, tokens: a.counts, examples: own.length };
};

/**
 * Teacher-forced loss of `setup`'s model on the SFT targets of `examples` (with `relations`), with
 * their own images and with swapped ones (`swapImages`), `batchSize` sequences per forward.
 */
export const imageDependence = (
  setup: ModelSetup,
  arena: Arena,
  examples: ReadonlyArray<PromptExample>,
  { batchSize = 8, relations = "cited" }: {
    readonly batchSize?: number;
    readonly relations?: SceneRelations;
  } = {},
): Promise<ImageDependence> => {
  const imEnd = setup.generation.eos_token_id[0]!;
  const sample = (e: PromptExample) => sftSample(e, setup.tokenizer, imEnd, { relations });
  const pairs = swapImages(examples, (e) => e.record.image);
  return compare(
    setup,
    arena,
    pairs.own.map(sample),
    pairs.swapped.map(sample),
    responseTokenKinds,
    batchSize,
  );
};

/**
 * The same probe on grounding questions ("Where is the red cube?" → box): the box is every
 * response token with a digit, the rest (brackets, commas, the end token) is text.
 */
export const groundingImageDependence = (
  setup: ModelSetup,
  arena: Arena,
  examples: ReadonlyArray<GroundingExample>,
  { batchSize = 16 }: { readonly batchSize?: number } = {},
): Promise<ImageDependence> => {
  const imEnd = setup.generation.eos_token_id[0]!;
  const sample = (e: GroundingExample) => groundingSample(e, setup.tokenizer, imEnd);
  const pairs = swapImages(examples, (e) => e.item.record.image);
  return compare(
    setup,
    arena,
    pairs.own.map(sample),
    pairs.swapped.map(sample),
    (pieces) => pieces.map((p) => /\d/.test(p) ? "box" : "text"),
    batchSize,
  );
};
