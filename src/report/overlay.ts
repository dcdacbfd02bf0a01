/**
 * Rollout images with boxes drawn over them: ground-truth boxes solid green, predicted boxes
 * dashed orange, each labelled with its (escaped) id. Built as SVG around the embedded image so
 * the same drawing serves the HTML report (as SVG) and PNG files (rasterised by resvg).
 *
 * @module
 */
import { escapeMarkup } from "./escape.ts";
import type { PixelBox, RolloutSample, SceneObject } from "./rollouts.ts";

/** Colours of the two box sets, shared with the dashboard legend. */
export const BOX_COLOURS = { groundTruth: "#1a9850", predicted: "#f46d43" } as const;

/** Longest side, in pixels, of a drawn rollout image (small scene renders are scaled up). */
export const OVERLAY_SIZE = 384;

/**
 * `box` in drawing coordinates: corners ordered, clamped to just outside the image (model boxes
 * can be anywhere), and scaled by `scale`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawableBox } from "./overlay.ts";
 * const b = drawableBox([30, 5, 10, 1e9], 40, 20, 2);
 * assert(b.x === 20 && b.y === 10 && b.width === 40 && b.height === 32);
 * ```
 */
export const drawableBox = (
  box: PixelBox,
  width: number,
  height: number,
  scale: number,
): { x: number; y: number; width: number; height: number } => {
  const margin = 1;
  const clamp = (v: number, max: number) => Math.min(Math.max(v, -margin), max + margin);
  const [x1, y1, x2, y2] = box;
  const left = clamp(Math.min(x1, x2), width);
  const right = clamp(Math.max(x1, x2), width);
  const top = clamp(Math.min(y1, y2), height);
  const bottom = clamp(Math.max(y1, y2), height);
  return {
    x: left * scale,
    y: top * scale,
    width: (right - left) * scale,
    height: (bottom - top) * scale,
  };
};

const boxMarkup = (
  objects: ReadonlyArray<SceneObject>,
  colour: string,
  dashed: boolean,
  labelBelow: boolean,
  width: number,
  height: number,
  scale: number,
): string =>
  objects.map((o) => {
    const b = drawableBox(o.bbox, width, height, scale);
    const labelY = labelBelow ? b.y + b.height + 13 : Math.max(b.y - 4, 11);
    const dash = dashed ? ` stroke-dasharray="6 3"` : "";
    return `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="none" ` +
      `stroke="${colour}" stroke-width="3"${dash}/>` +
      `<text x="${b.x + 2}" y="${labelY}" fill="${colour}" stroke="white" stroke-width="3" ` +
      `paint-order="stroke" font-family="DejaVu Sans" font-size="12" font-weight="bold">` +
      `${escapeMarkup(o.id)}</text>`;
  }).join("");

/**
 * An SVG document showing the rollout's image (from `imageHref`, e.g. a `data:` URI or a
 * relative URL) scaled so its longest side is `OVERLAY_SIZE`, with ground-truth boxes labelled
 * above and predicted boxes labelled below.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rolloutOverlaySvg } from "./overlay.ts";
 * const svg = rolloutOverlaySvg({
 *   image: { path: "a.png", width: 64, height: 48 },
 *   groundTruth: { objects: [{ id: "cube.1", bbox: [8, 20, 24, 36] }], relationships: [] },
 *   predicted: null,
 * }, "a.png");
 * assert(svg.startsWith("<svg") && svg.includes("cube.1"));
 * ```
 */
export const rolloutOverlaySvg = (
  sample: Pick<RolloutSample, "image" | "groundTruth" | "predicted">,
  imageHref: string,
): string => {
  const { width, height } = sample.image;
  const scale = OVERLAY_SIZE / Math.max(width, height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const gt = boxMarkup(
    sample.groundTruth.objects,
    BOX_COLOURS.groundTruth,
    false,
    false,
    width,
    height,
    scale,
  );
  const predicted = boxMarkup(
    sample.predicted?.objects ?? [],
    BOX_COLOURS.predicted,
    true,
    true,
    width,
    height,
    scale,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
    `<image href="${escapeMarkup(imageHref)}" xlink:href="${escapeMarkup(imageHref)}" ` +
    `x="0" y="0" width="${w}" height="${h}" preserveAspectRatio="none" ` +
    `image-rendering="optimizeSpeed"/>${gt}${predicted}</svg>`;
};
