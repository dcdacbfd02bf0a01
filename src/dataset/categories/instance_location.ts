/**
 * `instance_location` questions: where an object is in the image frame (a 3×3 grid, or the left or
 * right half), judged from the centre of its visible box.
 *
 * @module
 */
import {
  type CategoryGenerator,
  nameableObjects,
  objectName,
  type QuestionDraft,
} from "../question.ts";

/** Region names of the 3×3 grid, row-major from the top left. */
export const GRID_REGIONS = [
  "top left",
  "top center",
  "top right",
  "middle left",
  "center",
  "middle right",
  "bottom left",
  "bottom center",
  "bottom right",
] as const;

/** Box centres this close to a grid line (as a fraction of the image side) are ambiguous. */
const GRID_MARGIN = 0.04;
/** Box centres this close to the vertical midline are ambiguous for left/right-half questions. */
const HALF_MARGIN = 0.06;

/** Signed distance from `v` to the nearest of the lines at 1/3 and 2/3 of `side`. */
const gridLineDistance = (v: number, side: number): number =>
  Math.min(Math.abs(v - side / 3), Math.abs(v - 2 * side / 3));

/** Proposes grid-region and half-image questions for each nameable object. */
export const instanceLocationQuestions: CategoryGenerator = (context, rng) => {
  const { scene, truth } = context.rendered;
  const out: QuestionDraft[] = [];
  for (const k of nameableObjects(context)) {
    const o = scene.objects[k]!;
    const [x1, y1, x2, y2] = truth[k]!.bbox!;
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
    const { width: w, height: h } = scene;
    if (rng.next() < 0.8) {
      const col = Math.min(2, Math.floor(cx / (w / 3)));
      const row = Math.min(2, Math.floor(cy / (h / 3)));
      const region = GRID_REGIONS[row * 3 + col]!;
      out.push({
        category: "instance_location",
        question: rng.next() < 0.5
          ? `In which part of the image is the ${objectName(o)} located?`
          : `Where in the image is the ${objectName(o)}?`,
        correct: region,
        distractors: GRID_REGIONS.filter((r) => r !== region),
        objectIds: [o.id],
        evidence: [
          {
            quantity: "box centre to vertical grid line",
            value: gridLineDistance(cx, w) / w,
            margin: GRID_MARGIN,
          },
          {
            quantity: "box centre to horizontal grid line",
            value: gridLineDistance(cy, h) / h,
            margin: GRID_MARGIN,
          },
        ],
      });
    } else {
      const left = cx < w / 2;
      out.push({
        category: "instance_location",
        question: `Is the ${objectName(o)} in the left or the right half of the image?`,
        correct: left ? "left half" : "right half",
        distractors: [left ? "right half" : "left half"],
        objectIds: [o.id],
        evidence: [{
          quantity: "box centre to midline",
          value: (cx - w / 2) / w,
          margin: HALF_MARGIN,
        }],
      });
    }
  }
  return out;
};
