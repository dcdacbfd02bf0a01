/**
 * Host-side preparation of a vision batch: patches and the 2-D rotary table put into the
 * window-attention order, once per batch.
 *
 * @module
 */
import { visionRotaryTable } from "../gpu/ops/rope_tables.ts";
import type { Qwen25VLConfig } from "./config.ts";
import type { ProcessedImage } from "./image_processor.ts";
import { visionRotaryPositions, windowIndex } from "./positions.ts";

/** A vision batch ready for upload, rows in window order. */
export interface VisionInputs {
  readonly images: number;
  readonly patches: number;
  readonly windows: number;
  /** [images·patches, C·t·p²] pixel rows in window order. */
  readonly pixels: Float32Array<ArrayBuffer>;
  /** [patches, head_dim / 2, 2] rotary table of one image (the same for every image). */
  readonly rotary: Float32Array<ArrayBuffer>;
  /** Merged-token window order of one image (`order[j]` = raster index of windowed token j). */
  readonly order: Int32Array;
}

/** Why a vision batch cannot be run. */
export class VisionLayoutError extends RangeError {
  override readonly name = "VisionLayoutError";
}

/**
 * Window-orders the patches and the 2-D rotary table of same-sized images. Windows must all have
 * the same length (true whenever the merged grid's sides are multiples of the window side, or one
 * window covers the image).
 */
export const visionInputs = (
  config: Qwen25VLConfig,
  images: ReadonlyArray<ProcessedImage>,
): VisionInputs => {
  const v = config.vision_config;
  const first = images[0];
  if (first === undefined) throw new VisionLayoutError("visionInputs: no images");
  const grid = first.grid;
  const unit = v.spatial_merge_size ** 2;
  const patches = grid[0] * grid[1] * grid[2];
  const patchDim = first.pixelValues.length / patches;
  const windows = windowIndex(grid, v.window_size, v.spatial_merge_size, v.patch_size);
  const sizes = new Set<number>();
  for (let i = 1; i < windows.cuWindowSeqlens.length; i++) {
    sizes.add(windows.cuWindowSeqlens[i]! - windows.cuWindowSeqlens[i - 1]!);
  }
  if (sizes.size !== 1) {
    throw new VisionLayoutError(
      `windows of unequal lengths (${[...sizes].join(", ")} patches) for grid ` +
        `${grid.join("×")}; resize images so the merged grid is a multiple of the window side`,
    );
  }
  // Patch index (raster, 2×2-merge order) of each windowed row.
  const source = new Int32Array(patches);
  windows.order.forEach((token, j) => {
    for (let u = 0; u < unit; u++) source[j * unit + u] = token * unit + u;
  });
  const raster = visionRotaryPositions(grid, v.spatial_merge_size);
  const rows = Array.from(source, (p) => raster[2 * p]!);
  const cols = Array.from(source, (p) => raster[2 * p + 1]!);
  const pixels = new Float32Array(images.length * patches * patchDim);
  images.forEach((image, i) => {
    if (image.grid.join() !== grid.join()) {
      throw new VisionLayoutError(`grids ${grid} and ${image.grid} in one batch`);
    }
    source.forEach((p, j) => {
      pixels.set(
        image.pixelValues.subarray(p * patchDim, (p + 1) * patchDim),
        (i * patches + j) * patchDim,
      );
    });
  });
  return {
    images: images.length,
    patches,
    windows: windows.cuWindowSeqlens.length - 1,
    pixels,
    rotary: visionRotaryTable(rows, cols, v.hidden_size / v.num_heads),
    order: windows.order,
  };
};
