/**
 * Builds STVQA records from questions: the option list, the answer letter, the ground-truth
 * strings with the question-relevant subgraph (`<scene>{json}</scene>\n<answer>…</answer>`) and
 * the training prompt.
 *
 * @module
 */
import { serialiseSceneGraph, subgraph } from "../scene/graph.ts";
import type { SceneGraph } from "../domain/scene_graph.ts";
import type { RenderedScene } from "../scene/types.ts";
import { trainingPrompt } from "./prompt.ts";
import { LETTERS, type Question } from "./question.ts";
import type { Scene3d, StvqaRecord } from "./record.ts";

/** `question\nOptions:\n(A) …\n(B) …`, as in the published data. */
export const questionWithOptions = (question: string, options: ReadonlyArray<string>): string =>
  `${question}\nOptions:\n${options.map((o, i) => `(${LETTERS[i]}) ${o}`).join("\n")}`;

/** Where a record's image lives and how big it is. */
export interface ImageRef {
  readonly imageId: string;
  /** Relative to the data set folder. */
  readonly path: string;
  readonly width: number;
  readonly height: number;
}

/** The image's scene graphs: both directions (for subgraphs) and the stored form. */
export interface RecordGraphs {
  readonly graph: SceneGraph;
  readonly stored: SceneGraph;
}

/**
 * The record for a question. The ground-truth strings carry only the subgraph over the question's
 * objects; `scene_graph` is the image's full graph in its stored form.
 */
export const buildRecord = (
  question: Question,
  graphs: RecordGraphs,
  image: ImageRef,
  scene3d?: Scene3d,
): StvqaRecord => {
  const { graph, stored } = graphs;
  const letter = LETTERS[question.answerIndex]!;
  const text = question.options[question.answerIndex]!;
  const scene = `<scene>${serialiseSceneGraph(subgraph(graph, question.objectIds))}</scene>`;
  const withOptions = questionWithOptions(question.question, question.options);
  return {
    image_id: image.imageId,
    problem: trainingPrompt(image.width, image.height, withOptions),
    question_only: question.question,
    question_with_options: withOptions,
    options: [...question.options],
    answer: `${scene}\n<answer>${letter}</answer>`,
    answer_only: letter,
    answer_text: `${scene}\n<answer>${text}</answer>`,
    answer_text_only: text,
    answer_option_text: `${scene}\n<answer>(${letter}) ${text}</answer>`,
    answer_option_text_only: `(${letter}) ${text}`,
    category: question.category,
    level: question.level,
    rating: question.rating,
    image: image.path,
    width: image.width,
    height: image.height,
    scene_graph: {
      objects: stored.objects.map((o) => ({ id: o.id, bbox: [...o.bbox] as const })),
      relationships: stored.relationships.map((r) => ({ ...r })),
    },
    ...(scene3d === undefined ? {} : { scene_3d: scene3d }),
  };
};

/** The 3D truth of a rendered scene in record form. */
export const scene3dOf = (rendered: RenderedScene): Scene3d => {
  const { scene, truth } = rendered;
  return {
    camera: { eye: scene.camera.eye, target: scene.camera.target, fov_y: scene.camera.fovY },
    objects: scene.objects.map((o, k) => ({
      id: o.id,
      shape: o.shape,
      colour: o.colour,
      size_class: o.sizeClass,
      size: o.size,
      position: o.position,
      yaw: o.yaw,
      supported_by: o.supportedBy === null ? null : scene.objects[o.supportedBy]!.id,
      depth: truth[k]!.depth,
      camera_distance: truth[k]!.cameraDistance,
      visible_fraction: truth[k]!.visibleFraction,
      visible_pixels: truth[k]!.visiblePixels,
    })),
  };
};
