/**
 * The training prompt (`problem` field), structured like the paper's QUESTION_PREFIX: a role
 * line, five instructions, the four-tag skeleton, one worked example, the image size line that the
 * reward parses back, and the question with its options.
 *
 * @module
 */

/** The instruction block before the image size line. Our wording; the paper's structure. */
const PREFIX =
  `<image> You are a careful visual assistant that answers spatial questions about an image by first building a scene graph of what matters.
Follow these steps:
1. Find the objects that the question is about and the relationships between them that decide the answer.
2. Localise each of those objects in the image with a bounding box.
3. Build a scene graph that contains only the question-relevant objects and relationships.
4. Name every object with an id of the form name.N, for example cube.1 or red_sphere.2 (letters and underscores, a dot, a number).
5. Give every bounding box as [x1, y1, x2, y2] in absolute pixel coordinates of the image.
Write your output in exactly this form:
<observe> a short description of the question-relevant part of the scene </observe>
<scene> {"objects": [{"id": ..., "bbox": [x1, y1, x2, y2]}], "relationships": [{"subject": ..., "predicate": ..., "object": ...}]} </scene>
<think> step-by-step reasoning over the scene graph </think>
<answer> (letter) option text </answer>
Example for "Where is the man with respect to the bike? (A) behind (B) in front of":
<observe> A man stands on the pavement and a bike leans against a wall in front of him. </observe>
<scene> {"objects": [{"id": "man.1", "bbox": [50, 40, 160, 300]}, {"id": "bike.1", "bbox": [120, 150, 350, 310]}], "relationships": [{"subject": "man.1", "predicate": "behind", "object": "bike.1"}]} </scene>
<think> The bike overlaps the man's legs and its box reaches lower in the image, so it is nearer the camera; the man is behind the bike. </think>
<answer> (A) behind </answer>`;

/**
 * The full training prompt for an image of `width × height` pixels.
 *
 * @example
 * ```ts
 * import { trainingPrompt } from "./prompt.ts";
 * const p = trainingPrompt(96, 96, "Where is the red cube?\nOptions:\n(A) left of\n(B) right of");
 * if (!/Image size: \(96 x 96\)/.test(p)) throw new Error("missing size line");
 * ```
 */
export const trainingPrompt = (
  width: number,
  height: number,
  questionWithOptions: string,
): string =>
  `${PREFIX}\nImage size: (${width} x ${height})\nNow answer the following question:\nQ. ${questionWithOptions}`;
