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

/**
 * Windows of unequal lengths (the merged grid is not a multiple of the window side): windowed
 * blocks attend in a padded layout of `longest` rows per window, keys past each window's length
 * masked.
 */
export interface RaggedWindows {
  /** Patches in the longest window. */
  readonly longest: number;
  /** [images·patches] row of each windowed patch in the padded [images·windows·longest] layout. */
  readonly paddedRows: Uint32Array<ArrayBuffer>;
  /** [images·windows] patches in each window. */
  readonly keyLengths: Uint32Array<ArrayBuffer>;
}

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
  /** Present when the windows differ in length. */
  readonly ragged?: RaggedWindows;
}

/** Why a vision batch cannot be run. */
export class VisionLayoutError extends RangeError {
  override readonly name = "VisionLayoutError";
}

/**
 * The padded layout of windows with these patch counts (`cu` = cumulative counts of one image,
 * starting at 0), repeated for each image; undefined when every window has the same length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { raggedWindows } from "./vision_inputs.ts";
 * const r = raggedWindows(Int32Array.from([0, 4, 6]), 1)!;
 * assert(r.longest === 4 && r.paddedRows[4] === 4 && r.keyLengths[1] === 2);
 * ```
 */
export const raggedWindows = (cu: Int32Array, images: number): RaggedWindows | undefined => {
  const windows = cu.length - 1;
  const lengths = Array.from({ length: windows }, (_, w) => cu[w + 1]! - cu[w]!);
  const longest = Math.max(...lengths);
  if (lengths.every((n) => n === longest)) return undefined;
  const patches = cu[windows]!;
  const paddedRows = new Uint32Array(images * patches);
  const keyLengths = new Uint32Array(images * windows);
  for (let i = 0; i < images; i++) {
    for (let w = 0; w < windows; w++) {
      keyLengths[i * windows + w] = lengths[w]!;
      for (let j = cu[w]!; j < cu[w + 1]!; j++) {
        paddedRows[i * patches + j] = (i * windows + w) * longest + (j - cu[w]!);
      }
    }
  }
  return { longest, paddedRows, keyLengths };
};

/**
 * Window-orders the patches and the 2-D rotary table of same-sized images; windows of unequal
 * length (any grid that is not a multiple of the window side) get a `ragged` padded layout.
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
  const ragged = raggedWindows(windows.cuWindowSeqlens, images.length);
  return {
    images: images.length,
    patches,
    windows: windows.cuWindowSeqlens.length - 1,
    pixels,
    rotary: visionRotaryTable(rows, cols, v.hidden_size / v.num_heads),
    order: windows.order,
    ...(ragged === undefined ? {} : { ragged }),
  };
};
