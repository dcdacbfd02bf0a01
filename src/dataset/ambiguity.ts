/**
 * The ambiguity filter, our offline counterpart of the paper's GPT-4o validation: a question is
 * dropped when its answer rests on a geometric difference under its margin, or on an object that
 * is heavily occluded or too small to read at the image size.
 *
 * @module
 */
import { DEFAULT_VISIBILITY, isClear, type VisibilityRule } from "../scene/graph.ts";
import type { RenderedScene } from "../scene/types.ts";
import type { QuestionDraft } from "./question.ts";

/**
 * Why a draft is ambiguous, or null when it is clear. Also rejects malformed drafts (a distractor
 * equal to the answer, repeated options), which would make the answer letter meaningless.
 *
 * @example
 * ```ts
 * import { ambiguityReason } from "./ambiguity.ts";
 * import type { RenderedScene } from "../scene/types.ts";
 * const rendered = { scene: { width: 96, height: 96, objects: [] }, truth: [] } as unknown as RenderedScene;
 * const reason = ambiguityReason({
 *   category: "depth", question: "?", correct: "x", distractors: ["y"], objectIds: [],
 *   evidence: [{ quantity: "camera distance difference", value: 0.1, margin: 0.5 }],
 * }, rendered);
 * if (reason === null) throw new Error("a difference under its margin must be ambiguous");
 * ```
 */
export const ambiguityReason = (
  draft: QuestionDraft,
  rendered: RenderedScene,
  rule: VisibilityRule = DEFAULT_VISIBILITY,
): string | null => {
  const geometric = evidenceReason(draft);
  if (geometric !== null) return geometric;
  const { scene, truth } = rendered;
  for (const id of draft.objectIds) {
    const k = scene.objects.findIndex((o) => o.id === id);
    if (k < 0) return `${id} is not in the scene`;
    if (!isClear(truth[k]!, scene.width, scene.height, rule)) {
      return `${id} is heavily occluded or too small (visible fraction ${
        truth[k]!.visibleFraction.toFixed(2)
      }, ${truth[k]!.visiblePixels} pixels)`;
    }
  }
  return null;
};

/**
 * The checks that need no render: every evidence difference clears its margin (NaN never does),
 * there is a distractor, and no option repeats. Used alone for imported 2D scene graphs.
 */
export const evidenceReason = (draft: QuestionDraft): string | null => {
  for (const e of draft.evidence) {
    if (!(Math.abs(e.value) >= e.margin)) {
      return `${e.quantity} is ${e.value.toFixed(3)}, under the margin ${e.margin}`;
    }
  }
  const options = [draft.correct, ...draft.distractors];
  if (draft.distractors.length === 0) return "no distractor";
  if (new Set(options).size !== options.length) return "repeated option";
  return null;
};
