/**
 * Shared test data for the parse, ground and reward stages: a seeded random source, a realistic
 * response / ground-truth pair, and builders for response strings.
 *
 * @module
 */
import type { SceneGraph } from "../../src/domain/scene_graph.ts";

/** mulberry32: a small seeded generator of floats in [0, 1), so failures reproduce. */
export const seededRandom = (seed: number): () => number => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** The training prompt's size line, as the official prompt writes it. */
export const PROBLEM = "<image> You are a vision-language assistant … Image size: (640 x 480)\n" +
  "Now answer the following question:\nQ. Where is the man with respect to the bike?\n" +
  "Options:\n(A) behind\n(B) in front of";

/** The ground-truth scene of {@link PROBLEM}, in pixels. */
export const GROUND_TRUTH_SCENE: SceneGraph = {
  objects: [
    { id: "man.1", bbox: [100, 50, 300, 400] },
    { id: "bike.1", bbox: [250, 200, 500, 420] },
  ],
  relationships: [{ subject: "man.1", predicate: "behind", object: "bike.1" }],
};

/** A ground-truth string as the dataset stores it (`answer_option_text`). */
export const groundTruthString = (scene: unknown, answer: string): string =>
  `<scene>${JSON.stringify(scene)}</scene>\n<answer>${answer}</answer>`;

/** A response in the SpatialThinker format with the given scene (a value, or raw JSON text). */
export const responseString = (scene: unknown, answer: string): string =>
  `<observe>A man stands behind a bike.</observe>\n<scene>\n${
    typeof scene === "string" ? scene : JSON.stringify(scene)
  }\n</scene>\n<think>The man is farther from the camera than the bike.</think>\n` +
  `<answer> ${answer} </answer>`;

/** Exact-label similarity: 1 for equal cleaned names, else 0; keeps hand computations simple. */
export const exactSimilarity = (a: string, b: string): number =>
  a.split(".")[0]!.toLowerCase() === b.split(".")[0]!.toLowerCase() ? 1 : 0;
