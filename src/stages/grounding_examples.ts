/**
 * Grounding warm-up examples: "Where is the red cube?" → `[x1, y1, x2, y2]`, one per object that
 * its scene names once. The target can only come from the image, and it is short, so a model that
 * starts from scratch learns to look before it learns to write scene graphs and reasoning (whose
 * tokens follow mostly from the question: a model can fit them while ignoring the picture).
 *
 * @module
 */
import { Effect } from "effect";
import type { StvqaRecord } from "../dataset/record.ts";
import type { SceneObject } from "../domain/scene_graph.ts";
import type { SequenceSample } from "../nn/batch.ts";
import { readImage } from "../nn/image_file.ts";
import {
  type ImageProcessorConfig,
  type ProcessedImage,
  processImage,
} from "../nn/image_processor.ts";
import { singleImagePrompt } from "../text/chat_template.ts";
import type { Tokenizer } from "../text/tokenizer.ts";

/** One grounding question: a record's scene and one object it names once. */
export interface GroundingItem {
  readonly record: StvqaRecord;
  readonly object: SceneObject;
}

/** "red_cube.1" → "red_cube". */
const nameOf = (id: string): string => id.replace(/\.\d+$/, "");

/**
 * One item per object whose name is unique in its scene, for each distinct image of `records` (the
 * first record of an image supplies its scene graph), in record order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StvqaRecord } from "../dataset/record.ts";
 * import { groundingItems } from "./grounding_examples.ts";
 * const scene = {
 *   objects: [
 *     { id: "red_cube.1", bbox: [1, 2, 3, 4] },
 *     { id: "blue_cone.1", bbox: [5, 6, 7, 8] },
 *     { id: "blue_cone.2", bbox: [9, 9, 12, 12] },
 *   ],
 *   relationships: [],
 * };
 * const record = { image: "images/0.png", scene_graph: scene } as unknown as StvqaRecord;
 * const items = groundingItems([record, record]);
 * assert.deepEqual(items.map((i) => i.object.id), ["red_cube.1"]);
 * ```
 */
export const groundingItems = (records: ReadonlyArray<StvqaRecord>): GroundingItem[] => {
  const seen = new Set<string>();
  const items: GroundingItem[] = [];
  for (const record of records) {
    if (seen.has(record.image)) continue;
    seen.add(record.image);
    const counts = new Map<string, number>();
    for (const o of record.scene_graph.objects) {
      counts.set(nameOf(o.id), (counts.get(nameOf(o.id)) ?? 0) + 1);
    }
    for (const object of record.scene_graph.objects) {
      if (counts.get(nameOf(object.id)) === 1) items.push({ record, object });
    }
  }
  return items;
};

/**
 * The question: "Where is the red cube? Answer with its box [x1, y1, x2, y2] in pixels. Image
 * size: (96 x 96)".
 */
export const groundingQuestion = (item: GroundingItem): string =>
  `Where is the ${nameOf(item.object.id).replaceAll("_", " ")}? ` +
  `Answer with its box [x1, y1, x2, y2] in pixels. ` +
  `Image size: (${item.record.width} x ${item.record.height})`;

/** The target: the box as the scene graph writes it, "[30, 25, 49, 54]". */
export const groundingTarget = (item: GroundingItem): string => `[${item.object.bbox.join(", ")}]`;

/** A grounding item with its processed image and tokenized prompt. */
export interface GroundingExample {
  readonly item: GroundingItem;
  readonly image: ProcessedImage;
  readonly promptTokens: ReadonlyArray<number>;
}

/**
 * Grounding examples of `items`, built on first use and cached by index; images are decoded and
 * processed once per file, since one scene yields several items.
 */
export const cachedGroundingExamples = (
  items: ReadonlyArray<GroundingItem>,
  dataRoot: string,
  tokenizer: Tokenizer,
  processor: ImageProcessorConfig,
) => {
  const images = new Map<string, ProcessedImage>();
  const examples = new Map<number, GroundingExample>();
  return (i: number) =>
    Effect.gen(function* () {
      const hit = examples.get(i);
      if (hit !== undefined) return hit;
      const item = items[i]!;
      let image = images.get(item.record.image);
      if (image === undefined) {
        image = processImage(yield* readImage(`${dataRoot}/${item.record.image}`), processor);
        images.set(item.record.image, image);
      }
      const text = singleImagePrompt(groundingQuestion(item), image.imageTokens);
      const example = { item, image, promptTokens: tokenizer.encode(text) };
      examples.set(i, example);
      return example;
    });
};

/** The SFT sequence of a grounding example: prompt, box, `<|im_end|>`; the box is learned. */
export const groundingSample = (
  example: GroundingExample,
  tokenizer: Tokenizer,
  imEndId: number,
): SequenceSample => ({
  tokens: [
    ...example.promptTokens,
    ...tokenizer.encode(groundingTarget(example.item)),
    imEndId,
  ],
  image: example.image,
  responseStart: example.promptTokens.length,
});
