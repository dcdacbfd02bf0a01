/**
 * Greedy grounding evaluation: decode "Where is the red cube?" prompts and compare the box in each
 * answer with the object's true box — IoU, and the distance between centres beside that of a
 * baseline that always answers the image's centre (which a model that ignores the image cannot
 * beat by much).
 *
 * @module
 */
import { type Box, iou } from "../domain/box.ts";
import type { GroundingExample } from "../stages/grounding_examples.ts";
import type { ModelSetup } from "../stages/model_setup.ts";
import { greedyResponses } from "./greedy_eval.ts";

/** The first `[x1, y1, x2, y2]` of a response, or undefined. */
export const parseBox = (response: string): Box | undefined => {
  const m = /\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]/.exec(
    response,
  );
  if (m === null) return undefined;
  const box = [m[1], m[2], m[3], m[4]].map(Number) as unknown as Box;
  return box.every(Number.isFinite) ? box : undefined;
};

const centreDistance = (a: Box, b: Box): number =>
  Math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2);

const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** What `summarizeGrounding` reports. */
export interface GroundingSummary {
  readonly count: number;
  /** Share of answers holding a parsable box. */
  readonly parsed: number;
  /** Mean IoU with the true box (unparsable answers count 0). */
  readonly meanIou: number;
  /** Share of answers with IoU ≥ 0.5. */
  readonly iouAbove50: number;
  /** Median distance between the answer's and the true box's centres, pixels (parsed answers). */
  readonly medianCentreError: number;
  /** The same for a baseline that always answers the image's centre. */
  readonly medianCentreErrorOfImageCentre: number;
}

/** One answer: the true box, the image size and the box the model wrote (if any). */
export interface GroundingAnswer {
  readonly truth: Box;
  readonly width: number;
  readonly height: number;
  readonly predicted: Box | undefined;
}

/**
 * Scores grounding answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeGrounding } from "./grounding_eval.ts";
 * const s = summarizeGrounding([
 *   { truth: [0, 0, 10, 10], width: 100, height: 100, predicted: [0, 0, 10, 10] },
 *   { truth: [0, 0, 10, 10], width: 100, height: 100, predicted: undefined },
 * ]);
 * assert.deepEqual([s.parsed, s.meanIou, s.iouAbove50, s.medianCentreError], [0.5, 0.5, 0.5, 0]);
 * ```
 */
export const summarizeGrounding = (answers: ReadonlyArray<GroundingAnswer>): GroundingSummary => {
  const parsed = answers.filter((a) => a.predicted !== undefined);
  const ious = answers.map((a) => a.predicted === undefined ? 0 : iou(a.predicted, a.truth));
  const n = Math.max(1, answers.length);
  return {
    count: answers.length,
    parsed: parsed.length / n,
    meanIou: ious.reduce((s, x) => s + x, 0) / n,
    iouAbove50: ious.filter((x) => x >= 0.5).length / n,
    medianCentreError: median(parsed.map((a) => centreDistance(a.predicted!, a.truth))),
    medianCentreErrorOfImageCentre: median(
      answers.map((a) =>
        centreDistance([a.width / 2, a.height / 2, a.width / 2, a.height / 2], a.truth)
      ),
    ),
  };
};

/** Greedy answers to `examples`, `batchSize` prompts per generation call, scored. */
export const evaluateGrounding = async (
  setup: ModelSetup,
  examples: ReadonlyArray<GroundingExample>,
  options: { readonly batchSize: number; readonly seed: number },
): Promise<GroundingSummary> => {
  const responses = await greedyResponses(setup, examples, { ...options, maxNewTokens: 24 });
  const answers = examples.map((example, k): GroundingAnswer => ({
    truth: example.item.object.bbox,
    width: example.item.record.width,
    height: example.item.record.height,
    predicted: parseBox(responses[k]!),
  }));
  return summarizeGrounding(answers);
};
