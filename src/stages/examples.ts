/**
 * Turning dataset records into model inputs: the prompt (the paper's long training prompt, or a
 * compact one for small models), the chat template with the image, token ids, the processed
 * image, and — for supervised fine-tuning — the target response in the paper's format
 * `<observe>…</observe><scene>{json}</scene><think>…</think><answer>(X) text</answer>`.
 *
 * @module
 */
import { Effect } from "effect";
import type { StvqaRecord } from "../dataset/record.ts";
import type { Relationship } from "../domain/scene_graph.ts";
import type { SequenceSample } from "../nn/batch.ts";
import { readImage } from "../nn/image_file.ts";
import {
  type ImageProcessorConfig,
  type ProcessedImage,
  processImage,
} from "../nn/image_processor.ts";
import { pythonJson } from "../scene/graph.ts";
import { singleImagePrompt } from "../text/chat_template.ts";
import type { Tokenizer } from "../text/tokenizer.ts";

/**
 * Which prompt the model sees. `paper` is the record's `problem` (the paper's long prompt with a
 * worked example, ~460 tokens with the tiny vocabulary); `compact` keeps only the output contract,
 * the image size and the question, so that CPU-sized models train on ~4× shorter sequences. Both
 * carry "Image size: (W x H)", which the reward reads.
 */
export type PromptStyle = "paper" | "compact";

/** The user text of a record's prompt (the image goes before it in the chat template). */
export const promptText = (record: StvqaRecord, style: PromptStyle): string =>
  style === "paper"
    ? record.problem.replace(/^<image>\s*/, "")
    : `Answer in <observe>, <scene>, <think> and <answer> tags. Image size: (${record.width} x ${record.height})\nQ. ${record.question_with_options}`;

const sceneJson = (record: StvqaRecord): string => {
  const match = /<scene>([\s\S]*?)<\/scene>/.exec(record.answer_option_text);
  if (match === null) throw new Error(`record ${record.image_id} has no <scene> in its answer`);
  return match[1]!;
};

const nameOf = (id: string): string => id.replace(/\.\d+$/, "").replace(/_/g, " ");

const names = (ids: ReadonlyArray<string>): string =>
  ids.map((id) => `the ${nameOf(id)}`).join(" and ");

/**
 * `ids` in the order the question first mentions their names; ids it does not name keep their
 * order after those. Naming the objects in the question's order makes the observation a plain
 * copy of the question, which a small model learns far sooner than an order it cannot see.
 */
export const inQuestionOrder = (ids: ReadonlyArray<string>, question: string): string[] => {
  const text = question.toLowerCase();
  const position = (id: string) => {
    const words = nameOf(id).toLowerCase().replace(/[^a-z ]/g, "");
    const at = new RegExp(`\\b${words}\\b`).exec(text)?.index;
    return at ?? Number.MAX_SAFE_INTEGER;
  };
  return ids
    .map((id, index) => ({ id, index, at: position(id) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ id }) => id);
};

/**
 * Which relationships an SFT target's scene graph lists: `all` of the record's question subgraph,
 * or only the one the reasoning `cited` — a ~2× shorter response for small models, still a valid
 * scene graph for the format and spatial rewards, which score objects.
 */
export type SceneRelations = "all" | "cited";

/** The predicates a category's questions are about, when the question does not name one. */
const CATEGORY_PREDICATES: Readonly<Record<string, ReadonlyArray<string>>> = {
  size: ["larger than", "smaller than"],
  depth: ["closer to the camera than", "farther from the camera than"],
  distance: ["near", "next to", "far from"],
  orientation: ["facing", "facing away from"],
  reach: ["touching", "on top of"],
};

/**
 * The relationship the reasoning cites, so that the answer follows from it: the one whose
 * predicate the answer names ("(A) behind"), then one whose predicate the question names ("to the
 * left of", "closer to the camera than"), then one of the category's own predicates (size: larger
 * or smaller than), each preferring relationships that involve an object the answer names; the
 * first relationship when nothing matches. Undefined for an empty list and for `count` questions,
 * whose reason is the number of objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { citedRelationship } from "./examples.ts";
 * const relationships = [
 *   { subject: "green_arrow.1", predicate: "left of", object: "red_cube.1" },
 *   { subject: "green_arrow.1", predicate: "behind", object: "red_cube.1" },
 * ];
 * const question = "Where is the green arrow relative to the red cube?";
 * assert.equal(citedRelationship(relationships, "relation", question, "(A) behind")?.predicate, "behind");
 * ```
 */
export const citedRelationship = (
  relationships: ReadonlyArray<Relationship>,
  category: string,
  question: string,
  answer: string,
): Relationship | undefined => {
  if (category === "count") return undefined;
  const answerText = ` ${answer.toLowerCase().replace(/^\([a-z]\)\s*/, "")} `;
  const questionText = ` ${question.toLowerCase().replace(/[^a-z ]/g, " ")} `;
  const family = CATEGORY_PREDICATES[category] ?? [];
  const mentions = (text: string, words: string) => text.includes(` ${words} `);
  const score = (r: Relationship) =>
    (mentions(answerText, r.predicate) ? 8 : 0) +
    (mentions(questionText, r.predicate) ? 4 : 0) +
    (family.includes(r.predicate) ? 2 : 0) +
    ([r.subject, r.object].some((id) => mentions(answerText, nameOf(id))) ? 1 : 0);
  return relationships.reduce<Relationship | undefined>(
    (best, r) => best === undefined || score(r) > score(best) ? r : best,
    undefined,
  );
};

/**
 * The supervised target for a record: a short templated observation naming the question's
 * objects in the question's order, the ground-truth subgraph, a one-line reasoning step from the
 * relationship that decides the answer ({@link citedRelationship}), and the answer. Deterministic
 * in the record.
 */
export const sftResponse = (record: StvqaRecord, relations: SceneRelations = "all"): string => {
  const raw = sceneJson(record);
  const graph = JSON.parse(raw) as {
    objects: { id: string }[];
    relationships?: Relationship[];
  };
  const objects = graph.objects.map((o) => o.id);
  const answer = record.answer_option_text_only;
  const relation = citedRelationship(
    graph.relationships ?? [],
    record.category,
    record.question_only,
    answer,
  );
  const scene = relations === "all"
    ? raw
    : pythonJson({ ...graph, relationships: relation ? [relation] : [] });
  const observe = objects.length > 0
    ? `I see ${names(inQuestionOrder(objects, record.question_only))}.`
    : "I see no such object.";
  const reason = relation
    ? `${names([relation.subject])} is ${relation.predicate} ${names([relation.object])}`
    : `there ${objects.length === 1 ? "is 1 object" : `are ${objects.length} objects`} of interest`;
  return `<observe>${observe}</observe><scene>${scene}</scene>` +
    `<think>From the scene graph, ${reason}, so the answer is ${answer}.</think>` +
    `<answer>${answer}</answer>`;
};

/** A record ready for the model: prompt tokens, its image, and the record itself. */
export interface PromptExample {
  readonly record: StvqaRecord;
  readonly promptTokens: ReadonlyArray<number>;
  readonly image: ProcessedImage;
}

/** Reads and processes a record's image (relative to `dataRoot`) and tokenizes its prompt. */
export const promptExample = (
  record: StvqaRecord,
  dataRoot: string,
  tokenizer: Tokenizer,
  processor: ImageProcessorConfig,
  style: PromptStyle,
) =>
  Effect.map(readImage(`${dataRoot}/${record.image}`), (rgb): PromptExample => {
    const image = processImage(rgb, processor);
    const text = singleImagePrompt(promptText(record, style), image.imageTokens);
    return { record, promptTokens: tokenizer.encode(text), image };
  });

/**
 * Loss weight of each token of an SFT response: 1 inside `<scene>…</scene>` (the boxes, which a
 * small model learns slowly and noisily), `focusWeight` elsewhere — the observation naming the
 * question's objects, the reasoning and the answer, which decide accuracy.
 */
export const responseTokenWeights = (
  response: string,
  tokens: ReadonlyArray<number>,
  tokenizer: Tokenizer,
  focusWeight: number,
): Array<number> => {
  const sceneStart = response.indexOf("<scene>");
  const sceneEnd = response.indexOf("</scene>") + "</scene>".length;
  let offset = 0;
  return tokens.map((id) => {
    const start = offset;
    offset += tokenizer.decode([id]).length;
    return start >= sceneStart && start < sceneEnd ? 1 : focusWeight;
  });
};

/**
 * The SFT sequence: prompt, then the target response (with the scene's `relations`) closed by
 * `<|im_end|>`. With a `focusWeight` other than 1 the response tokens carry
 * `responseTokenWeights`.
 */
export const sftSample = (
  example: PromptExample,
  tokenizer: Tokenizer,
  imEndId: number,
  { focusWeight = 1, relations = "all" }: {
    readonly focusWeight?: number;
    readonly relations?: SceneRelations;
  } = {},
): SequenceSample => {
  const text = sftResponse(example.record, relations);
  const response = tokenizer.encode(text);
  const tokens = [...example.promptTokens, ...response, imEndId];
  const sample = { tokens, image: example.image, responseStart: example.promptTokens.length };
  if (focusWeight === 1) return sample;
  return {
    ...sample,
    tokenWeights: [
      ...example.promptTokens.map(() => 0),
      ...responseTokenWeights(text, response, tokenizer, focusWeight),
      focusWeight,
    ],
  };
};

/**
 * Prompt examples of `records`, built on first use (image decode, processing, tokenizing) and
 * cached by record index, so a training loop pays for each record once.
 */
export const cachedPromptExamples = (
  records: ReadonlyArray<StvqaRecord>,
  dataRoot: string,
  tokenizer: Tokenizer,
  processor: ImageProcessorConfig,
  style: PromptStyle,
) => {
  const cache = new Map<number, PromptExample>();
  return (i: number) =>
    Effect.gen(function* () {
      const hit = cache.get(i);
      if (hit !== undefined) return hit;
      const example = yield* promptExample(records[i]!, dataRoot, tokenizer, processor, style);
      cache.set(i, example);
      return example;
    });
};
