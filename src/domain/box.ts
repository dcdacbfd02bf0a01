/**
 * Axis-aligned boxes `[x1, y1, x2, y2]` and the overlap measures of the SpatialThinker reward
 * (`verl/utils/reward_score/spatial_sgg.py`), reproduced operation for operation so that scores
 * agree with the official Python to the last bit where the inputs do.
 *
 * @module
 */
import { Schema } from "effect";

/**
 * A box `[x1, y1, x2, y2]`: exactly four finite numbers. Scene graphs hold pixel coordinates of the
 * original image; the reward divides them by the image size. The corner order is not checked,
 * because the official reward does not check it either (see {@link mappedCiou} for the effect of
 * an inverted box).
 */
export const Box = Schema.Tuple([Schema.Finite, Schema.Finite, Schema.Finite, Schema.Finite]);
/** `readonly [x1, y1, x2, y2]`. */
export type Box = typeof Box.Type;

/** `eps` of the official CIoU, added to the union and to the squared enclosing diagonal. */
export const CIOU_EPS = 1e-7;

/**
 * Divides a pixel box by the image size: `[x1/W, y1/H, x2/W, y2/H]`. Multiplies by the reciprocal
 * like the official `scale_box`, so results match it bit for bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseBox } from "./box.ts";
 * assert.deepEqual(normaliseBox([10, 20, 40, 40], 100, 200), [0.1, 0.1, 0.4, 0.2]);
 * ```
 */
export const normaliseBox = (box: Box, width: number, height: number): Box => {
  const sw = 1 / width;
  const sh = 1 / height;
  return [box[0] * sw, box[1] * sh, box[2] * sw, box[3] * sh];
};

/**
 * Plain intersection over union (the official `compute_iou`, used by the strict variant);
 * 0 when the union is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iou } from "./box.ts";
 * assert.equal(iou([0, 0, 2, 2], [1, 0, 3, 2]), 1 / 3);
 * ```
 */
export const iou = (a: Box, b: Box): number => {
  const inter = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) *
    Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union === 0 ? 0 : inter / union;
};

/**
 * Complete IoU mapped to `(CIoU + 1) / 2`, exactly as the official `compute_ciou`:
 * `CIoU = IoU − ρ²/(c² + eps) − α·v`, `v = 4/π²·(atan(w_b/(h_b+eps)) − atan(w_a/(h_a+eps)))²`,
 * `α = v / ((1 − IoU) + v)` (0 when that is 0), union and `c²` padded by {@link CIOU_EPS}.
 *
 * Range: 1 for identical boxes; down to about −0.25 (not 0) for ordered boxes
 * (`x1 ≤ x2`, `y1 ≤ y2`), since CIoU reaches −1.5. Widths are not clamped, so an inverted box can
 * score far below −0.25, as in the official code. Symmetric in its arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mappedCiou } from "./box.ts";
 * assert.ok(Math.abs(mappedCiou([0.1, 0.1, 0.5, 0.5], [0.1, 0.1, 0.5, 0.5]) - 1) < 1e-6);
 * ```
 */
export const mappedCiou = (a: Box, b: Box): number => {
  const wA = a[2] - a[0];
  const hA = a[3] - a[1];
  const wB = b[2] - b[0];
  const hB = b[3] - b[1];
  const interW = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const interH = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = interW * interH;
  const overlap = inter / (wA * hA + wB * hB - inter + CIOU_EPS);
  const centreDistanceSq = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 +
    ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2;
  const encloseDiagonalSq = (Math.max(a[2], b[2]) - Math.min(a[0], b[0])) ** 2 +
    (Math.max(a[3], b[3]) - Math.min(a[1], b[1])) ** 2 + CIOU_EPS;
  const v = (4 / Math.PI ** 2) *
    (Math.atan(wB / (hB + CIOU_EPS)) - Math.atan(wA / (hA + CIOU_EPS))) ** 2;
  const withV = 1 - overlap + v;
  const alpha = withV !== 0 ? v / withV : 0;
  const ciou = overlap - (centreDistanceSq / encloseDiagonalSq + alpha * v);
  return (ciou + 1) / 2;
};

/**
 * Sum of absolute coordinate differences (the official `box_L1`, used by the strict variant).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l1Distance } from "./box.ts";
 * assert.equal(l1Distance([0, 0, 1, 1], [0.5, 0, 1, 2]), 1.5);
 * ```
 */
export const l1Distance = (a: Box, b: Box): number =>
  Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) + Math.abs(a[3] - b[3]);
