/**
 * Position bookkeeping of Qwen2.5-VL: the 3-D M-RoPE position ids that `get_rope_index` assigns
 * to images and text, the vision tower's 2-D rotary positions, and the window-attention
 * permutation (`get_window_index`) with its inverse.
 *
 * @module
 */

/** Patches along time, height and width of one image (`image_grid_thw`). */
export type Grid = readonly [number, number, number];

/** M-RoPE positions of a sequence: `ids` is [3, T] (t, h, w rows), `delta` = max + 1 − T. */
export interface MropePositions {
  readonly ids: Int32Array;
  readonly delta: number;
}

/**
 * Position ids for a token sequence with images: text runs count up on all three axes; an image's
 * tokens get t = 0 (still images), h = row and w = column of the merged grid, offset by the
 * position where the image starts; text after an image continues from the image's max + 1.
 *
 * @param tokens the token ids [T]
 * @param imagePadId the `<|image_pad|>` id; each image is one contiguous run of it
 * @param grids one grid per image, in order
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mropePositions } from "./positions.ts";
 * // 2 text tokens, an image of 1×4×4 patches (4 merged tokens, id 9), 1 text token.
 * const { ids, delta } = mropePositions([1, 2, 9, 9, 9, 9, 3], 9, [[1, 4, 4]], 2);
 * assert(ids.slice(0, 7).join() === "0,1,2,2,2,2,4"); // temporal row
 * assert(ids.slice(7, 14).join() === "0,1,2,2,3,3,4"); // height row
 * assert(delta === 5 - 7);
 * ```
 */
export const mropePositions = (
  tokens: ArrayLike<number>,
  imagePadId: number,
  grids: ReadonlyArray<Grid>,
  mergeSize: number,
): MropePositions => {
  const T = tokens.length;
  const ids = new Int32Array(3 * T);
  const set = (i: number, t: number, h: number, w: number) => {
    ids[i] = t;
    ids[T + i] = h;
    ids[2 * T + i] = w;
  };
  let next = 0; // next free position
  let image = 0;
  let i = 0;
  while (i < T) {
    if (tokens[i] !== imagePadId) {
      set(i, next, next, next);
      next++;
      i++;
      continue;
    }
    const grid = grids[image++];
    if (grid === undefined) {
      throw new RangeError(`mropePositions: more image runs than the ${grids.length} grids given`);
    }
    const [gt, gh, gw] = grid;
    const h = gh / mergeSize;
    const w = gw / mergeSize;
    const count = gt * h * w;
    let max = next;
    for (let k = 0; k < count; k++) {
      if (tokens[i + k] !== imagePadId) {
        throw new RangeError(`mropePositions: image ${image - 1} needs ${count} pad tokens`);
      }
      const t = Math.floor(k / (h * w));
      const row = Math.floor((k % (h * w)) / w);
      const col = k % w;
      // Still images: temporal index 0 for every frame (second_per_grid_t = 0).
      set(i + k, next + 0 * t, next + row, next + col);
      max = Math.max(max, next + row, next + col);
    }
    next = max + 1;
    i += count;
  }
  if (image !== grids.length) {
    throw new RangeError(
      `mropePositions: ${grids.length} grids given but ${image} image runs found`,
    );
  }
  return { ids, delta: next - T };
};

/**
 * The vision tower's rotary positions: (row, col) of each patch, in the patch order of the
 * processor (2×2 merge groups contiguous). Returns [N, 2] as a flat array.
 */
export const visionRotaryPositions = (grid: Grid, mergeSize: number): Int32Array => {
  const [gt, gh, gw] = grid;
  const out = new Int32Array(gt * gh * gw * 2);
  let k = 0;
  for (let t = 0; t < gt; t++) {
    for (let bh = 0; bh < gh / mergeSize; bh++) {
      for (let bw = 0; bw < gw / mergeSize; bw++) {
        for (let mh = 0; mh < mergeSize; mh++) {
          for (let mw = 0; mw < mergeSize; mw++) {
            out[k++] = bh * mergeSize + mh;
            out[k++] = bw * mergeSize + mw;
          }
        }
      }
    }
  }
  return out;
};

/** Window attention layout of one image's merged tokens. */
export interface WindowIndex {
  /** Merged-token permutation: position j of the windowed order holds merged token `order[j]`. */
  readonly order: Int32Array;
  /** Its inverse (`argsort(order)`), to undo the permutation after the merger. */
  readonly inverse: Int32Array;
  /** Cumulative patch counts at window boundaries, starting with 0 (`cu_window_seqlens`). */
  readonly cuWindowSeqlens: Int32Array;
}

/**
 * Windows of `windowSize / mergeSize / patchSize` merged tokens per side, visited row-major;
 * tokens row-major inside a window; the merged grid is padded bottom/right and pads are dropped.
 */
export const windowIndex = (
  grid: Grid,
  windowSize: number,
  mergeSize: number,
  patchSize: number,
): WindowIndex => {
  const [gt, gh, gw] = grid;
  const side = Math.floor(windowSize / mergeSize / patchSize);
  const h = gh / mergeSize;
  const w = gw / mergeSize;
  const windowsH = Math.ceil(h / side);
  const windowsW = Math.ceil(w / side);
  const order: number[] = [];
  const cu: number[] = [0];
  const unit = mergeSize * mergeSize;
  for (let t = 0; t < gt; t++) {
    for (let wh = 0; wh < windowsH; wh++) {
      for (let ww = 0; ww < windowsW; ww++) {
        let count = 0;
        for (let r = wh * side; r < Math.min(h, (wh + 1) * side); r++) {
          for (let c = ww * side; c < Math.min(w, (ww + 1) * side); c++) {
            order.push(t * h * w + r * w + c);
            count++;
          }
        }
        // unique_consecutive: an empty window adds no boundary.
        if (count > 0) cu.push(cu.at(-1)! + count * unit);
      }
    }
  }
  const inverse = new Int32Array(order.length);
  order.forEach((token, j) => (inverse[token] = j));
  return { order: Int32Array.from(order), inverse, cuWindowSeqlens: Int32Array.from(cu) };
};
